"""The connector commands: import-csv prints a summary and where the rejects are; errors are one line.

The commands run in this process (`tests.cli_runner`); `test_import_csv_summary_rejects_and_errors`
runs them as the real `python -m crm_graph` process."""

import os
import subprocess
import sys
from pathlib import Path

from tests.cli_runner import run_cli_in_process

ROOT = Path(__file__).resolve().parent.parent


def _environment(database_url: str) -> dict[str, str]:
    environment = {**os.environ, "CRM_GRAPH_DATABASE_URL": database_url, "COLUMNS": "200"}
    environment.pop("CRM_GRAPH_DEV_STORE", None)
    return environment


def crm_graph(*args: str, database_url: str) -> subprocess.CompletedProcess:
    """`crm-graph ARGS`, run in this process."""
    return run_cli_in_process(args, env=_environment(database_url), cwd=ROOT)


def crm_graph_process(*args: str, database_url: str) -> subprocess.CompletedProcess:
    """`crm-graph ARGS` as a real process (`python -m crm_graph`)."""
    return subprocess.run([sys.executable, "-m", "crm_graph", *args], cwd=ROOT, env=_environment(database_url),
                          capture_output=True, text=True, timeout=120)


def test_import_csv_summary_rejects_and_errors(tmp_path):
    """Through the real process: the entry point, its exit codes and its one-line errors."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert crm_graph_process("stores", "create", "shop", database_url=url).returncode == 0
    path = tmp_path / "customers.csv"
    path.write_text("customer_id;email\n1;a@example.com\n2;not-an-email\n", encoding="utf-8")
    done = crm_graph_process("import-csv", "shop", str(path), "--kind", "customers", database_url=url)
    assert done.returncode == 1, done.stderr  # some rows were rejected
    assert "created" in done.stdout and "rejected" in done.stdout
    assert "line 3: email 'not-an-email' is not an email address" in done.stdout
    assert "customers.csv.rejects.csv" in done.stdout.replace("\n", "")
    wrong = crm_graph_process("import-csv", "shop", str(path), "--kind", "sales", database_url=url)
    assert wrong.returncode == 2 and "kind: 'sales' is not a CSV kind" in wrong.stderr
    unknown = crm_graph_process("sync", "shop", "woocommerce", database_url=url)
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
    assert done.returncode == 1 and "Traceback" not in output, output
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


FIXTURES = ROOT / "tests" / "fixtures" / "csv"


def test_import_csv_exit_codes_tell_every_some_or_no_row_imported(db_url, tmp_path):
    """0: every row imported; 1: some rejected (and the summary says how many); 2: nothing imported, or a
    file that cannot be read (both databases: the store is the CLI's own, the file a fixture)."""
    import shutil
    import uuid

    slug = f"exit-{uuid.uuid4().hex[:8]}"
    assert crm_graph("stores", "create", slug, database_url=db_url).returncode == 0

    def run(name: str, kind: str) -> subprocess.CompletedProcess:
        shutil.copyfile(FIXTURES / name, tmp_path / name)  # the rejects report is written beside the file
        return crm_graph("import-csv", slug, str(tmp_path / name), "--kind", kind, database_url=db_url)

    clean = run("customers_clean.csv", "customers")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    some = run("customers_countries.csv", "customers")
    assert some.returncode == 1, some.stdout + some.stderr
    assert "1 row(s) rejected, 5 imported (exit code 1)." in some.stdout
    assert "line 6: country 'ZZZ' is not a country" in some.stdout
    none = run("tags_unknown_customer.csv", "tags")
    assert none.returncode == 2 and "Nothing imported: all 2 row(s) rejected" in none.stdout, none.stdout
    assert "line 2: no customer with this id, email or phone in the store" in none.stdout
    unreadable = run("customers_utf7.csv", "customers")
    assert unreadable.returncode == 2 and "encoded as UTF-7" in unreadable.stderr
    assert "Traceback" not in unreadable.stdout + unreadable.stderr
    utf16 = run("customers_utf16le_bom.csv", "customers")
    assert utf16.returncode == 0 and "Read as UTF-16 LE text." in utf16.stdout, utf16.stdout + utf16.stderr
    ignored = run("customers_ignored_columns.csv", "customers")
    assert ignored.returncode == 0
    assert "ignored columns: Customer ID, First Name, Last Name, Notes" in ignored.stdout.replace("\n", "")
    orders = run("orders_without_lines.csv", "orders")
    assert orders.returncode == 0 and "no order lines were stored" in orders.stdout.replace("\n", " ")
