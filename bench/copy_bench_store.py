"""Copy the benchmark store's customer-side tables into a fresh database at this checkout's schema.

Benchmarks that need this branch's migrations (columns, indexes, triggers) run on the copy, so the
shared benchmark database is only read:

    python bench/copy_bench_store.py --source crm_bench --target crm_bench_customers

Tables copied: store, customer, customer_identity, tag, customer_tag, consent_event, product, orders,
order_line, refund (activity events are left out). Binary COPY, table by table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from crm_graph.db import create_db_engine  # noqa: E402
from crm_graph.migrate import upgrade  # noqa: E402
from crm_graph.models import metadata  # noqa: E402

TABLES = ["store", "customer", "customer_identity", "tag", "customer_tag", "consent_event", "product", "orders",
          "order_line", "refund"]
#: Columns this checkout adds, filled on the copy by its own triggers and defaults.
DERIVED = {"customer": {"email_consent_state", "sms_consent_state"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--source", default="crm_bench")
    parser.add_argument("--target", default="crm_bench_customers")
    parser.add_argument("--resume-from", choices=TABLES, help="Keep the target and copy from this table on.")
    parser.add_argument("--line-sample", type=int, default=1,
                        help="Copy order lines only of customers whose id is a multiple of this (1: all).")
    args = parser.parse_args()
    if args.resume_from is None:
        admin = create_engine(f"postgresql+psycopg://postgres@{args.host}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{args.target}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{args.target}"'))
        upgrade(create_db_engine(f"postgresql+psycopg://postgres@{args.host}/{args.target}"))
    # autocommit: each COPY is its own short transaction on the shared database, so its locks go at once
    source = psycopg.connect(f"host={args.host} user=postgres dbname={args.source}", autocommit=True)
    target = psycopg.connect(f"host={args.host} user=postgres dbname={args.target}")
    tables = TABLES[TABLES.index(args.resume_from):] if args.resume_from else TABLES
    for table in tables:
        if args.resume_from:
            target.execute(f"DELETE FROM {table}")
        started = time.perf_counter()
        columns = [c.name for c in metadata.tables[table].columns if c.name not in DERIVED.get(table, set())]
        listed = ", ".join(columns)
        where = ""
        if table == "order_line" and args.line_sample > 1:
            where = (f" WHERE order_id IN (SELECT id FROM orders WHERE customer_id % {args.line_sample} = 0)")
        with source.cursor().copy(f"COPY (SELECT {listed} FROM {table}{where}) TO STDOUT (FORMAT BINARY)") as out, \
                target.cursor().copy(f"COPY {table} ({listed}) FROM STDIN (FORMAT BINARY)") as into:
            for block in out:
                into.write(block)
        target.commit()
        print(f"{table}: {time.perf_counter() - started:.1f} s", flush=True)
    with target.cursor() as cursor:
        for table in TABLES:
            if "id" in [c.name for c in metadata.tables[table].columns]:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    target.commit()
    target.autocommit = True
    target.execute("VACUUM ANALYZE")
    print("done")


if __name__ == "__main__":
    main()
