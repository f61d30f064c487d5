"""Benchmark of every analytics figure through the API, live and from stored rows (docs/PERFORMANCE.md,
"Every figure on the embedded default").

    python bench/bench_figures.py [--customers 10000] [--runs 5]
    python bench/bench_figures.py --database-url URL --store SLUG [--runs 5]

Without `--database-url` it builds the quick start's store the way a user would, with the CLI, in a
temporary folder: `crm-graph migrate`, `stores create`, `generate --customers N --seed 42` on a SQLite
file (the embedded default). It then asks every analytics field of the API over GraphQL (the Starlette
app in process over ASGI, the development store, result cache off):

1. **live**, before anything is precomputed: what a new store, or a range whose stored days a change
   has made stale, costs;
2. **stored**, after `crm-graph precompute` of the days the scheduler's catch-up would take (the
   store's whole history, from its first customer's day to yesterday):
   what the default screen costs on a caught-up store. Custom ranges, `live: true` grids and the
   lifecycle fields are computed live either way.

Each figure is one request, run once unmeasured and then `--runs` times; the table gives the median
and the slowest, and the `source` the answer's freshness reported. With `--database-url` and
`--store` it measures an existing store instead (only the pass its state allows: stored days are
used where fresh). Measure on a quiet machine: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

FRESH = "freshness { source }"
WIDGETS = f"""consentKpis {{ channel bucket value change }}
    subscriptions(granularity: DAY, channel: EMAIL) {{ label subscribed unsubscribed unknown }}
    subscriptionsByGender(channel: EMAIL) {{ gender subscribed }}
    identified(granularity: DAY) {{ customers identified points {{ label identified }} }}
    spendersProspects {{ spenders prospects {FRESH} }}
    activity {{ active lowRisk highRisk }}
    spenderSegments {{ small medium big oneTime repeat frequent }}
    topTags {{ customers }}
    {FRESH}"""
GRID = f"scheme customers prospects revenue {{ amount }} cells {{ r fm customers revenue {{ amount }} }} {FRESH}"
KPIS = f"""customers {{ value previous }} newCustomers {{ value }} returningCustomers {{ value }}
    lostCustomers {{ value }} netRevenue {{ value {{ amount }} }} orders {{ value }} averageLtv {{ value {{ amount }} }}
    series {{ label customers revenue {{ amount }} }} {FRESH}"""

#: (figure, query, days of its custom range or None for a preset): `$range` is bound to the range of
#: that many days ending yesterday.
FIGURES: list[tuple[str, str, int | None]] = [
    ("dashboard A–H, LAST_30_DAYS", f"{{ dashboard(preset: LAST_30_DAYS) {{ {WIDGETS} }} }}", None),
    ("rfmGrid, LAST_365_DAYS", f"{{ rfmGrid(preset: LAST_365_DAYS) {{ {GRID} }} }}", None),
    ("periodKpis, LAST_30_DAYS", f"{{ periodKpis(preset: LAST_30_DAYS) {{ {KPIS} }} }}", None),
    ("dashboard A–H, custom 90 days", f"query($range: DateRange) {{ dashboard(range: $range) {{ {WIDGETS} }} }}", 90),
    ("rfmGrid live, custom 365 days",
     f"query($range: DateRange) {{ rfmGrid(range: $range, live: true) {{ {GRID} }} }}", 365),
    ("periodKpis, custom 30 days", f"query($range: DateRange) {{ periodKpis(range: $range) {{ {KPIS} }} }}", 30),
    ("cohorts, LAST_365_DAYS",
     f"{{ cohorts(preset: LAST_365_DAYS) {{ label size cells {{ customers }} {FRESH} }} }}", None),
    ("productPairs, custom 90 days",
     f"query($range: DateRange) {{ productPairs(range: $range) {{ orders {FRESH} }} }}", 90),
    ("productPopularity, LAST_365_DAYS",
     f"{{ productPopularity(preset: LAST_365_DAYS) {{ orders revenue {{ amount }} {FRESH} }} }}", None),
    ("lifecycleStages by week, LAST_365_DAYS",
     f"{{ lifecycleStages(preset: LAST_365_DAYS, granularity: WEEK) {{ label active churned {FRESH} }} }}", None),
    ("acquisitionChannels, LAST_365_DAYS",
     f"{{ acquisitionChannels(preset: LAST_365_DAYS) {{ channel newCustomers cac {{ amount }} {FRESH} }} }}", None),
    ("purchaseRhythm, LAST_365_DAYS",
     f"{{ purchaseRhythm(preset: LAST_365_DAYS) {{ averageDaysBetweenOrders {FRESH} }} }}", None),
]


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _cli(*args: str, env: dict[str, str]) -> str:
    """Run `crm-graph args` as a user would; its output (it must succeed)."""
    done = subprocess.run([sys.executable, "-m", "crm_graph", *args], env=env, capture_output=True, text=True,
                          cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"crm-graph {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _sources(data: object) -> set[str]:
    """Every `source` of the answer's freshness objects."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "freshness" and isinstance(value, dict) and value.get("source"):
                found.add(value["source"])
            else:
                found |= _sources(value)
    elif isinstance(data, list):
        for item in data:
            found |= _sources(item)
    return found


