"""Load test of the API: N concurrent clients for a bounded time against uvicorn on PostgreSQL.

Starts the API (production settings, `--workers` processes, 127.0.0.1), makes a read key for the
store, runs a warm-up and then `--clients` concurrent clients posting one query for `--seconds`,
and prints requests/s, p50, p99, the errors (which must be 0) and the server's resident memory at
the start and the end of the run (which must stay flat). The key is deleted afterwards.

    python bench/load_api.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench \\
        --store bench --query consent --clients 32 --seconds 60

Exit status 1 when there were errors or memory grew by more than 10% (plus 20 MiB of slack).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import QUERIES, delete_key, make_key, run_load, uvicorn_server  # noqa: E402


def main() -> int:
    """Run the load test described by the command line; print the figures as JSON and markdown."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench")
    parser.add_argument("--store", default="bench")
    parser.add_argument("--query", default="consent", help=f"one of {sorted(QUERIES)} or a GraphQL document")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--log", type=Path, default=Path("/tmp/crm-graph-load-uvicorn.log"))
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be between 1 and 600")
    query = QUERIES.get(args.query, args.query)

    key_id, key = make_key(args.database_url, args.store, "load benchmark (temporary)")
    try:
        with uvicorn_server(args.database_url, workers=args.workers, log_path=args.log) as (base, server):
            warm = run_load(base, key, query, clients=args.clients, seconds=args.warmup)
            if warm.errors:
                print(f"warm-up errors: {warm.summary()['error_kinds']}", file=sys.stderr)
            result = run_load(base, key, query, clients=args.clients, seconds=args.seconds, server_pid=server.pid)
    finally:
        delete_key(args.database_url, key_id)

    summary = {"query": args.query, "clients": args.clients, "workers": args.workers, **result.summary(),
               "load_average_1m_at_end": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    if summary.get("server_cpu_ms_per_request"):
        # what the API processes alone could serve with every core to themselves (PostgreSQL and the
        # clients not counted): an upper bound that does not depend on what else runs on the machine
        summary["api_cpu_bound_requests_per_second"] = round(
            (os.cpu_count() or 1) * 1000 / summary["server_cpu_ms_per_request"], 1)
    print(json.dumps(summary, indent=2))
    print(f"\n| {args.query} | {args.clients} | {args.workers} | {summary['requests_per_second']} | "
          f"{summary['p50_ms']} | {summary['p99_ms']} | {summary['errors']} | "
          f"{summary['rss_start_mib']} → {summary['rss_end_mib']} |")
    grew = summary["rss_end_mib"] > summary["rss_start_mib"] * 1.10 + 20
    return 1 if summary["errors"] or grew else 0


if __name__ == "__main__":
    sys.exit(main())
