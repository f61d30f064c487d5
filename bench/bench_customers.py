"""Benchmarks of the customer list, Customer 360, segment counts and CSV export (PostgreSQL).

Runs against an existing benchmark store and changes none of its rows: GraphQL queries run
in-process on the real schema with a read-only context (no API key is created), segment counts are
computed for an unsaved segment, and the export writes to a temporary file.

    python bench/bench_customers.py --url postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench --store bench

Each case is warmed up, then timed over `--runs` runs; p50 and p95 in milliseconds. "graphql" is the
whole request through Strawberry (parse, validate, resolve, serialise); "sql" is the main statement
alone on a connection.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from crm_graph.db import create_db_engine  # noqa: E402
from crm_graph.graphql.context import Context  # noqa: E402
from crm_graph.graphql.schema import schema  # noqa: E402
from crm_graph.graphql.relay import global_id  # noqa: E402
from crm_graph.models import Customer, Segment, Store  # noqa: E402
from crm_graph.models.enums import Role  # noqa: E402
from crm_graph.services.filters import CustomerFilter, customer_conditions  # noqa: E402
from crm_graph.services.segments import count_members  # noqa: E402

SEARCH = """query($f: CustomerFilter) { customers(filter: $f, first: 50, sort: NAME, direction: ASC) {
  totalCount nodes { id email firstName lastName phone } } }"""
PAGE = """query($f: CustomerFilter) { customers(filter: $f, first: 50) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { id email firstName lastName country ordersCount totalSpent { amount currencyCode } lastOrderAt } } }"""
PAGE_SPENT = PAGE.replace("first: 50)", "first: 50, sort: TOTAL_SPENT, direction: DESC)")
PROFILE = """query($id: ID!) { customer(id: $id) {
  id email firstName lastName phone country city gender createdAt lastActivityAt
  identities { crmId } consents { channel bucket state since } consentHistory { channel state occurredAt source }
  tags { name appliedAt } orders(first: 20) { nodes { externalId status placedAt total { amount currencyCode }
  lines { name quantity lineTotal { amount } } refunds { amount { amount } refundedAt } } }
  revenue { totalSales { amount } refunds { amount } netRevenue { amount } orders averageOrderValue { amount } } } }"""


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 (nearest rank) in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered) + 0.5)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed(fn, runs: int, warmup: int = 3) -> tuple[float, float]:
    """Warm `fn(i)` up, then time `runs` calls."""
    for index in range(warmup):
        fn(index)
    samples = []
    for index in range(runs):
        start = time.perf_counter()
        fn(index)
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


#: One event loop for every request, as in a server process (its worker threads stay warm).
LOOP = asyncio.new_event_loop()


def graphql(engine, store, query: str, variables: dict) -> dict:
    """Execute `query` in-process as a read-only client of `store`."""
    context = Context(engine=engine, store=store, role=Role.READ)
    result = LOOP.run_until_complete(schema.execute(query, variable_values=variables, context_value=context))
    if result.errors:
        raise SystemExit(f"GraphQL errors: {result.errors}")
    return result.data


def sql_time(engine, statement) -> None:
    with engine.connect() as connection:
        connection.execute(statement).all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench")
    parser.add_argument("--store", default="bench")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--line-sample", type=int, default=1,
                        help="Customer 360 only for customers whose id is a multiple of this (see copy_bench_store.py).")
    args = parser.parse_args()
    engine = create_db_engine(args.url)
    rng = random.Random(7)
    with Session(engine, expire_on_commit=False) as session:
        store = session.exec(select(Store).where(Store.slug == args.store)).scalars().one()
        total = session.exec(select(func.count()).select_from(Customer).where(Customer.store_id == store.id)).scalar_one()
        sample = session.execute(text(
            "SELECT id, email FROM customer TABLESAMPLE SYSTEM (1) WHERE store_id = :s AND email IS NOT NULL LIMIT 400"
        ), {"s": store.id}).all()
        top_country = session.execute(text(
            "SELECT country FROM customer WHERE store_id = :s AND country IS NOT NULL GROUP BY country ORDER BY count(*) DESC LIMIT 1"
        ), {"s": store.id}).scalar_one()
        buyers = session.execute(text(
            "SELECT id FROM customer TABLESAMPLE SYSTEM (2) WHERE store_id = :s AND orders_count > 0 "
            "AND id % :n = 0 LIMIT 200"
        ), {"s": store.id, "n": args.line_sample}).scalars().all()
    print(f"store {store.slug}: {total:,} customers; top country {top_country}")
    rows: list[tuple[str, str, float, float]] = []

    for length in (12, 7):
        prefixes = [email[:length] for _, email in sample][: args.runs]
        search = lambda i: graphql(engine, store, SEARCH, {"f": {"search": prefixes[i % len(prefixes)]}})  # noqa: E731
        rows.append((f"search by email prefix ({length} chars), 50 rows + total", "graphql",
                     *timed(search, args.runs, warmup=len(prefixes))))
    with Session(engine) as session:
        statements = [
            select(Customer.id).where(*customer_conditions(store, CustomerFilter(search=p), session=session)).limit(50)
            for p in prefixes
        ]
    rows.append(("search by email prefix, page query only", "sql",
                 *timed(lambda i: sql_time(engine, statements[i % len(statements)]), args.runs)))

    spent = {"countries": [top_country], "spentMin": "500"}
    rows.append(("page of 50, filters country + spent>=500, total", "graphql",
                 *timed(lambda i: graphql(engine, store, PAGE, {"f": spent}), args.runs)))
    rows.append(("same, sorted by total spent desc", "graphql",
                 *timed(lambda i: graphql(engine, store, PAGE_SPENT, {"f": spent}), args.runs)))
    two = {"countries": [top_country], "ordersMin": 2}
    rows.append(("page of 50, filters country + orders>=2, total", "graphql",
                 *timed(lambda i: graphql(engine, store, PAGE, {"f": two}), args.runs)))
    two_b = {"countries": [top_country], "emailConsent": ["SUBSCRIBED"]}
    rows.append(("page of 50, filters country + email SUBSCRIBED, total", "graphql",
                 *timed(lambda i: graphql(engine, store, PAGE, {"f": two_b}), args.runs)))
    with Session(engine) as session:
        count_two = select(func.count()).select_from(Customer).where(
            *customer_conditions(store, CustomerFilter.model_validate({"countries": [top_country], "orders_min": 2}), session=session))
    rows.append(("total count, country + orders>=2", "sql", *timed(lambda i: sql_time(engine, count_two), args.runs)))

    profile = lambda i: graphql(engine, store, PROFILE, {"id": global_id("Customer", buyers[i % len(buyers)])})  # noqa: E731
    rows.append(("Customer 360 (orders+lines+refunds, consents, tags)", "graphql", *timed(profile, args.runs)))

    three = CustomerFilter.model_validate(
        {"countries": [top_country], "orders_min": 1, "email_consent": ["SUBSCRIBED"]})
    unsaved = Segment(store_id=store.id, name="bench", filter=three.to_json())

    def refresh(_i):
        with Session(engine) as session:
            count_members(session, store, unsaved)

    rows.append(("segment count refresh, 3 filters", "service", *timed(refresh, max(3, args.runs // 6), warmup=1)))
    for name, kind, p50, p95 in rows:
        print(f"| {name} | {kind} | {p50:.1f} | {p95:.1f} |")
    if not args.skip_export:
        export_benchmark(args, store, rng)


def export_benchmark(args, store: Store, rng) -> None:
    """Export about `--export-rows` customers (lowest ids... through a spend filter) in a child process."""
    engine = create_db_engine(args.url)
    with engine.connect() as connection:
        # the spend above which about export_rows customers are: a realistic "top spenders" segment
        threshold = connection.execute(text(
            "SELECT total_spent FROM customer WHERE store_id = :s AND erased_at IS NULL ORDER BY total_spent DESC "
            "OFFSET :n LIMIT 1"), {"s": store.id, "n": args.export_rows - 1}).scalar_one()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "export.csv")
        code = (
            "import resource, sys, time; sys.path.insert(0, %r)\n"
            "from crm_graph.db import create_db_engine\n"
            "from crm_graph.services.export import export_customers\n"
            "from crm_graph.services.filters import CustomerFilter\n"
            "engine = create_db_engine(%r)\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "start = time.perf_counter()\n"
            "summary = export_customers(engine, %d, CustomerFilter(spent_min=%r), %r)\n"
            "took = time.perf_counter() - start\n"
            "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print(summary.counts['customers'], round(took, 2), before // 1024, after // 1024)\n"
        ) % (str(Path(__file__).resolve().parent.parent), args.url, store.id, str(threshold), path)
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
        size = os.path.getsize(path) / 1e6
    count, took, rss_before, rss_after = output
    print(f"| export CSV, {int(count):,} customers ({size:.0f} MB) | service | {took} s | peak RSS {rss_before} -> {rss_after} MB |")


if __name__ == "__main__":
    main()
