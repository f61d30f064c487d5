"""`crm-graph keys`: the key is printed once, only its hash is stored, revocation and last use show."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from crm_graph.cli import app
from crm_graph.models import ApiKey
from crm_graph.services.api_keys import authenticate, hash_key, needs_touch, touch_api_key
from crm_graph.settings import get_settings

KEY = re.compile(r"crm_[A-Za-z0-9_-]{43}")


@pytest.fixture
def cli(db_url, monkeypatch):
    """Runs `crm-graph ...` against this session's database."""
    monkeypatch.setenv("CRM_GRAPH_DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    yield run
    get_settings.cache_clear()


def test_keys_create_prints_the_key_once_and_stores_its_hash(cli, store, engine):
    output = cli("keys", "create", store.slug, "--role", "write", "--name", "importer")
    keys = KEY.findall(output)
    assert len(keys) == 1
    plain = keys[0]
    with Session(engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.store_id == store.id)).one()
    assert row.role == "WRITE" and row.name == "importer"
    assert row.key_hash == hash_key(plain) and plain[:10] == row.prefix
    listing = cli("keys", "list", store.slug)
    assert plain not in listing and row.prefix in listing and "WRITE" in listing


def test_keys_revoke_and_last_use(cli, store, engine):
    plain = KEY.findall(cli("keys", "create", store.slug, "--role", "read"))[0]
    with Session(engine, expire_on_commit=False) as session:
        key, _ = authenticate(session, plain)
        assert needs_touch(key)
        touch_api_key(session, key.id)
        session.commit()
    listing = cli("keys", "list", store.slug)
    row_line = next(line for line in listing.splitlines() if key.prefix in line)
    assert len(re.findall(r"\d{4}-\d\d-\d\d", row_line)) == 2  # created and last used

    cli("keys", "revoke", store.slug, str(key.id))
    with Session(engine) as session:
        assert authenticate(session, plain) is None
        assert session.get(ApiKey, key.id).revoked_at is not None


def test_keys_create_refuses_an_unknown_role(db_url, monkeypatch, store):
    monkeypatch.setenv("CRM_GRAPH_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["keys", "create", store.slug, "--role", "root"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0 and not KEY.search(result.output or "")
