"""The command line: bad input is one clear line on stderr, exit code 2, no traceback, nothing written.

The commands run in this process (`tests.cli_runner`); `test_keys_are_printed_once_and_stored_hashed`
runs them as the real `python -m crm_graph` process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_runner import run_cli_in_process

ROOT = Path(__file__).resolve().parent.parent


def _environment(database_url: str, env: dict[str, str]) -> dict[str, str]:
    environment = {**os.environ, "CRM_GRAPH_DATABASE_URL": database_url, **env}
    environment.pop("CRM_GRAPH_DEV_STORE", None)
    return environment


def crm_graph(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess:
    """`crm-graph ARGS`, run in this process."""
    return run_cli_in_process(args, env=_environment(database_url, env), cwd=ROOT)


def crm_graph_process(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess:
    """`crm-graph ARGS` as a real process (`python -m crm_graph`)."""
    return subprocess.run([sys.executable, "-m", "crm_graph", *args], cwd=ROOT, env=_environment(database_url, env),
                          capture_output=True, text=True, timeout=120)


def assert_clear_failure(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_malformed_database_url():
    assert_clear_failure(crm_graph("migrate", database_url="not a url"), "CRM_GRAPH_DATABASE_URL", "sqlite:///")


def test_unsupported_database():
    assert_clear_failure(crm_graph("migrate", database_url="mysql://root@127.0.0.1/test"), "not supported")


def test_unreachable_postgres():
    result = crm_graph("migrate", database_url="postgresql://postgres@127.0.0.1:1/nothing")
    assert_clear_failure(result, "Cannot reach the database", "CRM_GRAPH_DATABASE_URL")


def test_missing_sqlite_folder(tmp_path):
    result = crm_graph("migrate", database_url=f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}")
    assert_clear_failure(result, "does not exist")


def test_bad_setting_value(sqlite_url):
    assert_clear_failure(crm_graph("migrate", database_url=sqlite_url, CRM_GRAPH_PORT="eighty"), "CRM_GRAPH_PORT")


def test_unknown_store(sqlite_url):
    assert_clear_failure(crm_graph("keys", "create", "nosuch", database_url=sqlite_url), "nosuch", "stores list")


def test_store_lifecycle_and_bad_store_input(sqlite_url):
    created = crm_graph("stores", "create", "shop-1", "--timezone", "Europe/Warsaw", "--currency", "pln",
                        database_url=sqlite_url)
    assert created.returncode == 0, created.stderr
    assert_clear_failure(crm_graph("stores", "create", "shop-1", database_url=sqlite_url), "already exists")
    assert_clear_failure(crm_graph("stores", "create", "shop-2", "--timezone", "Mars/Olympus",
                                   database_url=sqlite_url), "IANA timezone")
    assert_clear_failure(crm_graph("stores", "create", "Bad Slug!", database_url=sqlite_url), "slug")
    listed = crm_graph("stores", "list", database_url=sqlite_url)
    assert "shop-1" in listed.stdout and "shop-2" not in listed.stdout


def test_keys_are_printed_once_and_stored_hashed(sqlite_url):
    """Through the real process: the entry point, its exit codes and its one-line errors."""
    from sqlalchemy import create_engine, text

    assert crm_graph_process("stores", "create", "shop", database_url=sqlite_url).returncode == 0
    result = crm_graph_process("keys", "create", "shop", "--role", "write", database_url=sqlite_url)
    assert result.returncode == 0, result.stderr
    plain = result.stdout.strip().splitlines()[-1]
    assert plain.startswith("crm_") and len(plain) > 40
    engine = create_engine(sqlite_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT key_hash, role FROM api_key")).all()
    engine.dispose()
    assert len(stored) == 1 and stored[0].role == "WRITE"
    assert plain not in stored[0].key_hash
    assert_clear_failure(crm_graph_process("keys", "create", "shop", "--role", "root", database_url=sqlite_url),
                         "Role")
