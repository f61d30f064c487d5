"""How long a change takes to show, on a store whose history is precomputed: a late order, an erasure.

    python bench/bench_freshness.py --database-url postgresql+psycopg://postgres@127.0.0.1/crm_bench_copy \\
        --store bench --late-days 300

Run it on a COPY of the benchmark database whose stored history is complete (after
`bench/bench_precompute.py` has caught it up): it writes into it. For each change it measures, in
this process, as the product does it:

1. **the change**, through the path a user takes: one order dated `--late-days` days back, for a
   customer who had none, written by the connectors' ingestion (`ingest_records`, source
   ``woocommerce``) and committed; then one spender erased by the `customersErase` mutation;
2. **the first answer after it**: the dashboard over the 30 days that start on the change's day, by
   GraphQL through the real ASGI app (result cache off). It must be LIVE (stored rows of those days
   are stale) and show the change (one spender more; then one fewer);
3. **the recompute**: the PRECOMPUTE job the scheduler plans for the stale days
   (`workers.scheduler.stale_recompute`), run exactly as a worker does;
4. **the answer afterwards**: STORED again, and equal to the live answer of step 2.

The printed times are the figures of docs/PERFORMANCE.md ("Freshness after a change").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import datetime, time as clock, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.bench_precompute import run_precompute  # noqa: E402
from crm_graph.app import create_app  # noqa: E402
from crm_graph.connectors.records import CustomerRef, OrderLineRecord, OrderRecord  # noqa: E402
from crm_graph.db import create_db_engine  # noqa: E402
from crm_graph.graphql.relay import global_id  # noqa: E402
from crm_graph.models.enums import OrderStatus  # noqa: E402
from crm_graph.services.dates import store_today  # noqa: E402
from crm_graph.services.ingest import ingest_records  # noqa: E402
from crm_graph.services.stores import get_store  # noqa: E402
from crm_graph.settings import Settings  # noqa: E402
from workers.broker import use_database  # noqa: E402
from workers.scheduler import stale_recompute  # noqa: E402

#: Every widget whose figures depend on the range. Top tags (H) are "today" whatever the range: they are
#: stored only once today's precompute has run, so they would make every answer before it LIVE.
QUERY = """
query($range: DateRange) {
  dashboard(range: $range) {
    freshness { source computedAt }
    consentKpis { channel bucket count previousCount }
    identified(granularity: WEEK) { customers identified unidentified }
    spendersProspects { spenders prospects customers }
    activity { active lowRisk highRisk }
    spenderSegments { spenders valueLowThreshold valueHighThreshold frequentThreshold small medium big
                      oneTime repeat frequent }
  }
}
"""

ERASE = "mutation($ids: [ID!]) { customersErase(ids: $ids) { __typename } }"


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


class Api:
    """The GraphQL endpoint of the real app, in process, as the store's development client."""

    def __init__(self, database_url: str, store: str) -> None:
        settings = Settings(database_url=database_url, dev_store=store, production=False,
                            dashboard_cache_seconds=0, _env_file=None)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)),
                                        base_url="http://bench")

    async def post(self, query: str, variables: dict) -> tuple[float, dict]:
        started = time.perf_counter()
        response = await self.client.post("/graphql", json={"query": query, "variables": variables})
        elapsed = time.perf_counter() - started
        body = response.json()
        if body.get("errors"):
            raise SystemExit(f"GraphQL errors: {body['errors']}")
        return elapsed, body["data"]

    async def dashboard(self, first, last) -> tuple[float, dict]:
        elapsed, data = await self.post(QUERY, {"range": {"from": first.isoformat(), "to": last.isoformat()}})
        return elapsed, data["dashboard"]


def _figures(dashboard: dict) -> dict:
    """The dashboard without its freshness (what must be equal stored and live)."""
    return {key: value for key, value in dashboard.items() if key != "freshness"}


def _stored_days(engine, store_id: int) -> tuple:
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT min(day), max(day), count(*) FROM daily_customer_count WHERE store_id = :s"), {"s": store_id}).one()


def _recompute(engine, store) -> tuple[float, tuple]:
    """Run the PRECOMPUTE job the scheduler plans for the stale days; (seconds, (first, last))."""
    with Session(engine, expire_on_commit=False) as session:
        planned = stale_recompute(session, store)
    if planned is None:
        raise SystemExit("the scheduler sees no stale stored day: the change was not recorded")
    (first, last), _newest = planned
    seconds, job = run_precompute(engine, store, first, last)
    if job.status != "SUCCEEDED":
        raise SystemExit(f"precompute job {job.id} ended {job.status}: {job.error}")
    return seconds, (first, last)


async def _recompute_and_compare(api: Api, engine, store, first, last, live: dict) -> None:
    """Run the recompute the scheduler plans, then check the range's answer is STORED and equal to `live`."""
    seconds, (stale_first, stale_last) = await asyncio.to_thread(_recompute, engine, store)
    days = (stale_last - stale_first).days + 1
    print(f"recompute {stale_first}..{stale_last} ({days} days): {seconds:.1f} s = {seconds / days:.2f} s/day, "
          f"load average {_load()}")
    again_seconds, stored = await api.dashboard(first, last)
    print(f"answer afterwards {again_seconds:.2f} s, {stored['freshness']['source']}; equal to the live answer: "
          f"{_figures(stored) == _figures(live)}")
    assert stored["freshness"]["source"] == "STORED", stored["freshness"]
    assert _figures(stored) == _figures(live)


