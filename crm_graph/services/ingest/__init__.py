"""The ingestion pipeline: normalised records in, idempotent set-based upserts out.

`ingest_records(session, store, records)` writes one batch inside the caller's transaction: products,
customers, orders (with lines and refunds), consents, tags, activity, spend, then deletions, each
kind with a handful of statements per batch (look-up of what exists, multi-row insert, executemany
update of what changed, COPY of order lines on PostgreSQL). Afterwards the lifetime figures and
`last_activity_at` of the customers the batch touched are recomputed in SQL. Every record is counted
as created, updated, unchanged, deleted or rejected; the same batch applied twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session

from crm_graph.connectors.records import DEMO_SOURCE, Record, RecordError
from crm_graph.db import analyze_tables, begin_writing
from crm_graph.errors import UserError
from crm_graph.models import Store
from crm_graph.services.customer_stats import refresh_customer_stats
from crm_graph.services.ingest._common import StepResult
from crm_graph.services.ingest.activity import refresh_activity
from crm_graph.services.ingest.customers import CustomerResolver, upsert_customers
from crm_graph.services.ingest.deletions import apply_deletions
from crm_graph.services.ingest.events import ingest_activity, ingest_consents, ingest_spend
from crm_graph.services.ingest.orders import upsert_orders, upsert_products
from crm_graph.services.ingest.tags import ingest_tags

#: The order in which kinds are written: whatever a record refers to is written before it.
KIND_ORDER = ("product", "customer", "order", "consent", "tag", "activity", "spend", "deletion")

COUNT_KEYS = ("created", "updated", "unchanged", "deleted", "rejected")


@dataclass
class IngestResult:
    """The outcome of a batch: counts by outcome and the rejected records with reasons."""

    counts: Counter = field(default_factory=Counter)
    errors: list[RecordError] = field(default_factory=list)


def _channel_for(store: Store):
    from crm_graph.plugins import get_plugin_manager

    hook = get_plugin_manager().hook.acquisition_channel_for_order
    return lambda order: hook(order=order, store=store)


#: Tables whose planner statistics a bulk load makes stale.
_ANALYZED = "customer, customer_identity, orders, order_line, refund, product, consent_event"

#: Of those, the tables a batch of each kind writes or matches against: a batch of consents, tags or
#: activity does not analyze the (often much larger) order tables, a batch of spend nothing.
_ANALYZED_BY_KIND = {
    "product": _ANALYZED, "order": _ANALYZED, "deletion": _ANALYZED,
    "customer": "customer, customer_identity, consent_event", "consent": "customer, customer_identity, consent_event",
    "tag": "customer, customer_identity", "activity": "customer, customer_identity", "spend": "",
}


#: The columns whose statistics steer the ingestion's look-ups and the consent triggers, of the tables
#: where the others (names, addresses, figures: most of a customer row) would cost most of the ANALYZE;
#: autovacuum keeps those.
_ANALYZED_COLUMNS = {
    "customer": "id, store_id, email, phone, erased_at",
    "customer_identity": "store_id, source, external_id, customer_id",
    "consent_event": "store_id, customer_id, channel, occurred_at, state",
}


def _analyzed(kinds) -> list[str]:
    """The tables to analyze after a batch of records of `kinds` (in `_ANALYZED`'s order)."""
    wanted = {name.strip() for kind in kinds for name in _ANALYZED_BY_KIND.get(kind, _ANALYZED).split(",")}
    return [name for name in _ANALYZED.split(", ") if name in wanted]


class AnalyzePolicy:
    """When a long load should refresh the planner's statistics: on its first batch, then each time
    the number of records it wrote doubles (a dozen times for millions of rows).

    Right after a bulk load the planner believes the store's rows are few and picks nested loops
    that take seconds per batch; ANALYZE inside the batch's transaction sees the new rows.
    """

    def __init__(self) -> None:
        self.written = 0
        self.next_at = 0

    def due(self, records: int) -> bool:
        """Whether the batch about to be written (of `records` records) should analyze."""
        due = self.written >= self.next_at
        self.written += records
        if due:
            self.next_at = max(1, self.written) * 2
        return due


def ingest_records(session: Session, store: Store, records: Iterable[Record], *, source: str,
                   analyze: bool = False) -> IngestResult:
    """Write a batch of records of one `source` for `store` in the session's transaction (no commit).

    `analyze` refreshes the planner's statistics of the tables the batch wrote, before the derived
    figures are computed (see `AnalyzePolicy`, `crm_graph.db.analyze_tables`). The generator's source (``demo``) is refused: generated
    rows are never matched or overwritten by a connector or an import.
    """
    if source == DEMO_SOURCE:
        raise UserError(f"The source {DEMO_SOURCE!r} is reserved for generated data; a connector or import "
                        "needs a name of its own.")
    begin_writing(session)  # the batch matches against what is stored, then writes
    by_kind: dict[str, list] = {}
    for record in records:
        by_kind.setdefault(record.kind, []).append(record)
    unknown = set(by_kind) - set(KIND_ORDER)
    outcome = StepResult()
    for kind in unknown:
        for record in by_kind.pop(kind):
            outcome.reject(type(record).__name__, f"unknown record kind {kind!r}")
    resolver = CustomerResolver(session, store, source)
    for kind in KIND_ORDER:
        batch = by_kind.get(kind)
        if not batch:
            continue
        if kind == "product":
            step = upsert_products(session, store, source, batch)
        elif kind == "customer":
            step = upsert_customers(session, store, source, batch, by_kind.get("consent", ()))
        elif kind == "order":
            step = upsert_orders(session, store, source, batch, resolver, _channel_for(store))
        elif kind == "consent":
            step = ingest_consents(session, store, source, batch, resolver)
        elif kind == "tag":
            step = ingest_tags(session, store, source, batch, resolver)
        elif kind == "activity":
            step = ingest_activity(session, store, source, batch, resolver)
        elif kind == "spend":
            step = ingest_spend(session, store, batch)
        else:
            step = apply_deletions(session, store, source, batch)
        outcome.merge(step)
    tables = _analyzed(by_kind)
    if analyze:
        analyze_tables(session, tables, _ANALYZED_COLUMNS)
    if outcome.touched_customers:
        refresh_customer_stats(session, store, outcome.touched_customers)
    if outcome.activity_customers or outcome.touched_customers:
        refresh_activity(session, store, outcome.activity_customers | outcome.touched_customers)
    return IngestResult(counts=outcome.counts, errors=outcome.errors)


__all__ = ["COUNT_KEYS", "AnalyzePolicy", "IngestResult", "ingest_records"]
