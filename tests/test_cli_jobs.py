"""The job commands: `precompute` runs in-process without Redis and shows progress; `jobs follow`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import workers.tasks
from crm_graph.cli import app
from crm_graph.graphql.relay import global_id
from crm_graph.settings import get_settings


@pytest.fixture
def cli(db_url, engine, monkeypatch):
    monkeypatch.setenv("CRM_GRAPH_DATABASE_URL", db_url)
    monkeypatch.delenv("CRM_GRAPH_REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_precompute_runs_in_process_and_follows_the_job(cli, store, monkeypatch):
    def precompute(_engine, _store_id, first_day, last_day, progress):
        days = (last_day - first_day).days + 1
        progress(days, days)
        return {"counts": {"days": days}}

    monkeypatch.setattr(workers.tasks, "precompute_for_job", precompute)
    result = cli.invoke(app, ["precompute", store.slug, "--from", "2026-01-01", "--to", "2026-01-31"])
    assert result.exit_code == 0, result.output
    assert "succeeded: days 31." in result.output
    job_id = result.output.split()[1].rstrip(":")
    followed = cli.invoke(app, ["jobs", "follow", job_id])
    assert followed.exit_code == 0 and "succeeded" in followed.output
    by_global_id = cli.invoke(app, ["jobs", "follow", global_id("Job", int(job_id))])  # as the API names it
    assert by_global_id.exit_code == 0 and "succeeded" in by_global_id.output
    assert cli.invoke(app, ["jobs", "follow", global_id("Segment", int(job_id))]).exit_code != 0
    listed = cli.invoke(app, ["jobs", "list", store.slug])
    assert listed.exit_code == 0 and "SUCCEEDED" in listed.output


def test_a_failed_job_exits_with_1_and_says_why(cli, store, monkeypatch):
    from crm_graph.errors import UserError

    def precompute(*_args):
        raise UserError("The store has no orders to precompute.")

    monkeypatch.setattr(workers.tasks, "precompute_for_job", precompute)
    result = cli.invoke(app, ["precompute", store.slug, "--from", "2026-01-01", "--to", "2026-01-02"])
    assert result.exit_code == 1 and "The store has no orders to precompute." in result.output


def test_worker_and_scheduler_need_redis(cli):
    for command in (["worker"], ["scheduler"]):
        result = cli.invoke(app, command)
        assert result.exit_code != 0 and "CRM_GRAPH_REDIS_URL" in str(result.exception)
