"""Benchmark: CSV import of order lines into PostgreSQL, end to end, against raw COPYs of the same rows.

    python bench/csv_orders_import.py --rows 300000 --runs 3

Writes a CSV of `rows` order lines (3 lines per order, 1 customer per 5 orders, some guests), then,
in a fresh database per run: (1) COPY of the file into a table of text columns (the floor of
reading: no parsing, no upserts, no indexes), (2) `import_csv(kind="orders")`, the whole pipeline,
(3) the same import again (everything unchanged), (4) COPY of every row the import stored
(customers, identities, products, orders, lines, refunds) into the same tables again (the floor of
writing: those rows with those indexes; the orders and lines alone are timed too). Prints the best
and the median of the runs: a shared machine's speed can drift a lot between runs.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
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
    """Seconds to COPY the file into a table of text columns: no parsing, no upserts, no indexes."""
    columns = ", ".join(f"{name} text" for name in HEADER)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"CREATE TABLE staging_lines ({columns})")
        raw.commit()
        started = time.perf_counter()
        with open(path, "rb") as handle, cursor.copy("COPY staging_lines FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            while data := handle.read(1 << 20):
                copy.write(data)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


#: The tables an orders import writes, in the order it writes them.
_STORED = ("customer", "customer_identity", "product", "orders", "order_line", "refund")


def storage_copy(engine, store_id: int, other_store_id: int) -> tuple[float, dict[str, float]]:
    """Seconds to COPY every row the import stored (customers, identities, products, orders, lines,
    refunds), as they are, into the same tables again (for another store, with their indexes;
    foreign-key triggers skipped as the import skips them): what writing those rows costs without
    reading, checking or matching anything. Also the seconds of each table's COPY."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        blocks: dict[str, tuple[str, list[bytes]]] = {}
        for table in _STORED:
            cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                           "AND column_name NOT IN ('id', 'store_id') ORDER BY ordinal_position", (table,))
            columns = ", ".join(row[0] for row in cursor.fetchall())
            with cursor.copy(f"COPY (SELECT {columns} FROM {table} WHERE store_id = {store_id} ORDER BY id) "
                             "TO STDOUT") as copy:
                blocks[table] = (columns, [bytes(block) for block in copy])
        raw.commit()
        started = time.perf_counter()
        tables: dict[str, float] = {}
        cursor.execute("SET session_replication_role = replica")
        for table, (columns, data) in blocks.items():
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN store_id SET DEFAULT {other_store_id}")
            table_started = time.perf_counter()
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for block in data:
                    copy.write(block)
            tables[table] = time.perf_counter() - table_started
        raw.commit()
        return time.perf_counter() - started, tables
    finally:
        raw.close()


def measure(path: Path) -> dict[str, float]:
    """One run in a fresh database: raw COPY, first import, the same import again, storage COPY."""
    from sqlmodel import Session

    from crm_graph.services.csv_import import import_csv
    from crm_graph.services.stores import create_store

    with scratch_postgres() as (_url, engine):
        with Session(engine, expire_on_commit=False) as session:
            store = create_store(session, "bench-csv", currency="EUR")
            other = create_store(session, "bench-copy", currency="EUR")
            session.commit()
        result = {"raw": raw_copy(engine, path)}
        started = time.perf_counter()
        summary = import_csv(engine, store.id, path, "orders")
        result["first"] = time.perf_counter() - started
        started = time.perf_counter()
        again = import_csv(engine, store.id, path, "orders")
        result["again"] = time.perf_counter() - started
        assert summary.counts["rejected"] == 0 and again.counts["unchanged"] == summary.counts["created"]
        result["storage"], tables = storage_copy(engine, store.id, other.id)
        result["orders and lines"] = tables["orders"] + tables["order_line"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3, help="runs, each in a fresh database (the best is kept)")
    parser.add_argument("--steps", action="store_true", help="log how long each SQL step of the import takes")
    args = parser.parse_args()
    if args.steps:
        import logging

        logging.basicConfig(level=logging.WARNING, format="  %(message)s")
        logging.getLogger("crm_graph.services.csv_bulk").setLevel(logging.DEBUG)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        write_csv(path, args.rows)
        rows = args.rows // 3 * 3
        size_mb = path.stat().st_size / 1e6
        runs = []
        for number in range(1, args.runs + 1):
            runs.append(measure(path))
            print(f"run {number}: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in runs[-1].items()),
                  flush=True)
    best = {name: min(run[name] for run in runs) for name in runs[0]}
    median = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    print(f"rows (order lines): {rows:,} in {rows // 3:,} orders, file {size_mb:.1f} MB; best and median of "
          f"{len(runs)} runs")
    for name, label in (("raw", "raw COPY of the file into a table of text columns"),
                        ("storage", "COPY of the stored rows into their tables (all indexes)"),
                        ("orders and lines", "  of which the orders and lines alone"),
                        ("first", "import_csv, first import"), ("again", "import_csv, the same file again")):
        print(f"{label + ':':66} best {best[name]:6.2f} s = {rows / best[name]:9,.0f} rows/s, "
              f"median {median[name]:6.2f} s = {rows / median[name]:9,.0f} rows/s")
    print(f"first import / raw COPY: {best['first'] / best['raw']:.1f}x (best), "
          f"{median['first'] / median['raw']:.1f}x (median); "
          f"first import / storage COPY: {best['first'] / best['storage']:.1f}x (best), "
          f"{median['first'] / median['storage']:.1f}x (median); first import / COPY of the orders and lines: "
          f"{best['first'] / best['orders and lines']:.1f}x (best), "
          f"{median['first'] / median['orders and lines']:.1f}x (median)")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
