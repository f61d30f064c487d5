"""The daily precompute job of a big store: one day, and a catch-up of many days.

Runs the PRECOMPUTE job exactly as a worker does (claim, heartbeat, `workers.tasks.precompute_for_job`:
one connection, a commit per month of days, finish) in this process, on a COPY of the benchmark
database (the job writes the daily tables; never point it at the shared benchmark database itself):

    createdb -T crm_bench crm_bench_copy && psql -c ANALYZE crm_bench_copy
    python bench/bench_precompute.py --database-url postgresql+psycopg://postgres@127.0.0.1/crm_bench_copy \\
        --store bench --day 2026-11-21 --catch-up-days 730

The catch-up is one job over the `--catch-up-days` days before `--day`, as the scheduler starts it
for a store never precomputed; `--repeat 0` skips the single day and `--catch-up-days 0` the
catch-up. With `--catch-up-days` below 730 the time of 730 days is extrapolated from it (printed as
such). A copy without planner statistics makes the planner pick nested loops that take minutes per
day: ANALYZE it first.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session  # noqa: E402

from crm_graph.db import create_db_engine  # noqa: E402
from crm_graph.migrate import upgrade  # noqa: E402
from crm_graph.models import Job  # noqa: E402
from crm_graph.services.jobs import create_job  # noqa: E402
from crm_graph.services.stores import get_store  # noqa: E402
from crm_graph.settings import Settings  # noqa: E402
from workers.broker import use_database  # noqa: E402


def run_precompute(engine, store, first_day: date, last_day: date) -> tuple[float, Job]:
    """Create and run one PRECOMPUTE job; (seconds, finished job row)."""
    from workers.actors import precompute_job  # noqa: F401  (declares the actors)
    from workers.runner import run_job
    from workers.tasks import precompute_for_job

    with Session(engine, expire_on_commit=False) as session:
        job = create_job(session, store, "PRECOMPUTE",
                         {"first_day": first_day.isoformat(), "last_day": last_day.isoformat()})
        session.commit()

    def work(engine_, job_, progress):
        return precompute_for_job(engine_, job_.store_id, first_day, last_day, progress)

    started = time.perf_counter()
    run_job(job.id, "PRECOMPUTE", work)
    elapsed = time.perf_counter() - started
    with Session(engine, expire_on_commit=False) as session:
        return elapsed, session.get(Job, job.id)


def _load() -> str:
    """The 1, 5 and 15 minute load averages of this machine."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _report_load(every: float, stop: threading.Event) -> None:
    """Print the load average every `every` seconds until `stop` is set (the machine may be shared)."""
    started = time.perf_counter()
    while not stop.wait(every):
        print(f"  {time.perf_counter() - started:.0f} s: load average {_load()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="A COPY of the benchmark database.")
    parser.add_argument("--store", default="bench")
    parser.add_argument("--day", type=date.fromisoformat, required=True, help="The day precomputed alone.")
    parser.add_argument("--catch-up-days", type=int, default=730)
    parser.add_argument("--repeat", type=int, default=2, help="Runs of the single day (the first warms the cache).")
    parser.add_argument("--load-every", type=float, default=60, help="Seconds between load average reports.")
    args = parser.parse_args()
    if args.database_url.rstrip("/").rsplit("/", 1)[-1] == "crm_bench":
        raise SystemExit("refusing to write into crm_bench itself: give a copy")

    engine = create_db_engine(args.database_url)
    started = time.perf_counter()
    upgrade(engine)
    print(f"migrations: {time.perf_counter() - started:.1f} s")
    use_database(Settings(_env_file=None, database_url=args.database_url))
    with Session(engine, expire_on_commit=False) as session:
        store = get_store(session, args.store)
    print(f"started {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load average {_load()}", flush=True)
    stop = threading.Event()
    threading.Thread(target=_report_load, args=(args.load_every, stop), daemon=True).start()
    for run in range(1, args.repeat + 1):
        seconds, job = run_precompute(engine, store, args.day, args.day)
        print(f"one day {args.day} (run {run}): {seconds:.1f} s, job {job.id} {job.status}, counts {job.counts}, "
              f"load average {_load()}", flush=True)

    if args.catch_up_days > 0:
        last = args.day - timedelta(days=1)
        first = last - timedelta(days=args.catch_up_days - 1)
        seconds, job = run_precompute(engine, store, first, last)
        per_day = seconds / args.catch_up_days
        print(f"catch-up {first}..{last} ({args.catch_up_days} days): {seconds:.1f} s = {per_day:.2f} s/day, "
              f"job {job.id} {job.status}, counts {job.counts}, load average {_load()}")
        if args.catch_up_days < 730:
            print(f"730 days extrapolated from it: {per_day * 730 / 60:.1f} min (not measured)")
    stop.set()
    print(f"finished {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC")


if __name__ == "__main__":
    main()
