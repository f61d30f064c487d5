"""The plugin adapter: registers the CSV kinds and header mappings through crm-graph's hooks."""

from crm_graph.hookspecs import hookimpl
from crm_graph_csv.kinds import KINDS
from crm_graph_csv.mappings import MAPPINGS


@hookimpl
def register_csv_kinds():
    """customers, orders, consents, tags, activity, marketing_spend."""
    return list(KINDS)


@hookimpl
def register_csv_mappings():
    """Ready mappings for other tools' exports: Shopify, WooCommerce, Mailchimp and crm-graph's own export."""
    return list(MAPPINGS)
