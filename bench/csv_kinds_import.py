"""Benchmark: CSV import of the kinds other than orders into PostgreSQL, end to end, in rows per second.

    python bench/csv_kinds_import.py --rows 200000 --runs 3

Writes one file of `rows` rows per kind (customers with an email consent; consents, tags and
activity naming those customers by customer_id, a tenth of them by crm_id; marketing spend for 50
channels), then, in a fresh database per run, imports them in that order with `import_csv` (the
whole pipeline, as `crm-graph import-csv` does) and imports each file again (everything unchanged).
Prints, per kind, the best and the median of the runs in rows per second, against the target of
20,000 rows/s (docs/PERFORMANCE.md): a shared machine's speed can drift a lot between runs.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402
from _common import peak_rss_mb, scratch_postgres  # noqa: E402

#: The kinds in import order (the customers the others name are imported first).
KINDS = ("customers", "consents", "tags", "activity", "marketing_spend")

TARGET = 20_000

#: The source whose CRM IDs a tenth of the rows use (its identities are added before the runs' imports).
FOREIGN = "woocommerce"


def _customer(i: int, customers: int) -> tuple[str, str]:
    """(crm_id, customer_id) of the i-th reference: every tenth by the foreign source's CRM ID."""
    c = i % customers
    return (f"{FOREIGN}:W{c}", "") if i % 10 == 0 else ("", f"C{c}")


def write_files(folder: Path, rows: int) -> dict[str, Path]:
    """One file of `rows` rows per kind."""
    paths = {kind: folder / f"{kind}.csv" for kind in KINDS}
    start = date(2020, 1, 1)
    with open(paths["customers"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "email", "first_name", "last_name", "country", "created_at", "email_consent",
                         "has_account"])
        for i in range(rows):
            anonymous = i % 4 == 3
            writer.writerow([f"C{i}", "" if anonymous else f"c{i}@example.com", "Ann", "Lee", "PL",
                             f"{start + timedelta(days=i % 1000)}T10:00:00Z", "" if anonymous else "subscribed",
                             "false" if anonymous else "true"])
    with open(paths["consents"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["crm_id", "customer_id", "channel", "state", "occurred_at", "opt_in_level"])
        for i in range(rows):
            writer.writerow([*_customer(i, rows), "SMS" if i % 2 else "EMAIL", "SUBSCRIBED" if i % 3 else "UNSUBSCRIBED",
                             f"{start + timedelta(days=1000 + i % 500)}T08:00:00Z", "CONFIRMED_OPT_IN"])
    with open(paths["tags"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["crm_id", "customer_id", "tag", "applied_at"])
        for i in range(rows):
            writer.writerow([*_customer(i, rows), f"tag{i % 40}", f"{start + timedelta(days=i % 900)}T09:00:00Z"])
    with open(paths["activity"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["crm_id", "customer_id", "activity", "occurred_at", "external_id"])
        kinds = ("visit", "page_view", "email_open", "email_click")
        for i in range(rows):
            writer.writerow([*_customer(i, rows), kinds[i % 4], f"{start + timedelta(days=i % 1500)}T{i % 24:02d}:30:00Z",
                             f"a{i}" if i % 2 else ""])
    with open(paths["marketing_spend"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["channel", "day", "amount"])
        for i in range(rows):
            writer.writerow([f"channel {i % 50}", start + timedelta(days=i // 50), f"{(i % 997) + 0.5:.2f}"])
    return paths


def _foreign_identities(engine, store_id: int, customers: int) -> None:
    """The foreign source's identity W<i> for every customer C<i> (as a connector's sync would have added)."""
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO customer_identity (store_id, customer_id, source, external_id, created_at) "
            "SELECT i.store_id, i.customer_id, :foreign, 'W' || substr(i.external_id, 2), now() "
            "FROM customer_identity i WHERE i.store_id = :s AND i.source = 'csv'"), {"s": store_id, "foreign": FOREIGN})
        assert connection.execute(text("SELECT count(*) FROM customer_identity WHERE store_id = :s AND source = :f"),
                                  {"s": store_id, "f": FOREIGN}).scalar_one() == customers


def measure(paths: dict[str, Path], rows: int) -> dict[str, float]:
    """One run in a fresh database: each kind's first import and its second (unchanged) import, in seconds."""
    from sqlmodel import Session

    from crm_graph.services.csv_import import import_csv
    from crm_graph.services.stores import create_store

    result: dict[str, float] = {}
    with scratch_postgres("crm_graph_bench_kinds") as (_url, engine):
        with Session(engine, expire_on_commit=False) as session:
            store = create_store(session, "bench-kinds", currency="EUR")
            session.commit()
        for kind in KINDS:
            started = time.perf_counter()
            summary = import_csv(engine, store.id, paths[kind], kind)
            result[kind] = time.perf_counter() - started
            started = time.perf_counter()
            again = import_csv(engine, store.id, paths[kind], kind)
            result[f"{kind} again"] = time.perf_counter() - started
            assert summary.counts["rejected"] == 0 and again.counts["rejected"] == 0, (kind, summary.errors[:3])
            assert again.counts["created"] == 0 and again.counts["updated"] == 0, (kind, again.counts)
            if kind == "customers":
                _foreign_identities(engine, store.id, rows)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="rows per file")
    parser.add_argument("--runs", type=int, default=3, help="runs, each in a fresh database")
    parser.add_argument("--database-url", default=_common.PG_ADMIN,
                        help="a PostgreSQL server's maintenance database; each run creates (and drops) its own database there")
    args = parser.parse_args()
    _common.PG_ADMIN = args.database_url

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_files(Path(tmp), args.rows)
        runs = []
        for number in range(1, args.runs + 1):
            runs.append(measure(paths, args.rows))
            print(f"run {number}: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in runs[-1].items()),
                  flush=True)
    best = {name: min(run[name] for run in runs) for name in runs[0]}
    median = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    print(f"\n{args.rows:,} rows per file; best and median of {len(runs)} runs; target {TARGET:,} rows/s")
    print(f"{'kind':18} {'first import (rows/s)':>26} {'same file again (rows/s)':>28}  target")
    for kind in KINDS:
        again = f"{kind} again"
        first = args.rows / best[kind]
        print(f"{kind:18} {first:12,.0f} best {args.rows / median[kind]:7,.0f} med "
              f"{args.rows / best[again]:13,.0f} best {args.rows / median[again]:7,.0f} med  "
              f"{'ok' if first >= TARGET else 'BELOW'}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