async def main_async(args) -> None:
    engine = create_db_engine(args.database_url)
    use_database(Settings(_env_file=None, database_url=args.database_url))
    with Session(engine, expire_on_commit=False) as session:
        store = get_store(session, args.store)
        today = store_today(store)
    first_stored, last_stored, count = _stored_days(engine, store.id)
    print(f"store {args.store!r}: stored days {first_stored}..{last_stored} ({count}), today {today}; "
          f"started {time.strftime('%H:%M:%S', time.gmtime())} UTC, load average {_load()}")
    api = Api(args.database_url, args.store)

    if "late" in args.steps:
        await _late_order(api, engine, store, today, args.late_days)
    if "erase" in args.steps:
        await _erasure(api, engine, store, today, args.erase_days)
    print(f"\nfinished {time.strftime('%H:%M:%S', time.gmtime())} UTC, load average {_load()}")


async def _late_order(api: Api, engine, store, today, late_days: int) -> None:
    """A late order, `late_days` back, for a customer who had no order (a prospect becomes a spender)."""
    late_day = today - timedelta(days=late_days)
    first, last = late_day, late_day + timedelta(days=29)
    _, before = await api.dashboard(first, last)
    print(f"\nrange {first}..{last} before: {before['freshness']['source']}, "
          f"spenders {before['spendersProspects']['spenders']:,}")
    with engine.connect() as connection:
        prospect_id, email, created = connection.execute(text(
            "SELECT id, email, created_at FROM customer WHERE store_id = :s AND orders_count = 0 AND "
            "email IS NOT NULL AND erased_at IS NULL AND created_at < :day ORDER BY id LIMIT 1"),
            {"s": store.id, "day": late_day}).one()
    placed = datetime.combine(late_day, clock(12, 0), store.tz)
    order = OrderRecord(source="woocommerce", external_id=f"late-{int(time.time())}",
                        customer=CustomerRef(email=email), status=OrderStatus.COMPLETED, placed_at=placed,
                        currency="USD", total=Decimal("123.45"), subtotal=Decimal("123.45"),
                        lines=[OrderLineRecord(external_id="1", name="Late item", quantity=1,
                                               unit_price=Decimal("123.45"), line_total=Decimal("123.45"))])
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        ingest_records(session, session.merge(store), [order], source="woocommerce")
        session.commit()
    write = time.perf_counter() - started
    answer_seconds, live = await api.dashboard(first, last)
    print(f"late order placed {placed:%Y-%m-%d %H:%M %Z} for customer {prospect_id}: written and committed in "
          f"{write:.2f} s; first answer {answer_seconds:.2f} s, {live['freshness']['source']}, "
          f"spenders {live['spendersProspects']['spenders']:,}")
    assert live["freshness"]["source"] == "LIVE", live["freshness"]
    assert live["spendersProspects"]["spenders"] == before["spendersProspects"]["spenders"] + 1
    await _recompute_and_compare(api, engine, store, first, last, live)


async def _erasure(api: Api, engine, store, today, erase_days: int) -> None:
    """An erasure of a spender whose first order is the latest before `erase_days` back."""
    first, last = today - timedelta(days=30), today - timedelta(days=1)
    with engine.connect() as connection:
        victim, first_order = connection.execute(text(
            "SELECT id, first_order_at FROM customer WHERE store_id = :s AND erased_at IS NULL AND orders_count > 0 "
            "AND first_order_at < :day ORDER BY first_order_at DESC, id LIMIT 1"),
            {"s": store.id, "day": today - timedelta(days=erase_days)}).one()
    _, before = await api.dashboard(first, last)
    started = time.perf_counter()
    await api.post(ERASE, {"ids": [global_id("Customer", victim)]})
    erase_seconds = time.perf_counter() - started
    answer_seconds, live = await api.dashboard(first, last)
    print(f"\nerasure of customer {victim} (first order {first_order:%Y-%m-%d}): mutation {erase_seconds:.2f} s; "
          f"first answer over {first}..{last} {answer_seconds:.2f} s, {live['freshness']['source']}, "
          f"spenders {before['spendersProspects']['spenders']:,} -> {live['spendersProspects']['spenders']:,}")
    assert live["freshness"]["source"] == "LIVE", live["freshness"]
    assert live["spendersProspects"]["spenders"] == before["spendersProspects"]["spenders"] - 1
    await _recompute_and_compare(api, engine, store, first, last, live)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="A precomputed COPY of the benchmark database.")
    parser.add_argument("--store", default="bench")
    parser.add_argument("--late-days", type=int, default=300, help="How many days back the late order is dated.")
    parser.add_argument("--erase-days", type=int, default=60,
                        help="The erased spender's first order is the latest before this many days back.")
    parser.add_argument("--steps", default="late,erase", type=lambda text: set(text.split(",")),
                        help="Which changes to measure, of late,erase (default both, in that order).")
    args = parser.parse_args()
    if args.database_url.rstrip("/").rsplit("/", 1)[-1] == "crm_bench":
        raise SystemExit("refusing to write into crm_bench itself: give a copy")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
