"""The bulk CSV import on PostgreSQL: the file is COPYed into a staging table and imported in SQL.

The record-by-record import (`crm_graph.services.csv_import`) parses every row into records in
Python and upserts them in batches; that costs about 300 µs a row. Here Python only reads the file
with the kind's own reader and streams the rows to the server with COPY (constant memory); the
validation, customer matching, upserts and the customers' derived figures are a few set-based
statements in one transaction. The outcome is the same database state, the same counts and the
same rejects report (see `orders` for what "the same" covers). Only orders have this path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import BinaryIO

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from crm_graph.connectors.csv import CsvContext, CsvKind
from crm_graph.connectors.records import RecordError
from crm_graph.models import Store
from crm_graph.services.csv_bulk.orders import LAYOUT, rejects, upsert_staged_orders
from crm_graph.services.csv_bulk.staging import copy_rows, create_stage
from crm_graph.services.customer_stats import refresh_customer_stats
from crm_graph.services.ingest.activity import refresh_activity

log = logging.getLogger(__name__)

#: Kinds that have a bulk path.
BULK_KINDS = ("orders",)

#: Memory for temporary tables of the importing backend.
_TEMP_BUFFERS = "256MB"

#: From this many orders (or new customers) written on, the planner's statistics of the tables they
#: went into are refreshed before the derived figures.
_ANALYZE_FROM = 1000

#: The order tables' columns that queries select, join or group by. Statistics of the others (ids from
#: the file, names, amounts) would cost most of the ANALYZE and steer no plan; autovacuum keeps them.
_ORDER_STATISTICS = ("orders (store_id, customer_id, placed_at, status, channel, source), "
                     "order_line (store_id, order_id, product_id), refund (store_id, order_id, refunded_at)")


def bulk_possible(engine: Engine, kind: CsvKind) -> bool:
    """Whether `kind` can be imported in bulk into `engine`'s database.

    Needs PostgreSQL, a kind with a bulk path that offers its raw rows, and no plugin deriving order
    channels (the `acquisition_channel_for_order` hook looks at each record, which this path never builds).
    """
    from crm_graph.plugins import get_plugin_manager

    if engine.dialect.name != "postgresql" or kind.name not in BULK_KINDS or kind.rows is None:
        return False
    implementations = get_plugin_manager().hook.acquisition_channel_for_order.get_hookimpls()
    return all(impl.plugin_name == "crm_graph.default_hooks" or getattr(impl.plugin, "__name__", "") ==
               "crm_graph.default_hooks" for impl in implementations)


def import_bulk(engine: Engine, store: Store, kind: CsvKind, stream: BinaryIO, mapping: Mapping[str, str],
                context: CsvContext, reject: Callable[[RecordError], None],
                progress: Callable[[], None] | None = None) -> tuple[dict[str, int], int]:
    """Import the CSV `stream` of `kind` in one transaction; returns the counts and the rows read.

    Each bad row goes to `reject` in line order; `progress` is called as the file is read.
    """
    with engine.connect() as connection, Session(bind=connection, expire_on_commit=False) as session:
        _temp_buffers(connection)
        started = time.perf_counter()
        create_stage(session, [column.name for column in kind.columns], LAYOUT)
        read = copy_rows(session, kind, stream, mapping, progress, LAYOUT)
        log.debug("%.2f s: read and COPY %d rows into the staging table", time.perf_counter() - started, read)
        outcome = upsert_staged_orders(session, store.id, context.source, context.timezone, context.currency,
                                       kind.choices.get("status", {}))
        rejected = 0
        for line, order_id, reason, column, value in rejects(session):
            if reason is None:
                reason = kind.cell_error(column, value, context) if kind.cell_error else None
                reason = reason or f"{column} {value!r} is not accepted"
            reject(RecordError(line, f"order {order_id}" if order_id is not None else None, reason))
            rejected += 1
        started = time.perf_counter()
        if outcome.created + outcome.updated >= _ANALYZE_FROM:
            tables = _ORDER_STATISTICS
            if outcome.new_customers >= _ANALYZE_FROM:
                tables += ", customer, customer_identity"
            session.execute(text(f"ANALYZE {tables}"))
        log.debug("%.2f s: ANALYZE", time.perf_counter() - started)
        started = time.perf_counter()
        if outcome.touched_customers:
            refresh_customer_stats(session, store, outcome.touched_customers)
            refresh_activity(session, store, outcome.touched_customers)
        log.debug("%.2f s: figures of %d customers", time.perf_counter() - started, len(outcome.touched_customers))
        started = time.perf_counter()
        session.commit()
        log.debug("%.2f s: commit", time.perf_counter() - started)
    counts = {"created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged,
              "deleted": 0, "rejected": rejected}
    return counts, read


def _temp_buffers(connection) -> None:
    """Room for the staging tables in the backend's memory: with the default 8 MB every statement
    writes them out and reads them back. PostgreSQL takes the setting only before the session first
    uses a temporary table; a pooled connection that did already keeps what it was given then."""
    try:
        connection.exec_driver_sql(f"SET temp_buffers = '{_TEMP_BUFFERS}'")
        connection.commit()
    except DBAPIError:
        connection.rollback()


__all__ = ["BULK_KINDS", "bulk_possible", "import_bulk"]
