"""Bad generator input: a clear UserError before anything is written."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from crm_graph.errors import UserError
from crm_graph.generator import generate_store
from tests.cli_runner import run_cli_in_process

ANCHOR = date(2026, 6, 15)


def _rows(engine, store) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f'SELECT COUNT(*) FROM "{table}" WHERE store_id = :s'), {"s": store.id}).scalar()
            for table in ("customer", "product", "orders", "tag", "marketing_spend")
        }


@pytest.mark.parametrize("size", [0, -5, 1_000_001])
def test_size_outside_the_range_is_refused_and_nothing_is_written(engine, store, size):
    with pytest.raises(UserError, match=r"customers must be a whole number from 1 to 1,000,000"):
        generate_store(engine, store, customers=size, anchor=ANCHOR)
    assert _rows(engine, store) == {"customer": 0, "product": 0, "orders": 0, "tag": 0, "marketing_spend": 0}


def test_negative_seed_is_refused(engine, store):
    with pytest.raises(UserError, match="seed"):
        generate_store(engine, store, customers=10, seed=-1, anchor=ANCHOR)
    assert _rows(engine, store)["customer"] == 0


def test_a_store_with_customers_is_refused_and_left_alone(engine, store):
    generate_store(engine, store, customers=30, anchor=ANCHOR)
    before = _rows(engine, store)
    assert before["customer"] == 30
    with pytest.raises(UserError, match="already has customers"):
        generate_store(engine, store, customers=30, anchor=ANCHOR)
    assert _rows(engine, store) == before


@pytest.mark.parametrize("size", ["0", "-5"])
def test_cli_prints_one_line_and_exits_non_zero(tmp_path: Path, size):
    database = tmp_path / "cli.db"
    env = {**os.environ, "CRM_GRAPH_DATABASE_URL": f"sqlite:///{database}"}
    result = run_cli_in_process(["generate", "shop", "--customers", size], env=env,
                                cwd=Path(__file__).resolve().parents[2])
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "customers must be a whole number from 1 to 1,000,000" in lines[0]
    assert "--customers 10000" in lines[0]
    assert not database.exists()  # refused before the database was touched
