"""Shared helpers of the connector benchmarks: a throw-away PostgreSQL database and memory readings."""

from __future__ import annotations

import os
import resource
import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get("CRM_GRAPH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


@contextmanager
def scratch_postgres(prefix: str = "crm_graph_bench_conn"):
    """A fresh, migrated PostgreSQL database (dropped afterwards); yields its URL."""
    from crm_graph.db import create_db_engine
    from crm_graph.migrate import upgrade

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    engine = create_db_engine(url)
    upgrade(engine)
    try:
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
