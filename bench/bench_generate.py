"""Measure generating and loading stores: PostgreSQL at 100,000 and 1,000,000 customers, SQLite at 10,000.

    python bench/bench_generate.py [--postgres-sizes 100000 1000000] [--sqlite-sizes 10000]
                                   [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                   [--no-write]

Each PostgreSQL size is generated into a freshly created scratch database (`crm_bench_generate`,
dropped afterwards; never the benchmark database), each SQLite size into a new temporary file. The
results table replaces the `## Data generator` section of docs/PERFORMANCE.md unless --no-write.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from crm_graph.db import create_db_engine, session_scope  # noqa: E402
from crm_graph.generator import generate_store  # noqa: E402
from crm_graph.migrate import upgrade  # noqa: E402
from crm_graph.services.stores import create_store  # noqa: E402

SCRATCH = "crm_bench_generate"
ANCHOR = date(2026, 11, 22)


def _admin(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def run(url: str, customers: int) -> dict:
    """Migrate `url`, create a store and generate `customers` into it; return the figures."""
    engine = create_db_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        store = create_store(session, "bench-generate", timezone="Europe/Warsaw", currency="PLN")
    load = os.getloadavg()[0]
    started = time.perf_counter()
    summary = generate_store(engine, store, customers=customers, seed=42, anchor=ANCHOR)
    seconds = time.perf_counter() - started
    engine.dispose()
    rows = sum(summary.counts.values())
    return {"customers": customers, "seconds": seconds, "rows": rows, "summary": summary, "load": load}


def run_postgres(admin_url: str, customers: int) -> dict:
    admin = _admin(admin_url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{SCRATCH}"'))
    try:
        url = make_url(admin_url).set(database=SCRATCH).render_as_string(hide_password=False)
        return {"database": "PostgreSQL", **run(url, customers)}
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
        admin.dispose()


def run_sqlite(customers: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        return {"database": "SQLite", **run(f"sqlite:///{folder}/bench.db", customers)}


def postgres_version(admin_url: str) -> str:
    admin = _admin(admin_url)
    try:
        with admin.connect() as connection:
            return connection.execute(text("SHOW server_version")).scalar().split()[0]
    finally:
        admin.dispose()


def report(results: list[dict], command: str, admin_url: str) -> str:
    lines = [
        "## Data generator",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({platform.machine()}, Python {platform.python_version()}, PostgreSQL {postgres_version(admin_url)}, "
        f"NumPy generation + COPY), seed 42, anchor {ANCHOR}. Command:",
        "",
        "```",
        command,
        "```",
        "",
        "| database | customers | orders | order lines | consent events | activity events | all rows | seconds "
        "| rows/s | load avg at start |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        c = r["summary"].counts
        lines.append(
            f"| {r['database']} | {r['customers']:,} | {c['orders']:,} | {c['order_line']:,} | "
            f"{c['consent_event']:,} | {c['activity_event']:,} | {r['rows']:,} | {r['seconds']:.1f} | "
            f"{r['rows'] / r['seconds']:,.0f} | {r['load']:.1f} |"
        )
    lines += ["", "Phases (seconds) and the database's COPY time per table:", ""]
    for r in results:
        phases = ", ".join(f"{k} {v:.1f}" for k, v in r["summary"].phases.items())
        copies = ", ".join(f"{k} {v:.1f}" for k, v in r["summary"].load_seconds.items() if v >= 0.05)
        lines.append(f"- {r['database']} {r['customers']:,}: {phases}" + (f"; COPY: {copies}" if copies else ""))
    return "\n".join(lines) + "\n"


def write_section(section: str) -> Path:
    """Replace (or add) the `## Data generator` section of docs/PERFORMANCE.md."""
    path = ROOT / "docs" / "PERFORMANCE.md"
    path.parent.mkdir(exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n\n"
    pattern = re.compile(r"^## Data generator\n.*?(?=^## |\Z)", re.M | re.S)
    marker = "<!-- data-generator-results -->\n"
    if pattern.search(existing):
        body = pattern.search(existing).group(0)
        # Keep hand-written notes after the results marker.
        notes = body[body.index(marker):] if marker in body else ""
        updated = pattern.sub(lambda _: section + "\n" + notes, existing, count=1)
    else:
        updated = existing.rstrip("\n") + "\n\n" + section + "\n" + marker
    path.write_text(updated, encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--sqlite-sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/PERFORMANCE.md alone")
    args = parser.parse_args()
    results = []
    for size in args.sqlite_sizes:
        results.append(run_sqlite(size))
        print(f"SQLite {size:,}: {results[-1]['seconds']:.1f} s  ({results[-1]['summary']})", flush=True)
    for size in args.postgres_sizes:
        results.append(run_postgres(args.postgres_url, size))
        print(f"PostgreSQL {size:,}: {results[-1]['seconds']:.1f} s  ({results[-1]['summary']})", flush=True)
    command = "python bench/bench_generate.py " + " ".join(sys.argv[1:])
    section = report(results, command.strip(), args.postgres_url)
    print(section)
    if not args.no_write:
        print(f"updated {write_section(section)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
