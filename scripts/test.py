"""Quick start, command 2: install crm-graph with its test dependencies into .venv and run the tests.

Usage: python3 scripts/test.py [pytest options]
Tests always run on SQLite, and on PostgreSQL and Redis at 127.0.0.1 where they are reachable
(CRM_GRAPH_TEST_POSTGRES_URL / CRM_GRAPH_TEST_REDIS_URL override); with CI=true an unreachable
PostgreSQL or Redis fails the run instead of skipping.
"""

import sys

from _bootstrap import ensure_environment, run

if __name__ == "__main__":
    python = ensure_environment(extras="test")
    run(python, ["-m", "pytest", *sys.argv[1:]])
