"""Benchmark of the edrone dashboard (A–H) over GraphQL, against the raw SQL of the same aggregates.

    python bench/bench_dashboard.py [--url URL] [--store bench] [--runs 20] [--precompute]

1. `--precompute` fills the daily aggregate tables of the store for the days LAST_30_DAYS needs (the
   31 days up to today: the series, and the KPI comparison day). Only the daily tables change.
2. Times the whole dashboard in one GraphQL request through the real ASGI app (in-process HTTP client,
   the store as the development store): LAST_30_DAYS (precomputed), then an arbitrary 90-day range
   that has no precomputed day (computed live). Median, p90 and min over `--runs` warm runs.
3. Captures the SQL statements one such request sends (with the `SET LOCAL work_mem` the analytics
   issue) and replays them sequentially on a plain DBAPI cursor in one transaction: the database's
   own time for the same aggregates, the floor GraphQL is compared with. GraphQL runs the widgets
   concurrently (one connection each), so on a live range it can beat the sequential replay.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from crm_graph.app import create_app  # noqa: E402
from crm_graph.db import get_engine  # noqa: E402
from crm_graph.models import Customer, DailyCustomerCount  # noqa: E402
from crm_graph.services.analytics.precompute import precompute_range  # noqa: E402
from crm_graph.services.dates import store_today  # noqa: E402
from crm_graph.services.stores import get_store  # noqa: E402
from crm_graph.settings import Settings  # noqa: E402

QUERY = """
query($range: DateRange, $preset: DatePreset) {
  dashboard(range: $range, preset: $preset) {
    from to comparisonDay
    consentKpis { channel bucket value previous change relativeChange }
    subscriptions(granularity: DAY) { channel label subscribed unsubscribed unknown }
    subscriptionsByGender { channel gender subscribed unsubscribed unknown }
    identified(granularity: DAY) { customers identified unidentified points { label identified unidentified } }
    spendersProspects { spenders prospects customers }
    activity { active lowRisk highRisk }
    spenderSegments { spenders valueLowThreshold { amount } valueHighThreshold { amount } frequentThreshold
                      small medium big oneTime repeat frequent }
    topTags { tag { name } customers }
  }
}
"""


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[max(0, int(round(0.9 * len(ordered))) - 1)]
    return (f"median {statistics.median(ordered) * 1000:8.1f} ms   p90 {p90 * 1000:8.1f} ms   "
            f"min {ordered[0] * 1000:8.1f} ms   (n={len(ordered)})")


class StatementLog:
    """Records the statements (and parameters) sent to the database while enabled."""

    def __init__(self, engine) -> None:
        self.statements: list[tuple[str, object]] = []
        self.enabled = False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, parameters, _context, _many) -> None:
        if self.enabled and statement.lstrip().upper().startswith(("SELECT", "WITH", "SET")):
            self.statements.append((statement, parameters))


def replay(engine, statements) -> float:
    """Run `statements` one after the other on one raw connection; the elapsed seconds."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
        elapsed = time.perf_counter() - started
        raw.rollback()
        return elapsed
    finally:
        raw.close()


async def run(args) -> None:
    settings = Settings(database_url=args.url, dev_store=args.store, production=False, _env_file=None)
    engine = get_engine(args.url)
    with Session(engine, expire_on_commit=False) as session:
        store = get_store(session, args.store)
        today = store_today(store)
        if args.precompute:
            started = time.perf_counter()
            precompute_range(session, store, today - timedelta(days=30), today)
            session.commit()
            print(f"precompute of 31 days: {time.perf_counter() - started:.1f} s")
        live_last = date.fromisoformat(args.live_to) if args.live_to else today - timedelta(days=200)
        live_first = live_last - timedelta(days=89)
        covered = session.execute(select(func.count()).select_from(DailyCustomerCount).where(
            DailyCustomerCount.store_id == store.id, DailyCustomerCount.day >= live_first - timedelta(days=30),
            DailyCustomerCount.day <= live_last)).scalar_one()
        customers = session.execute(select(func.count()).select_from(Customer).where(
            Customer.store_id == store.id)).scalar_one()
    print(f"store {args.store!r}: {customers:,} customers, timezone {store.timezone}, today {today}")
    if covered:
        print(f"warning: {covered} precomputed days fall in the 'live' range; pick another with --live-to")
    cases = [
        ("LAST_30_DAYS (precomputed)", {"preset": "LAST_30_DAYS"}),
        (f"90 days {live_first}..{live_last} (live)",
         {"range": {"from": live_first.isoformat(), "to": live_last.isoformat()}}),
    ]
    if args.only:
        cases = [case for case in cases if args.only in case[0]]
    log = StatementLog(engine)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for name, variables in cases:
            async def request() -> dict:
                response = await client.post("/graphql", json={"query": QUERY, "variables": variables})
                body = response.json()
                if body.get("errors"):
                    raise SystemExit(f"errors: {body['errors']}")
                return body

            runs = args.runs if "precomputed" in name else args.live_runs
            for _ in range(args.warmup):
                await request()
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                await request()
                samples.append(time.perf_counter() - started)
            log.statements.clear()
            log.enabled = True
            await request()
            log.enabled = False
            statements = list(log.statements)
            raw = [replay(engine, statements) for _ in range(max(3, runs // 2 if "precomputed" in name else 3))]
            graphql_median, raw_median = statistics.median(samples), statistics.median(raw)
            print(f"\n{name}")
            print(f"  GraphQL (A–H in one request): {_stats(samples)}")
            print(f"  raw SQL ({len(statements)} statements, sequential): {_stats(raw)}")
            print(f"  ratio GraphQL / raw SQL: {graphql_median / raw_median:.2f}")
            if args.per_statement:
                tuning = [(st, p) for st, p in statements if st.lstrip().upper().startswith("SET")][:1]
                for statement, parameters in statements:
                    if statement.lstrip().upper().startswith("SET"):
                        continue
                    t = replay(engine, tuning + [(statement, parameters)])
                    print(f"    {t * 1000:8.1f} ms  {' '.join(statement.split())[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench")
    parser.add_argument("--store", default="bench")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of the precomputed case")
    parser.add_argument("--live-runs", type=int, default=7, help="timed runs of the live 90-day case")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--precompute", action="store_true", help="precompute the 31 days LAST_30_DAYS needs")
    parser.add_argument("--live-to", help="last day of the live 90-day range (default: today - 200 days)")
    parser.add_argument("--per-statement", action="store_true", help="time each statement of a request")
    parser.add_argument("--only", choices=["precomputed", "live"], help="run one case only")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