async def _measure(app, runs: int, last_day: date) -> list[tuple[str, float, float, str]]:
    """(figure, median s, slowest s, sources) of every figure."""
    rows = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:
        for name, query, days in FIGURES:
            variables = {}
            if days:
                first = last_day - timedelta(days=days - 1)
                variables = {"range": {"from": first.isoformat(), "to": last_day.isoformat()}}
            times, sources = [], set()
            for attempt in range(runs + 1):
                started = time.perf_counter()
                body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
                elapsed = time.perf_counter() - started
                if body.get("errors"):
                    raise SystemExit(f"{name}: {body['errors']}")
                if attempt:  # the first run is unmeasured
                    times.append(elapsed)
                sources |= _sources(body["data"])
            rows.append((name, statistics.median(times), max(times), "/".join(sorted(sources))))
            print(f"  {name}: {statistics.median(times) * 1000:,.0f} ms", flush=True)
    return rows


def _app(database_url: str, store: str):
    from crm_graph.app import create_app
    from crm_graph.settings import Settings

    settings = Settings(database_url=database_url, dev_store=store, dashboard_cache_seconds=0, _env_file=None)
    return create_app(settings)


def _store_days(database_url: str, store_slug: str) -> tuple[date, tuple[date, date] | None]:
    """Yesterday in the store's timezone (the last finished day, where custom ranges end) and the days
    the scheduler's catch-up precomputes for a store never precomputed: from its first customer's day
    (at most two years back) to yesterday (`workers.scheduler.precompute_span`)."""
    from crm_graph.db import create_db_engine, session_scope
    from crm_graph.services.dates import store_today
    from crm_graph.services.stores import get_store
    from workers.scheduler import precompute_span

    engine = create_db_engine(database_url)
    try:
        with session_scope(engine) as session:
            store = get_store(session, store_slug)
            yesterday = store_today(store) - timedelta(days=1)
            return yesterday, precompute_span(session, store, yesterday)
    finally:
        engine.dispose()


def _measure_pass(database_url: str, store: str, runs: int) -> list[tuple[str, float, float, str]]:
    app = _app(database_url, store)
    try:
        return asyncio.run(_measure(app, runs, _store_days(database_url, store)[0]))
    finally:
        app.state.engine.dispose()


def _table(passes: dict[str, list[tuple[str, float, float, str]]]) -> str:
    names = list(passes)
    head = "| figure | " + " | ".join(f"{n}: median / slowest (source)" for n in names) + " |"
    lines = [head, "|---|" + "---:|" * len(names)]
    for index, (figure, _, _) in enumerate(FIGURES):
        cells = []
        for name in names:
            _, median, slowest, source = passes[name][index]
            cells.append(f"{median * 1000:,.0f} / {slowest * 1000:,.0f} ms ({source})")
        lines.append(f"| {figure} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000, help="size of the generated store")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="measure this database's store instead of generating one")
    parser.add_argument("--store", default="bench", help="the store's slug (with --database-url)")
    args = parser.parse_args()

    print(f"load average before: {_load()}", flush=True)
    passes: dict[str, list[tuple[str, float, float, str]]] = {}
    if args.database_url:
        passes["as it is"] = _measure_pass(args.database_url, args.store, args.runs)
    else:
        with tempfile.TemporaryDirectory(prefix="crm-graph-figures-") as folder:
            url = f"sqlite:///{Path(folder) / 'figures.db'}"
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("CRM_GRAPH_")},
                   "CRM_GRAPH_DATABASE_URL": url, "CRM_GRAPH_LOG_LEVEL": "WARNING"}
            started = time.perf_counter()
            _cli("migrate", env=env)
            _cli("stores", "create", "bench", "--name", "Benchmark store", "--timezone", "Europe/Warsaw",
                 "--currency", "PLN", env=env)
            _cli("generate", "bench", "--customers", str(args.customers), "--seed", "42", env=env)
            print(f"store of {args.customers:,} customers generated in {time.perf_counter() - started:.1f} s", flush=True)
            print("live (nothing precomputed):", flush=True)
            passes["live"] = _measure_pass(url, "bench", args.runs)
            first, last = _store_days(url, "bench")[1]
            started = time.perf_counter()
            _cli("precompute", "bench", "--from", first.isoformat(), "--to", last.isoformat(), env=env)
            print(f"precomputed {(last - first).days + 1} days in {time.perf_counter() - started:.1f} s", flush=True)
            print("stored (whole history precomputed):", flush=True)
            passes["stored"] = _measure_pass(url, "bench", args.runs)
    print(f"load average after: {_load()}\n")
    print(_table(passes))


if __name__ == "__main__":
    main()
