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


def test_import_csv_with_extreme_values_reports_rows_without_traceback(tmp_path):
    """total=1e999999, a year 0001 and a 10 KB id are rejected rows with their lines; the good row imports."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert crm_graph("stores", "create", "shop", database_url=url).returncode == 0
    path = tmp_path / "orders.csv"
    path.write_text("order_id,placed_at,status,total\n"
                    "o1,2026-01-01,PAID,10\n"
                    "o2,2026-01-01,PAID,1e999999\n"
                    "o3,0001-01-01,PAID,10\n"
                    f"{'x' * 10_000},2026-01-01,PAID,10\n", encoding="utf-8")
    done = crm_graph("import-csv", "shop", str(path), "--kind", "orders", database_url=url)
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "Traceback" not in output, output
    assert "line 3: total '1e999999' is too large an amount" in done.stdout
    assert "line 4: placed_at '0001-01-01' is outside the years 1900–2999" in done.stdout
    assert "line 5: order_id is longer than 255 characters" in done.stdout


def test_import_csv_of_a_missing_file_is_one_line_exit_2(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert crm_graph("stores", "create", "shop", database_url=url).returncode == 0
    missing = crm_graph("import-csv", "shop", str(tmp_path / "nowhere" / "orders.csv"), "--kind", "orders",
                        database_url=url)
    lines = [line for line in missing.stderr.splitlines() if line.strip()]
    assert missing.returncode == 2 and len(lines) == 1 and "Traceback" not in missing.stdout + missing.stderr
    assert "'orders.csv' does not exist" in lines[0] and str(tmp_path) not in lines[0]
