"""Every failure of the real `crm-graph` command is one line, exit code 2, no traceback, and nothing
written: a bad production setting under `serve --workers 2` (once, not a crash loop of API processes),
Redis down for the commands that send jobs, malformed JSON options, a missing optional package, a
usage error, and a busy port for the demo. Also: `serve` and `migrate` name the database they use.

`serve`, `worker`, `scheduler` and `precompute` with a Redis URL run as real processes (`run_cli`): they
start servers, replace their process or install the process's job broker. The other commands run in
this process (`run_cli_here`, see `tests.cli_runner`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from crm_graph.models import Job
from tests.cli_runner import run_cli_in_process

#: A production-looking secret, for the cases where the secret is not what is being tested.
SECRET = "x" * 48


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _clean_environment(**env: str) -> dict[str, str]:
    """This process's environment without crm-graph settings, plus `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CRM_GRAPH_") or k.startswith("CRM_GRAPH_TEST_")}
    return {**base, **env}


def run_cli(*args: str, cwd: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    """Run `python -m crm_graph args` in its own process group; on timeout kill the whole group (a
    crash loop of uvicorn workers included) and fail."""
    process = subprocess.Popen([sys.executable, "-m", "crm_graph", *args], cwd=cwd, env=_clean_environment(**env),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"`crm-graph {' '.join(args)}` did not exit within {timeout} s; stderr ends with: "
                    f"{stderr[-2000:]}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run_cli_here(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`crm-graph args` run in this process, with the environment `run_cli` would give it."""
    return run_cli_in_process(args, env=_clean_environment(**env), cwd=cwd)


def assert_one_line_failure(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit code 2, no traceback, exactly one line of output (on stderr), containing `needles`."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --- serve: the configuration is checked once, before uvicorn starts any process ---------------

@pytest.mark.parametrize("env, needle", [
    ({"CRM_GRAPH_PRODUCTION": "true"}, "CRM_GRAPH_SECRET_KEY"),
    ({"CRM_GRAPH_PRODUCTION": "true", "CRM_GRAPH_SECRET_KEY": SECRET, "CRM_GRAPH_DEV_STORE": "demo"},
     "CRM_GRAPH_DEV_STORE"),
], ids=["default-secret", "dev-store"])
def test_serve_with_several_processes_fails_once_on_a_bad_production_setting(db_url, engine, tmp_path, env, needle):
    started = time.monotonic()
    result = run_cli("serve", "--workers", "2", "--port", str(_closed_port()), cwd=tmp_path,
                     CRM_GRAPH_DATABASE_URL=db_url, **env)
    assert_one_line_failure(result, needle)
    assert time.monotonic() - started < 30


def test_serve_and_migrate_print_the_absolute_path_of_a_relative_sqlite_file(tmp_path):
    migrated = run_cli("migrate", cwd=tmp_path, CRM_GRAPH_DATABASE_URL="sqlite:///relative.db")
    assert migrated.returncode == 0, migrated.stderr
    assert f"SQLite file {tmp_path / 'relative.db'} is at revision" in migrated.stdout
    port = _closed_port()
    server = subprocess.Popen([sys.executable, "-m", "crm_graph", "serve", "--port", str(port)], cwd=tmp_path,
                              env=_clean_environment(CRM_GRAPH_DATABASE_URL="sqlite:///relative.db"),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("GraphQL API on" in line for line in lines):
            line = server.stdout.readline()
            if not line:
                break
            lines.append(line)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.communicate(timeout=30)
    assert any(f"SQLite file {tmp_path / 'relative.db'}" in line for line in lines), lines


# --- commands that send jobs: Redis is checked up front, with a short timeout -----------------

@pytest.mark.parametrize("wait", ["--no-wait", "--wait"])
def test_precompute_with_redis_unreachable_fails_at_once_and_creates_no_job(db_url, engine, store, tmp_path, wait):
    port = _closed_port()
    started = time.monotonic()
    result = run_cli("precompute", store.slug, wait, cwd=tmp_path, timeout=60, CRM_GRAPH_DATABASE_URL=db_url,
                     CRM_GRAPH_REDIS_URL=f"redis://:hunter2@127.0.0.1:{port}/0")
    line = assert_one_line_failure(result, f"127.0.0.1:{port}", "CRM_GRAPH_REDIS_URL")
    assert "hunter2" not in line
    assert time.monotonic() - started < 30
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Job).where(Job.store_id == store.id)).scalar() == 0


@pytest.mark.parametrize("command", [["worker"], ["scheduler"]])
def test_worker_and_scheduler_with_redis_unreachable(tmp_path, command):
    port = _closed_port()
    result = run_cli(*command, cwd=tmp_path, CRM_GRAPH_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
                     CRM_GRAPH_REDIS_URL=f"redis://127.0.0.1:{port}/0")
    assert_one_line_failure(result, f"redis://127.0.0.1:{port}/0")


def test_a_redis_url_that_is_not_one(tmp_path):
    result = run_cli("precompute", "shop", cwd=tmp_path, CRM_GRAPH_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
                     CRM_GRAPH_REDIS_URL="http://127.0.0.1:6379")
    assert_one_line_failure(result, "CRM_GRAPH_REDIS_URL", "redis://")


def test_worker_metrics_without_prometheus_client(redis_url, tmp_path):
    """Whether or not prometheus-client is installed here, a package that cannot be imported is one
    line naming the extra that installs it (a stand-in module on PYTHONPATH fails to import)."""
    shadow = tmp_path / "shadow" / "prometheus_client"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'prometheus_client'\", name='prometheus_client')\n")
    result = run_cli("worker", "--processes", "1", "--threads", "1", cwd=tmp_path, timeout=60,
                     CRM_GRAPH_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", CRM_GRAPH_REDIS_URL=redis_url,
                     CRM_GRAPH_WORKER_METRICS="true", PYTHONPATH=str(shadow.parent))
    assert_one_line_failure(result, "prometheus", "crm-graph[metrics]")


# --- options and arguments ----------------------------------------------------------------------

@pytest.fixture
def sqlite_shop(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run_cli_here("stores", "create", "shop", cwd=tmp_path, CRM_GRAPH_DATABASE_URL=url).returncode == 0
    return url


def test_malformed_json_options(sqlite_shop, tmp_path):
    (tmp_path / "orders.csv").write_text("id,email\n1,a@example.com\n")
    (tmp_path / "broken.json").write_text('{"url": ')
    cases = [
        (["import-csv", "shop", "orders.csv", "--kind", "customers", "--mapping", "{E-mail: email}"],
         ("--mapping", "not valid JSON")),
        (["connect", "shop", "woocommerce", "--settings", "@missing.json"], ("--settings", "missing.json")),
        (["connect", "shop", "woocommerce", "--settings", "@broken.json"], ("broken.json", "not valid JSON")),
        (["connect", "shop", "woocommerce", "--settings", "{url"], ("--settings", "not valid JSON")),
    ]
    for args, needles in cases:
        assert_one_line_failure(run_cli_here(*args, cwd=tmp_path, CRM_GRAPH_DATABASE_URL=sqlite_shop), *needles)


def test_usage_errors_are_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert_one_line_failure(run_cli_here("import-csv", "shop", cwd=tmp_path, CRM_GRAPH_DATABASE_URL=url),
                            "Missing argument", "import-csv --help")
    assert_one_line_failure(run_cli_here("generate", "shop", "--customers", "many", cwd=tmp_path,
                                         CRM_GRAPH_DATABASE_URL=url), "--customers")
    assert_one_line_failure(run_cli_here("no-such-command", cwd=tmp_path, CRM_GRAPH_DATABASE_URL=url),
                            "no-such-command")
    assert not (tmp_path / "cli.db").exists()


# --- the demo checks its port before it writes anything --------------------------------------------

def test_demo_refuses_a_busy_port_before_writing(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert run_cli_here("migrate", cwd=tmp_path, CRM_GRAPH_DATABASE_URL=url).returncode == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli_here("demo", "--customers", "10", "--port", str(port), cwd=tmp_path,
                              CRM_GRAPH_DATABASE_URL=url)
    assert_one_line_failure(result, str(port), "--port")
    database = create_engine(url)
    with database.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM api_key")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM store")).scalar() == 0
    database.dispose()
