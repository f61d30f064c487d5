"""Every extension point of crm-graph, one hook spec each.

Names follow three families: ``register_*`` hooks return a list and every plugin's lists are
joined; ``*_for_*`` hooks are first-result look-ups (the first plugin that returns something other
than None wins; plugins registered later are asked first); past-tense hooks are notifications whose
return value is ignored. An implementation may accept fewer arguments than the spec names, so that
a hook can gain arguments without breaking plugins. Each hook is documented in docs/plugin_hooks.md.
"""

from __future__ import annotations

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("crm_graph")
hookimpl = HookimplMarker("crm_graph")


@hookspec
def register_connectors():
    """Return a list of `crm_graph.connectors.Connector` subclasses this plugin provides.

    Each class's `name` (``woocommerce``) is what a store registers and the `source` of the records
    the connector yields; two plugins must not register the same name.
    """


@hookspec
def register_csv_kinds():
    """Return a list of `crm_graph.connectors.csv.CsvKind`: CSV formats `import-csv --kind` accepts.

    A kind has a documented header (its `columns`) and a `read(path, mapping, context)` function that
    streams the file and yields records and row errors.
    """


@hookspec
def register_csv_mappings():
    """Return a list of `crm_graph.connectors.csv.CsvMapping`: named header mappings for foreign files.

    A mapping turns another tool's export header (e.g. Shopify's customer export) into the columns of
    one of our kinds, possibly transforming values; ``import-csv --mapping NAME`` applies it and
    ``--mapping auto`` picks it by its `signature` columns.
    """


@hookspec
def register_metrics():
    """Return a list of `crm_graph.services.analytics.contract.Metric`: analytics figures this plugin provides.

    A metric names its arguments and its live computation, and optionally a stored form (rows per
    day, or grids per preset range) with how stored values are read and brought forward. Every
    registered metric is answered by `crm_graph.services.analytics.runner.answer`; the precompute
    job writes the stored form of each one that has it. The built-in figures are registered by the
    core through this hook; two plugins must not register the same name. docs/analytics.md has a
    worked example.
    """


@hookspec(firstresult=True)
def acquisition_channel_for_order(order, store):
    """Return the acquisition channel (``google / cpc``, ``newsletter``, ``direct``) of an order, or None.

    First result wins. The core default returns the channel the connector put on the record; a plugin
    can derive it otherwise (UTM fields of a landing page, a referring site).

    :param order: the `OrderRecord` about to be stored.
    :param store: the `Store` it belongs to.
    """


@hookspec
def records_ingested(store_id, source, counts):
    """Called after a batch of records was committed; the return value is ignored.

    :param store_id: the store's id.
    :param source: the connector name (``csv``, ``woocommerce``...).
    :param counts: a dict of created / updated / unchanged / deleted / rejected counts of the batch.
    """


@hookspec
def sync_finished(store_id, connector, summary):
    """Called when a connector sync of a store has finished (successfully); the return value is ignored.

    :param store_id: the store's id.
    :param connector: the connector name.
    :param summary: the `SyncSummary` (counts, errors, cursors).
    """


@hookspec
def csv_imported(store_id, kind, summary):
    """Called when a CSV import has finished; the return value is ignored.

    :param store_id: the store's id.
    :param kind: the CSV kind (``customers``, ``orders``...).
    :param summary: the `ImportSummary` (counts, errors).
    """
