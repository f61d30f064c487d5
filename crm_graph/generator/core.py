"""`generate_store`: fill an empty store with a deterministic, realistic generated data set.

Customers are generated and loaded in chunks, so memory stays bounded at a million customers; all
chunks are written in one transaction, so a failure leaves the store as it was. Lifetime figures
(`orders_count`, `total_spent`, first and last order, `last_activity_at`) are computed while
generating, with the same rules as `services.customer_stats`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Engine

from crm_graph.db import analyze_tables
from crm_graph.errors import UserError
from crm_graph.generator import bulk
from crm_graph.generator.activity import draw_activity, draw_tags
from crm_graph.generator.calendar import Window, make_window
from crm_graph.generator.catalog import draw_catalog, spend_rows, tag_rows
from crm_graph.generator.consent import draw_consents
from crm_graph.generator.loaders import (
    NULL_TS, Chunk, PostgresIds, PostgresLoader, SqliteIds, SqliteLoader,
)
from crm_graph.generator.orders import PLATFORM, Orders, draw_orders
from crm_graph.generator.people import People, draw_people
from crm_graph.models import Store

MIN_CUSTOMERS, MAX_CUSTOMERS = 1, 1_000_000
#: Customers generated and written together; part of the definition of a seed's data set.
CHUNK = 50_000
#: Tables in the order their rows are written (references first), as the summary lists them.
TABLES = ("customer", "customer_identity", "product", "orders", "order_line", "refund", "consent_event",
          "activity_event", "tag", "customer_tag", "marketing_spend")

Progress = Callable[[str, int, int], None]


@dataclass
class GenerationSummary:
    """What `generate_store` wrote: rows per table and how long it took."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    seconds: float = 0.0
    #: PostgreSQL: seconds the database spent on each table's COPY (for benchmarks).
    load_seconds: dict[str, float] = field(default_factory=dict)
    #: Seconds of each phase: generate and load, rebuild indexes, commit, analyse.
    phases: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        c = self.counts
        return (f"{c['customer']:,} customers, {c['orders']:,} orders, {c['order_line']:,} order lines, "
                f"{c['refund']:,} refunds, {c['consent_event']:,} consent events, "
                f"{c['activity_event']:,} activity events, {c['customer_tag']:,} tags on customers, "
                f"{c['product']:,} products in {self.seconds:.1f} s")


def check_size(customers: int) -> None:
    """Raise a `UserError` unless `customers` is a whole number from 1 to 1,000,000."""
    if isinstance(customers, bool) or not isinstance(customers, int) or not (
        MIN_CUSTOMERS <= customers <= MAX_CUSTOMERS
    ):
        raise UserError(
            f"customers must be a whole number from {MIN_CUSTOMERS:,} to {MAX_CUSTOMERS:,}, not {customers!r}; "
            "pick a size such as --customers 10000."
        )


def generate_store(engine: Engine, store: Store, *, customers: int, seed: int = 42,
                   progress: Progress | None = None, anchor: date | None = None) -> GenerationSummary:
    """Fill the empty `store` with `customers` generated customers and their history.

    The data covers the two years of local days before `anchor` (default: the store's today);
    the same seed and anchor give the same data. `progress(stage, done, total)` is called as
    each chunk is drawn and every few thousand rows it writes (often enough for a bar to move
    several times a second), then per index rebuilt and table analysed. Raises `UserError` for a size outside 1..1,000,000, a negative seed or a
    store that already has customers, before anything is written.
    """
    check_size(customers)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserError(f"seed must be a whole number of 0 or more, not {seed!r}.")
    started = time.perf_counter()
    anchor = anchor or datetime.now(store.tz).date()
    window = make_window(store.timezone, anchor)
    summary = GenerationSummary()
    postgres = engine.dialect.name == "postgresql"
    report = progress or (lambda stage, done, total: None)

    with engine.begin() as connection:
        has_customers = connection.execute(
            text("SELECT 1 FROM customer WHERE store_id = :store LIMIT 1"), {"store": store.id}
        ).first()
        if has_customers:
            raise UserError(
                f"Store {store.slug!r} already has customers; generate into a new, empty store "
                "(crm-graph stores create <slug>)."
            )
        ids = PostgresIds(engine, connection, TABLES) if postgres else SqliteIds(connection)
        rebuild = bulk.prepare(connection, customers) if postgres else []
        loader = PostgresLoader(connection) if postgres else SqliteLoader(connection)
        try:
            _generate(loader, ids, window, store, customers, seed, summary, report)
        finally:
            ids.close()
            loader.finish()
        summary.load_seconds = dict(getattr(loader, "seconds", {}))
        summary.phases["generate and load"] = time.perf_counter() - started
        mark = time.perf_counter()
        bulk.restore(connection, rebuild, report)
        summary.phases["rebuild indexes"] = time.perf_counter() - mark
        mark = time.perf_counter()
    summary.phases["commit"] = time.perf_counter() - mark
    mark = time.perf_counter()
    report("Analysing tables", 0, len(TABLES))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for done, table in enumerate(TABLES, 1):
            analyze_tables(connection, [table])
            report("Analysing tables", done, len(TABLES))
    summary.phases["analyse"] = time.perf_counter() - mark
    summary.seconds = time.perf_counter() - started
    return summary


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent random stream per (seed, purpose or chunk)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


