"""Quick start, command 1: install crm-graph into .venv and serve a generated demo store with GraphiQL.

Usage: python3 scripts/demo.py [crm-graph demo options, e.g. --customers 50000 --port 8001]
Embedded mode: a SQLite file (crm_graph.db) and in-process workers; nothing else to install.
"""

import sys

from _bootstrap import ensure_environment, run

if __name__ == "__main__":
    python = ensure_environment()
    run(python, ["-m", "crm_graph", "demo", *sys.argv[1:]])
