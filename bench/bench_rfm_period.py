"""Benchmark: the live RFM grid and the Putler period KPIs, through GraphQL and as raw SQL.

    python bench/bench_rfm_period.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench \
        --store bench --runs 10

Measures, warm (after one unmeasured run each), the median of `--runs` runs of:
- `rfmGrid(range: <365 days ending yesterday>, live: true)`: the live grid of a custom 365-day range;
- `periodKpis(preset: LAST_30_DAYS, granularity: DAY)`: every KPI with the previous period and the
  daily series;
each through the whole GraphQL stack in process (Starlette app over ASGI, the development store, no
API key, so nothing is written to the database) and as the raw SQL of the same statements (compiled
with their parameters, run on a plain psycopg connection with the same session settings). Prints a
Markdown table with the ratio GraphQL / raw SQL. Read-only.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from crm_graph.app import create_app  # noqa: E402
from crm_graph.db import session_scope  # noqa: E402
from crm_graph.models.enums import RfmScheme  # noqa: E402
from crm_graph.services.analytics import period  # noqa: E402
from crm_graph.services.analytics.rfm_grid import grid_query  # noqa: E402
from crm_graph.services.analytics.sql import TUNING_STATEMENTS  # noqa: E402
from crm_graph.services.dates import DatePreset, buckets, previous_period, resolve_range, store_today  # noqa: E402
from crm_graph.services.stores import get_store  # noqa: E402
from crm_graph.settings import Settings  # noqa: E402

RFM_QUERY = """
query($range: DateRange!) {
  rfmGrid(range: $range, live: true) {
    scheme customers prospects revenue { amount currencyCode }
    cells { r fm segment customers revenue { amount } shareOfCustomers }
  }
}
"""

KPI_QUERY = """
{
  periodKpis(preset: LAST_30_DAYS, granularity: DAY) {
    customers { value previous change relativeChange } newCustomers { value previous }
    returningCustomers { value } lostCustomers { value } lostShare { value }
    netRevenue { value { amount } previous { amount } relativeChange } orders { value }
    averageRevenuePerCustomer { value { amount } } ordersPerCustomer { value }
    averageOrderValue { value { amount } } averageLtv { value { amount } previous { amount } }
    acquiredPerDay { value } newCustomerEvery { value valueIso } topCustomersShare { value }
    oneTimeBuyers { value } repeatBuyers { value }
    series { label customers newCustomers revenue { amount } orders }
  }
}
"""


def _sql(statement) -> str:
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def _median(times: list[float]) -> float:
    return statistics.median(times)


async def _graphql_times(app, query: str, variables: dict, runs: int) -> tuple[list[float], dict]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        async def once() -> tuple[float, dict]:
            started = time.perf_counter()
            response = await client.post("/graphql", json={"query": query, "variables": variables})
            elapsed = time.perf_counter() - started
            body = response.json()
            if body.get("errors"):
                raise SystemExit(f"GraphQL errors: {body['errors']}")
            return elapsed, body["data"]

        _, data = await once()  # warm-up
        times = []
        for _ in range(runs):
            elapsed, data = await once()
            times.append(elapsed)
        return times, data


def _raw_times(dsn: str, statements: list[str], runs: int) -> list[float]:
    with psycopg.connect(dsn, autocommit=False) as connection:
        def once() -> float:
            started = time.perf_counter()
            with connection.cursor() as cursor:
                for statement in TUNING_STATEMENTS:
                    cursor.execute(statement)
                for sql in statements:
                    cursor.execute(sql)
                    cursor.fetchall()
            connection.rollback()
            return time.perf_counter() - started

        once()  # warm-up
        return [once() for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench")
    parser.add_argument("--store", default="bench")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    settings = Settings(database_url=args.database_url, dev_store=args.store, _env_file=None)
    app = create_app(settings)
    engine = app.state.engine
    with session_scope(engine) as session:
        store = get_store(session, args.store)
        session.expunge(store)
    today = store_today(store)
    last = today - timedelta(days=1)
    rfm_range = resolve_range(store, (last - timedelta(days=364), last), today=today)
    kpi_range = resolve_range(store, None, DatePreset.LAST_30_DAYS, today=today)
    scheme = RfmScheme(store.analytics_settings.rfm_scheme)

    rfm_sql = [_sql(grid_query(store, rfm_range, scheme))]
    kpi_sql = [_sql(period._kpi_statement(store, kpi_range, previous_period(kpi_range))),
               _sql(period._series_statement(store, kpi_range, buckets(kpi_range, "DAY")))]
    dsn = make_url(args.database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    variables = {"range": {"from": rfm_range.first_day.isoformat(), "to": rfm_range.last_day.isoformat()}}
    rfm_graphql, rfm_data = asyncio.run(_graphql_times(app, RFM_QUERY, variables, args.runs))
    rfm_raw = _raw_times(dsn, rfm_sql, args.runs)
    kpi_graphql, kpi_data = asyncio.run(_graphql_times(app, KPI_QUERY, {}, args.runs))
    kpi_raw = _raw_times(dsn, kpi_sql, args.runs)

    grid = rfm_data["rfmGrid"]
    kpis = kpi_data["periodKpis"]
    print(f"store {args.store}: RFM {rfm_range.first_day}..{rfm_range.last_day} ({scheme.value}) n={grid['customers']} "
          f"prospects={grid['prospects']}; KPIs {kpi_range.first_day}..{kpi_range.last_day} "
          f"customers={kpis['customers']['value']} orders={kpis['orders']['value']} "
          f"points={len(kpis['series'])}; median of {args.runs} warm runs")
    print()
    print("| what | GraphQL (s) | raw SQL (s) | GraphQL / raw SQL |")
    print("|---|---|---|---|")
    for name, graphql, raw in (("live RFM grid, custom 365-day range", rfm_graphql, rfm_raw),
                               ("period KPIs, LAST_30_DAYS + daily series", kpi_graphql, kpi_raw)):
        g, r = _median(graphql), _median(raw)
        print(f"| {name} | {g:.3f} | {r:.3f} | {g / r:.2f} |")


if __name__ == "__main__":
    main()