def _generate(loader, ids, window: Window, store: Store, customers: int, seed: int,
              summary: GenerationSummary, report: Progress) -> None:
    """Write the catalogue, every chunk of customers, and the marketing spend."""
    counts = summary.counts

    def write(chunk: Chunk, advance=None) -> None:
        loader.write(chunk, advance)
        counts[chunk.table] += chunk.size

    catalog = draw_catalog(_rng(seed, 0), window, store.id, customers, ids)
    write(catalog.rows)
    tag_ids, tags = tag_rows(window, store.id, ids)
    write(tags)
    order_number = 1001
    stage = "Generating customers, orders and events"
    report(stage, 0, customers)
    for index, start in enumerate(range(0, customers, CHUNK)):
        rng = _rng(seed, 2 + index)
        size = min(CHUNK, customers - start)
        step = _ChunkProgress(report, stage, start, size, customers)
        people = draw_people(rng, window, start, ids.reserve("customer", size) + np.arange(size, dtype=np.int64))
        step.drawn(0.05)
        orders = draw_orders(rng, window, store.id, store.currency, people, catalog, order_number, ids)
        order_number += orders.size
        step.drawn(0.20)
        consents = draw_consents(rng, window, store.id, people, ids)
        step.drawn(0.25)
        activity = draw_activity(rng, window, store.id, people, orders, consents, ids)
        step.drawn(0.35)
        # Tags draw from `rng` after the activity, as before: the seed's data set does not change.
        tagged = draw_tags(rng, window, store.id, people, tag_ids, ids)
        chunks = [_customer_rows(store.id, people, orders, consents, activity.last_activity),
                  _identity_rows(store.id, window, people, ids), orders.rows, orders.lines, orders.refunds,
                  consents.rows, activity.rows, tagged]
        step.rows = sum(chunk.size for chunk in chunks)
        for chunk in chunks:
            write(chunk, step.written)
        report(stage, start + size, customers)
    write(spend_rows(_rng(seed, 1), window, store.id, customers, ids))


class _ChunkProgress:
    """Reports a chunk's progress as it goes, so a bar moves within a chunk of 50,000 customers too.

    Drawing the chunk's rows is the first 35% of its customers (`drawn`), writing them the rest,
    in proportion to the rows written (`written`, called by the loaders every few thousand rows).
    """

    DRAWN = 0.35

    def __init__(self, report: Progress, stage: str, start: int, size: int, total: int) -> None:
        self.report, self.stage, self.start, self.size, self.total = report, stage, start, size, total
        self.rows = 0
        self.done_rows = 0

    def drawn(self, fraction: float) -> None:
        self.report(self.stage, self.start + int(self.size * fraction), self.total)

    def written(self, rows: int) -> None:
        self.done_rows += rows
        share = self.done_rows / self.rows if self.rows else 1.0
        self.drawn(self.DRAWN + (1 - self.DRAWN) * min(share, 1.0))


def _customer_rows(store_id: int, people: People, orders: Orders, consents, last_activity: np.ndarray) -> Chunk:
    """Customer rows with their lifetime figures over counted orders (net of refunds)."""
    n = people.size
    counted = np.flatnonzero(orders.counted)
    owner = orders.customer[counted]
    orders_count = np.bincount(owner, minlength=n)
    spent = np.zeros(n, dtype=np.int64)
    np.add.at(spent, owner, orders.total[counted] - orders.refunded[counted])
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, owner, orders.placed[counted])
    first[orders_count == 0] = NULL_TS
    last = np.full(n, NULL_TS, dtype=np.int64)
    np.maximum.at(last, owner, orders.placed[counted])
    updated = np.maximum(people.created, consents.last_change)
    return Chunk("customer", n, [
        ("id", "int", people.ids), ("store_id", "const", store_id), ("email", "str", people.email),
        ("phone", "str", people.phone), ("first_name", "str", people.first_name),
        ("last_name", "str", people.last_name), ("gender", "str", people.gender),
        ("country", "str", people.country), ("city", "str", people.city),
        ("has_account", "bool", people.has_account), ("acquisition_channel", "str", people.channel),
        ("created_at", "ts", people.created), ("updated_at", "ts", updated),
        ("last_activity_at", "ts", last_activity), ("orders_count", "int", orders_count),
        ("total_spent", "money", spent), ("first_order_at", "ts", first), ("last_order_at", "ts", last),
    ])


def _identity_rows(store_id: int, window: Window, people: People, ids) -> Chunk:
    """Platform ids ("CRM ID"), all in the generator's own source (``demo:<id>``): an account has a
    customer number; accounts from the shop's first four months also keep a second, Shopify-sized id
    of the store it migrated from. Guests (an e-mail, no account) have no id. No connector writes
    under this source, so none matches these ids (see docs/GENERATOR.md)."""
    account = np.flatnonzero(people.has_account)
    legacy = account[people.created[account] < window.start + 120 * 86400]
    customer = np.concatenate([account, legacy])
    source = np.array([PLATFORM] * (len(account) + len(legacy)), dtype=object)
    external = np.concatenate([people.number[account] + 1, 6_100_000_000_000 + people.number[legacy] * 37])
    n = len(customer)
    return Chunk("customer_identity", n, [
        ("id", "int", ids.reserve("customer_identity", n) + np.arange(n, dtype=np.int64)),
        ("store_id", "const", store_id), ("customer_id", "int", people.ids[customer]),
        ("source", "str", source), ("external_id", "str", external.astype(str).astype(object)),
        ("created_at", "ts", people.created[customer]),
    ])
