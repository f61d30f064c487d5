"""Quick start, command 2: install crm-graph with its test dependencies into .venv and run the tests.

Usage: python3 scripts/test.py [pytest options]   (in parallel, one worker per core; `-n 0` for one process)
Tests always run on SQLite, and on PostgreSQL and Redis at 127.0.0.1 where they are reachable
(CRM_GRAPH_TEST_POSTGRES_URL / CRM_GRAPH_TEST_REDIS_URL override); with CI=true an unreachable
PostgreSQL or Redis fails the run instead of skipping. The dashboard's browser tests drive Chromium at
/usr/bin/chromium: without it they are skipped, except with CI=true, where it is installed with apt
first (and a browser that still is missing fails them).
"""

import sys

from _bootstrap import ensure_chromium, ensure_environment, run

if __name__ == "__main__":
    python = ensure_environment(extras="test")
    ensure_chromium()
    args = sys.argv[1:]
    # One pytest worker per core (pytest-xdist); each worker has its own PostgreSQL database and
    # Redis database number (tests/conftest.py). `-n 0` runs in this process.
    if not any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in args):
        args = ["-n", "auto", *args]
    run(python, ["-m", "pytest", *args])
