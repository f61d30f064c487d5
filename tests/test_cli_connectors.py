"""The connector commands: import-csv prints a summary and where the rejects are; errors are one line."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def crm_graph(*args: str, database_url: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "CRM_GRAPH_DATABASE_URL": database_url, "COLUMNS": "200"}
    environment.pop("CRM_GRAPH_DEV_STORE", None)
    return subprocess.run([sys.executable, "-m", "crm_graph", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_import_csv_summary_rejects_and_errors(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert crm_graph("stores", "create", "shop", database_url=url).returncode == 0
    path = tmp_path / "customers.csv"
    path.write_text("customer_id;email\n1;a@example.com\n2;not-an-email\n", encoding="utf-8")
    done = crm_graph("import-csv", "shop", str(path), "--kind", "customers", database_url=url)
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout and "rejected" in done.stdout
    assert "line 3: email 'not-an-email' is not an email address" in done.stdout
    assert "customers.csv.rejects.csv" in done.stdout.replace("\n", "")
    wrong = crm_graph("import-csv", "shop", str(path), "--kind", "sales", database_url=url)
    assert wrong.returncode == 2 and "kind: 'sales' is not a CSV kind" in wrong.stderr
    unknown = crm_graph("sync", "shop", "woocommerce", database_url=url)
    assert unknown.returncode == 2 and "'woocommerce' is not registered" in unknown.stderr
