"""Benchmark: resident memory of a large CSV import into PostgreSQL (it must not grow with the file).

    python bench/csv_memory.py --mb 1000

Writes an orders CSV of about `mb` megabytes (3 lines per order) and imports it, sampling this
process's resident memory along the way.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import current_rss_mb, peak_rss_mb, scratch_postgres  # noqa: E402
from csv_orders_import import write_csv  # noqa: E402

BYTES_PER_ROW = 126  # what write_csv produces on average


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=1000)
    parser.add_argument("--steps", action="store_true", help="log how long each SQL step of the import takes")
    args = parser.parse_args()
    if args.steps:
        import logging

        logging.basicConfig(level=logging.WARNING, format="  %(message)s")
        logging.getLogger("crm_graph.services.csv_bulk").setLevel(logging.DEBUG)
    from sqlmodel import Session

    from crm_graph.services.csv_import import import_csv
    from crm_graph.services.stores import create_store

    rows = args.mb * 1_000_000 // BYTES_PER_ROW // 3 * 3
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        started = time.perf_counter()
        write_csv(path, rows)
        written = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        samples: list[tuple[float, float]] = []

        def progress(done: int, total) -> None:
            if not samples or done / total - samples[-1][0] >= 0.1 or done == total:
                samples.append((done / total, current_rss_mb()))

        with scratch_postgres() as (_url, engine):
            with Session(engine, expire_on_commit=False) as session:
                store = create_store(session, "bench-big")
                session.commit()
            started = time.perf_counter()
            summary = import_csv(engine, store.id, path, "orders", progress=progress)
            seconds = time.perf_counter() - started
    print(f"file: {size_mb:,.0f} MB, {rows:,} order lines; counts={dict(summary.counts)}")
    print(f"CSV written in {written:.0f} s")
    print(f"import: {seconds:.0f} s = {rows / seconds:,.0f} rows/s")
    print("RSS along the import (share of the file: MB): " + ", ".join(f"{share:.0%}: {rss:.0f}" for share, rss in samples))
    print(f"peak RSS of the import process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
