"""Build the benchmark store: PostgreSQL database `crm_bench`, store `bench`, 1,000,000 customers, seed 42.

    python bench/make_bench_store.py [--customers N] [--seed S] [--database-url URL] [--replace]

The store is generated under a temporary slug and renamed to `bench` only when it is complete, so
the database never holds a half-built `bench`. With `--replace` an existing `bench` is swapped out and
deleted afterwards. The tables are vacuumed and analysed at the end, as a restored database would be.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from crm_graph.db import create_db_engine, session_scope  # noqa: E402
from crm_graph.generator import check_size, generate_store  # noqa: E402
from crm_graph.generator.bulk import BULK_TABLES  # noqa: E402
from crm_graph.migrate import upgrade  # noqa: E402
from crm_graph.models import Store  # noqa: E402
from crm_graph.services.stores import create_store  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench"
SLUG = "bench"


def ensure_database(url: str) -> bool:
    """Create the database of `url` when it does not exist; return whether it was created."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            ).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
            return not exists
    finally:
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--replace", action="store_true", help="replace an existing `bench` store")
    parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM ANALYZE at the end")
    args = parser.parse_args()
    check_size(args.customers)

    began = time.perf_counter()
    created = ensure_database(args.database_url)
    engine = create_db_engine(args.database_url)
    upgrade(engine)
    print(f"database {make_url(args.database_url).database}: {'created' if created else 'exists'}, migrated")
    with session_scope(engine) as session:
        old = session.execute(text("SELECT id FROM store WHERE slug = :slug"), {"slug": SLUG}).scalar()
        if old is not None and not args.replace:
            print(f"store {SLUG!r} already exists; pass --replace to build it again", file=sys.stderr)
            return 1
        store = create_store(session, f"bench-building-{os.getpid()}", name="Benchmark store",
                             timezone="Europe/Warsaw", currency="PLN")

    stages: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage not in stages:
            stages[stage] = now
            print(f"  {stage} ...", flush=True)
        if done == total:
            print(f"  {stage}: {done:,}/{total:,} after {now - stages[stage]:.1f} s", flush=True)

    print(f"generating {args.customers:,} customers (seed {args.seed}) ...", flush=True)
    summary = generate_store(engine, store, customers=args.customers, seed=args.seed, progress=progress)
    print(f"generated {summary}")
    print("database COPY seconds per table:", {k: round(v, 1) for k, v in summary.load_seconds.items()})

    with session_scope(engine) as session:
        if old is not None:
            session.execute(text("UPDATE store SET slug = :slug WHERE id = :id"),
                            {"slug": f"bench-old-{os.getpid()}", "id": old})
        session.execute(text("UPDATE store SET slug = :slug WHERE id = :id"), {"slug": SLUG, "id": store.id})
    print(f"store {SLUG!r} is ready (id {store.id})")
    if old is not None:
        started = time.perf_counter()
        with session_scope(engine) as session:
            session.delete(session.get(Store, old))
        print(f"deleted the previous {SLUG!r} in {time.perf_counter() - started:.1f} s")
    if not args.no_vacuum:
        started = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in BULK_TABLES:
                connection.execute(text(f'VACUUM (ANALYZE) "{table}"'))
        print(f"VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")
    print(f"total {time.perf_counter() - began:.1f} s")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
