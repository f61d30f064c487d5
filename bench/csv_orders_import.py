"""Benchmark: CSV import of order lines into PostgreSQL, end to end, against a raw COPY of the same rows.

    python bench/csv_orders_import.py --rows 300000

Writes a CSV of `rows` order lines (3 lines per order, 1 customer per 5 orders, some guests), then
in one fresh database: (1) COPY of the file into an unlogged staging table of text columns (the
floor: no parsing, no upserts), (2) `import_csv(kind="orders")`, the whole pipeline, (3) the same
import again (everything unchanged). Prints rows/s for each and the ratio.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import peak_rss_mb, scratch_postgres  # noqa: E402

HEADER = ["order_id", "placed_at", "status", "total", "customer_id", "email", "first_name", "last_name", "currency",
          "channel", "line_id", "product_id", "product_name", "sku", "quantity", "unit_price", "line_total"]


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    """`rows` order lines, 3 per order."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        orders = rows // 3
        for order in range(orders):
            customer = order // 5
            guest = customer % 10 == 0
            day = 1 + order % 28
            prices = [rng.randint(100, 9999) / 100 for _ in range(3)]
            total = f"{sum(prices):.2f}"
            for line, price in enumerate(prices, start=1):
                product = rng.randint(1, 2000)
                writer.writerow([f"A{order}", f"2025-{1 + order % 12:02d}-{day:02d}T{order % 24:02d}:15:00Z", "completed",
                                 total, "" if guest else f"C{customer}", f"c{customer}@example.com", "Ann", "Lee", "EUR",
                                 "newsletter" if order % 7 == 0 else "", str(line), f"P{product}", f"Product {product}",
                                 f"SKU{product}", "1", f"{price:.2f}", f"{price:.2f}"])


def raw_copy(engine, path: Path) -> float:
    """Seconds to COPY the file into a staging table (text columns)."""
    columns = ", ".join(f"{name} text" for name in HEADER)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"CREATE UNLOGGED TABLE staging_lines ({columns})")
        raw.commit()
        started = time.perf_counter()
        with open(path, "rb") as handle, cursor.copy("COPY staging_lines FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            while data := handle.read(1 << 20):
                copy.write(data)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--steps", action="store_true", help="log how long each SQL step of the import takes")
    args = parser.parse_args()
    if args.steps:
        import logging

        logging.basicConfig(level=logging.WARNING, format="  %(message)s")
        logging.getLogger("crm_graph.services.csv_bulk").setLevel(logging.DEBUG)
    from sqlmodel import Session

    from crm_graph.services.csv_import import import_csv
    from crm_graph.services.stores import create_store

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        write_csv(path, args.rows)
        rows = args.rows // 3 * 3
        size_mb = path.stat().st_size / 1e6
        with scratch_postgres() as (_url, engine):
            with Session(engine, expire_on_commit=False) as session:
                store = create_store(session, "bench-csv", currency="EUR")
                session.commit()
            copy_seconds = raw_copy(engine, path)
            started = time.perf_counter()
            summary = import_csv(engine, store.id, path, "orders")
            import_seconds = time.perf_counter() - started
            started = time.perf_counter()
            again = import_csv(engine, store.id, path, "orders")
            again_seconds = time.perf_counter() - started
    print(f"rows (order lines): {rows:,} in {rows // 3:,} orders, file {size_mb:.1f} MB")
    print(f"raw COPY into a text staging table: {copy_seconds:.2f} s = {rows / copy_seconds:,.0f} rows/s")
    print(f"import_csv (first import):          {import_seconds:.2f} s = {rows / import_seconds:,.0f} rows/s "
          f"({import_seconds / copy_seconds:.1f}x the raw COPY) counts={dict(summary.counts)}")
    print(f"import_csv (same file again):       {again_seconds:.2f} s = {rows / again_seconds:,.0f} rows/s "
          f"counts={dict(again.counts)}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
