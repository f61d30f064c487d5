"""Fault test: PostgreSQL restarted under load; errors only during the outage, recovery without a restart.

Creates its own small database (dropped at the end), starts the API (2 processes), runs concurrent
clients, and after `--before` seconds restarts the PostgreSQL server with
``pg_ctlcluster --skip-systemctl-redirect <version> <cluster> restart``. Every request is recorded
with its time, so the script reports when the first and last errors happened, how long the server
was down, and how long after PostgreSQL accepted connections again the API answered without
errors (the target is under 10 s). The API processes are never restarted.

Restarting PostgreSQL interrupts every client of that server, so the script refuses to run
without ``--restart-postgres``.

    python bench/fault_postgres.py --restart-postgres --clients 16 --before 10 --after 20
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from bench._harness import QUERIES, drop_database, prepare_database, run_load, uvicorn_server  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


PG_BIN = Path("/usr/lib/postgresql/15/bin")


@contextmanager
def private_cluster():
    """A throw-away PostgreSQL server on a free loopback port, run as the postgres user.

    Yields (admin_url, restart_command). It lets the fault be rehearsed without touching the
    shared server; it is stopped and deleted afterwards.
    """
    from bench._harness import free_port

    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="crm-fault-pg-"))
    shutil.chown(data, "postgres", "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_postgres, str(PG_BIN / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres"],
                   check=True, stdout=subprocess.DEVNULL)
    ctl = [*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data / "db"), "-l", str(data / "log"), "-o", options]
    subprocess.run([*ctl, "-w", "start"], check=True, stdout=subprocess.DEVNULL)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", [*ctl, "-w", "-m", "fast", "restart"]
    finally:
        subprocess.run([*ctl, "-w", "-m", "immediate", "stop"], check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)


def _accepts_connections(admin_url: str) -> bool:
    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 1})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


def main() -> int:
    """Run the fault test; print the timeline summary as JSON; exit 1 when the targets are missed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--restart-postgres", action="store_true", help="required: this restarts the server")
    parser.add_argument("--private", action="store_true",
                        help="rehearse on a throw-away PostgreSQL server of its own instead of the shared one")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--cluster", default="15 main", help="pg_ctlcluster version and name")
    parser.add_argument("--query", default="customer-count")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--before", type=float, default=10, help="seconds of load before the restart")
    parser.add_argument("--after", type=float, default=20, help="seconds of load after the restart")
    parser.add_argument("--command", default=None,
                        help="run this instead of the restart (e.g. `true` to check the script without a fault)")
    parser.add_argument("--log", type=Path, default=Path("/tmp/crm-graph-fault-postgres-uvicorn.log"))
    args = parser.parse_args()
    if not (args.restart_postgres or args.command or args.private):
        parser.error("this restarts PostgreSQL for every client of the server; pass --restart-postgres")
    if args.before + args.after > 120:
        parser.error("--before + --after must stay under 120 s")

    with ExitStack() as stack:
        command = args.command.split() if args.command else [
            "pg_ctlcluster", "--skip-systemctl-redirect", *args.cluster.split(), "restart", "-m", "fast"]
        if args.private:
            args.admin_url, private_restart = stack.enter_context(private_cluster())
            command = command if args.command else private_restart
        return _run(args, command)


def _run(args: argparse.Namespace, command: list[str]) -> int:
    """The load, the fault and the summary (see the module docstring)."""
    url, keys = prepare_database(args.admin_url, args.customers)
    key = keys["read"]
    events: dict[str, float] = {}

    def restart(origin: float) -> None:
        """Restart PostgreSQL, then note when it accepts connections again (seconds since `origin`).

        A CHECKPOINT first leaves the shutdown little to write, which keeps the outage short.
        """
        try:
            checkpoint = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
            with checkpoint.connect() as connection:
                connection.execute(text("CHECKPOINT"))
            checkpoint.dispose()
        except Exception:  # noqa: BLE001  (best effort)
            pass
        events["restart_begin"] = time.monotonic() - origin
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # noqa: S603
        events["restart_command_done"] = time.monotonic() - origin
        while not _accepts_connections(args.admin_url):
            time.sleep(0.1)
        events["postgres_back"] = time.monotonic() - origin

    def on_tick(elapsed: float) -> None:
        if elapsed >= args.before and "triggered" not in events:
            events["triggered"] = elapsed
            threading.Thread(target=restart, args=(time.monotonic() - elapsed,), daemon=True).start()

    try:
        with uvicorn_server(url, workers=2, log_path=args.log) as (base, server):
            result = run_load(base, key, QUERIES[args.query], clients=args.clients,
                              seconds=args.before + args.after, server_pid=server.pid, on_tick=on_tick)
    finally:
        deadline = time.monotonic() + 30
        while not _accepts_connections(args.admin_url) and time.monotonic() < deadline:
            time.sleep(0.5)
        drop_database(args.admin_url, url)

    errors = result.errors
    back = events.get("postgres_back")
    last_error = max((s.at for s in errors), default=None)
    first_error = min((s.at for s in errors), default=None)
    after_back = [s for s in result.samples if back is not None and s.at > back]
    recovered_at = None
    if back is not None:
        failing_after = [s.at for s in after_back if s.error]
        recovered_at = max(failing_after, default=back)
    ok_after = [s for s in after_back if recovered_at is not None and s.at > recovered_at]
    summary = {
        "query": args.query,
        "clients": args.clients,
        "requests": len(result.samples),
        "errors": len(errors),
        "error_kinds": result.summary()["error_kinds"],
        "restart_began_s": round(events.get("restart_begin", -1), 2),
        "restart_command_done_s": round(events.get("restart_command_done", -1), 2),
        "postgres_accepting_again_s": round(back, 2) if back is not None else None,
        "first_error_s": round(first_error, 2) if first_error is not None else None,
        "last_error_s": round(last_error, 2) if last_error is not None else None,
        "errors_before_restart": sum(1 for s in errors if s.at < events.get("restart_begin", 0)),
        "recovery_after_postgres_back_s": round(recovered_at - back, 2) if recovered_at and back else None,
        "successful_requests_after_recovery": len(ok_after),
        "rss_start_mib": result.summary()["rss_start_mib"],
        "rss_end_mib": result.summary()["rss_end_mib"],
    }
    print(json.dumps(summary, indent=2))
    recovered = summary["recovery_after_postgres_back_s"] is not None and summary["recovery_after_postgres_back_s"] < 10
    return 0 if recovered and summary["errors_before_restart"] == 0 and ok_after else 1


if __name__ == "__main__":
    sys.exit(main())
