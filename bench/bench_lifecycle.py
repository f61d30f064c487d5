"""Benchmark of lifecycle and marketing analytics on the benchmark store (docs/PERFORMANCE.md, "Lifecycle").

    python bench/bench_lifecycle.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench] [--store bench]

Times, on the store as it is: the CLV fit (`fit_clv_models`: SQL summary, BG/NBD + Gamma-Gamma
fit, writing every prediction), the 24-month cohort matrix, product pairs for LAST_90_DAYS, and for
the record the other lifecycle fields. The CLV fit writes only its own tables (`clv_model`,
`customer_clv`); when the database predates them they are created (nothing else is changed).
Each query runs `--repeat` times; the table shows the best and the median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from crm_graph.db import create_db_engine  # noqa: E402
from crm_graph.models import ClvModel, Customer, CustomerClv, Order  # noqa: E402
from crm_graph.services.dates import DatePreset, Granularity, make_range, resolve_range, store_today  # noqa: E402
from crm_graph.services.analytics import runner  # noqa: E402
from crm_graph.services.analytics.sql import month_from_number, month_number  # noqa: E402
from crm_graph.services.lifecycle import clv  # noqa: E402
from crm_graph.services.stores import get_store  # noqa: E402


def _timed(fn, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench")
    parser.add_argument("--store", default="bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="the store's today (default: real today)")
    parser.add_argument("--skip-fit", action="store_true")
    args = parser.parse_args()

    engine = create_db_engine(args.url)
    for table in (ClvModel.__table__, CustomerClv.__table__):
        table.create(engine, checkfirst=True)
    with Session(engine, expire_on_commit=False) as session:
        store = get_store(session, args.store)
        customers = session.scalar(select(func.count()).select_from(Customer).where(Customer.store_id == store.id))
        orders = session.scalar(select(func.count()).select_from(Order).where(Order.store_id == store.id))
        last_order = session.scalar(select(func.max(Order.placed_at)).where(Order.store_id == store.id))
    today = args.today or store_today(store)
    print(f"store {store.slug}: {customers:,} customers, {orders:,} orders, last order {last_order}, today {today}")

    rows: list[tuple[str, float, float, str]] = []
    if not args.skip_fit:
        started = time.perf_counter()
        summary = clv.fit_clv_models(engine, store, cutoff=today)
        elapsed = time.perf_counter() - started
        with Session(engine) as session:
            model = session.get(ClvModel, summary.model_id)
        note = (f"{summary.status.value}, {summary.counts['customers']:,} buyers, "
                f"{summary.counts['repeat_customers']:,} repeat; BG/NBD {model.bgnbd_params}; GG {model.gamma_gamma_params}")
        rows.append(("CLV fit (summary SQL + BG/NBD + Gamma-Gamma + write predictions)", elapsed, elapsed, note))

    last_month = month_number(today)
    months_24 = make_range(month_from_number(last_month - 23), today, store.tz, today=today)
    last_90 = resolve_range(store, preset=DatePreset.LAST_90_DAYS, today=today)
    last_365 = resolve_range(store, preset=DatePreset.LAST_365_DAYS, today=today)
    last_30 = resolve_range(store, preset=DatePreset.LAST_30_DAYS, today=today)
    def answer(name: str, **arguments):
        """The metric answered by the runner, as the API answers it (always computed: nothing is stored)."""
        return lambda s: runner.answer(s, store, name, **arguments).value

    cases = [
        ("cohort matrix, 24 months", answer("cohorts", resolved=months_24),
         lambda r: f"{len(r)} cohorts, {sum(len(c.cells) for c in r)} cells"),
        ("product pairs, LAST_90_DAYS (top 20)", answer("product_pairs", resolved=last_90),
         lambda r: f"{len(r)} pairs; top together in {r[0].orders if r else 0} orders"),
        ("product popularity, LAST_90_DAYS (top 20 by revenue)", answer("product_popularity", resolved=last_90),
         lambda r: f"{len(r)} products"),
        ("acquisition channels, LAST_365_DAYS", answer("acquisition_channels", resolved=last_365),
         lambda r: f"{len(r)} channels"),
        ("purchase rhythm, LAST_30_DAYS", answer("purchase_rhythm", resolved=last_30),
         lambda r: f"{r.gaps:,} gaps"),
        ("lifecycle stages, LAST_365_DAYS by MONTH (13 points)",
         answer("lifecycle_stages", resolved=last_365, granularity=Granularity.MONTH),
         lambda r: f"last point {r[-1].counts if r else {}}"),
    ]
    for name, run, describe in cases:
        with Session(engine) as session:
            best, median, result = _timed(lambda: run(session), args.repeat)
        rows.append((name, best, median, describe(result)))

    print()
    print("| what | best (s) | median (s) | result |")
    print("|---|---:|---:|---|")
    for name, best, median, note in rows:
        print(f"| {name} | {best:.2f} | {median:.2f} | {note} |")


if __name__ == "__main__":
    main()
