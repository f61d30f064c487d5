"""Prepare the database the load test reads: the benchmark store's customers and consents, at the
newest schema, precomputed as the scheduler leaves a store: up to yesterday (and the day the KPI
cards compare with). Today is not precomputed; the API brings it forward from yesterday.

The benchmark database (`crm_bench`, store `bench`) is only read, never changed: its store,
customers and consent events are copied (COPY through psql) into `--target`, which is created
empty, migrated to the newest schema, filled, analysed, and precomputed for yesterday and for the
day LAST_30_DAYS compares with (30 days before today).

    python bench/prepare_load_db.py --source crm_bench --target crm_load --store bench
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-v", "ON_ERROR_STOP=1"]
URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{}"
TABLES = ("store", "customer", "consent_event")


def _columns(database: str, table: str) -> str:
    out = subprocess.run([*PSQL, "-d", database, "-Atc",
                          "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) "
                          f"FROM information_schema.columns WHERE table_name = '{table}'"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def main() -> int:
    """Copy, migrate, analyse, precompute; print what took how long."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="crm_bench")
    parser.add_argument("--target", default="crm_load")
    parser.add_argument("--store", default="bench")
    args = parser.parse_args()

    from crm_graph.db import create_db_engine
    from crm_graph.migrate import upgrade
    from crm_graph.models import Store
    from crm_graph.services.analytics.precompute import precompute_range
    from crm_graph.services.dates import DatePreset, kpi_comparison_day, resolve_range

    admin = create_engine(URL.format("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{args.target}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{args.target}"'))
    admin.dispose()
    engine = create_db_engine(URL.format(args.target))
    upgrade(engine)

    began = time.perf_counter()
    store_id = subprocess.run([*PSQL, "-d", args.source, "-Atc", f"SELECT id FROM store WHERE slug = '{args.store}'"],
                              check=True, capture_output=True, text=True).stdout.strip()
    for table in TABLES:
        source_columns = _columns(args.source, table)
        where = f"id = {store_id}" if table == "store" else f"store_id = {store_id}"
        reader = subprocess.Popen([*PSQL, "-d", args.source, "-c",
                                   f"\\copy (SELECT {source_columns} FROM {table} WHERE {where}) TO STDOUT"],
                                  stdout=subprocess.PIPE)
        # triggers off: the copied customers already carry their current consent columns, and the
        # consent triggers would re-derive them event by event (minutes for two million events)
        subprocess.run([*PSQL, "-d", args.target, "-c", "SET session_replication_role = replica",
                        "-c", f"\\copy {table} ({source_columns}) FROM STDIN"],
                       stdin=reader.stdout, check=True)
        reader.wait()
        subprocess.run([*PSQL, "-d", args.target, "-c",
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*PSQL, "-d", args.target, "-c", f"VACUUM ANALYZE {table}"], check=True)
    print(f"copied {', '.join(TABLES)} in {time.perf_counter() - began:.0f} s", flush=True)

    with Session(engine, expire_on_commit=False) as session:
        store = session.exec(select(Store).where(Store.slug == args.store)).one()
        r = resolve_range(store, None, DatePreset.LAST_30_DAYS)
        for day in sorted({r.last_day - timedelta(days=1), kpi_comparison_day(r)}):
            began = time.perf_counter()
            precompute_range(session, store, day, day)
            session.commit()
            print(f"precomputed {day} in {time.perf_counter() - began:.1f} s", flush=True)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
