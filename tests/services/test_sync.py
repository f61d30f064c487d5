"""Sync: cursors advance with committed pages only, re-read an overlap, stop at the run's start."""

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from crm_graph.connectors import Connector, ConnectorSettings, CustomerRecord, Page, Stream, format_cursor, window_start
from crm_graph.hookspecs import hookimpl
from crm_graph.models import ConnectorConfig
from crm_graph.plugins import get_plugin_manager
from crm_graph.services.sync import PlatformFailure, clamp_cursor, sync_connector
from tests.factories import utc
from tests.ingest_helpers import STORE_TABLES, count, rows, snapshot

DATA_TABLES = tuple(table for table in STORE_TABLES if table != "sync_cursor")

#: The "platform" of the in-memory connector: dataset name -> list of (updated_at, external id, email).
DATA: dict[str, list[tuple[datetime, str, str]]] = {}
CRASH_AFTER: dict[str, int] = {}
SEEN_STARTS: dict[str, list] = {}


class MemorySettings(ConnectorSettings):
    dataset: str


class MemoryConnector(Connector):
    """Serves DATA[dataset] in pages of two, keyed on updated_at, like a platform API."""

    name = "memory"
    settings_model = MemorySettings
    overlap = timedelta(minutes=5)

    def streams(self):
        return [Stream("customers")]

    def read(self, stream, cursor, *, run_started_at):
        start = window_start(cursor, self.overlap)
        SEEN_STARTS.setdefault(self.settings.dataset, []).append(start)
        items = sorted(item for item in DATA[self.settings.dataset]
                       if (start is None or item[0] >= start) and item[0] < run_started_at)
        for page_number, index in enumerate(range(0, len(items), 2), start=1):
            if CRASH_AFTER.get(self.settings.dataset) == page_number - 1:
                raise RuntimeError("the process died here")
            page = items[index:index + 2]
            yield Page([CustomerRecord("memory", ext, email=email, updated_at=at) for at, ext, email in page],
                       cursor=format_cursor(page[-1][0]))
        yield Page([], cursor=format_cursor(run_started_at))


class _Plugin:
    @hookimpl
    def register_connectors(self):
        return [MemoryConnector]


@pytest.fixture(autouse=True, scope="module")
def memory_plugin():
    pm = get_plugin_manager()
    plugin = _Plugin()
    pm.register(plugin, name="memory-test")
    yield
    pm.unregister(plugin)


@pytest.fixture(autouse=True)
def page_sized_batches(monkeypatch):
    """Commit every page (of two records) on its own, as a slow platform's pages would be."""
    monkeypatch.setattr("crm_graph.services.sync.BATCH_RECORDS", 2)


@pytest.fixture
def config(engine, store, request):
    dataset = request.node.name
    DATA[dataset] = [(utc(2026, 1, 1, 0, i), f"c{i}", f"c{i}@example.com") for i in range(5)]
    with Session(engine, expire_on_commit=False) as session:
        row = ConnectorConfig(store_id=store.id, connector="memory", config={"dataset": dataset})
        session.add(row)
        session.commit()
    return row


def cursor_of(engine, config):
    return rows(engine, "SELECT value FROM sync_cursor WHERE connector_id = :c", c=config.id)[0][0]


def test_first_sync_reads_everything_and_parks_the_cursor_at_the_run_start(engine, store, config):
    summary = sync_connector(engine, store.id, config.id, now=utc(2026, 2, 1))
    assert summary.counts["created"] == 5
    assert cursor_of(engine, config) == "2026-02-01T00:00:00+00:00"


def test_empty_windows_keep_a_valid_cursor(engine, store, config):
    sync_connector(engine, store.id, config.id, now=utc(2026, 2, 1))
    before = snapshot(engine, store.id, tables=DATA_TABLES)
    summary = sync_connector(engine, store.id, config.id, now=utc(2026, 2, 2))
    assert summary.counts["created"] == summary.counts["updated"] == 0
    assert cursor_of(engine, config) == "2026-02-02T00:00:00+00:00"
    assert SEEN_STARTS[config.config["dataset"]][-1] == utc(2026, 2, 1) - timedelta(minutes=5)
    assert snapshot(engine, store.id, tables=DATA_TABLES) == before


def test_the_overlap_rereads_recent_records_without_changing_them(engine, store, config):
    dataset = config.config["dataset"]
    sync_connector(engine, store.id, config.id, now=utc(2026, 1, 1, 0, 10))
    DATA[dataset].append((utc(2026, 1, 1, 0, 12), "late", "late@example.com"))  # committed late on the platform
    summary = sync_connector(engine, store.id, config.id, now=utc(2026, 1, 1, 0, 20))
    assert summary.counts["created"] == 1
    assert count(engine, "customer", store.id) == 6


def test_a_changed_record_is_updated_on_the_next_sync(engine, store, config):
    dataset = config.config["dataset"]
    sync_connector(engine, store.id, config.id, now=utc(2026, 2, 1))
    DATA[dataset][0] = (utc(2026, 2, 1, 1), "c0", "changed@example.com")
    summary = sync_connector(engine, store.id, config.id, now=utc(2026, 2, 2))
    assert summary.counts["updated"] == 1
    assert ("changed@example.com",) in rows(engine, "SELECT email FROM customer WHERE store_id = :s", s=store.id)


def test_a_crash_leaves_the_cursor_at_the_last_committed_page_and_the_rerun_completes(engine, store, config):
    dataset = config.config["dataset"]
    CRASH_AFTER[dataset] = 2
    with pytest.raises(PlatformFailure):  # what the connector raised, told uniformly
        sync_connector(engine, store.id, config.id, now=utc(2026, 2, 1))
    assert count(engine, "customer", store.id) == 4
    assert cursor_of(engine, config) == format_cursor(utc(2026, 1, 1, 0, 3))  # last record of page 2
    del CRASH_AFTER[dataset]
    summary = sync_connector(engine, store.id, config.id, now=utc(2026, 2, 1))
    assert count(engine, "customer", store.id) == 5 and count(engine, "customer_identity", store.id) == 5
    assert summary.counts["created"] == 1
    assert cursor_of(engine, config) == "2026-02-01T00:00:00+00:00"


def test_a_cursor_never_moves_past_the_run_start():
    start = utc(2026, 2, 1)
    assert clamp_cursor(format_cursor(utc(2026, 3, 1)), start) == format_cursor(start)
    assert clamp_cursor(format_cursor(utc(2026, 1, 1)), start) == format_cursor(utc(2026, 1, 1))
    assert clamp_cursor("opaque-token", start) == "opaque-token"


def test_pages_are_gathered_into_batches_with_the_last_cursor(engine, store, config, monkeypatch):
    monkeypatch.setattr("crm_graph.services.sync.BATCH_RECORDS", 1000)
    dataset = config.config["dataset"]
    CRASH_AFTER[dataset] = 2
    with pytest.raises(PlatformFailure):  # what the connector raised, told uniformly
        sync_connector(engine, store.id, config.id, now=utc(2026, 2, 1))
    assert count(engine, "customer", store.id) == 0  # the pages read were not committed: neither was a cursor
    assert rows(engine, "SELECT value FROM sync_cursor WHERE connector_id = :c", c=config.id) == []
    del CRASH_AFTER[dataset]
    assert sync_connector(engine, store.id, config.id, now=utc(2026, 2, 1)).counts["created"] == 5


def test_progress_and_summary(engine, store, config):
    calls = []
    summary = sync_connector(engine, store.id, config.id, now=utc(2026, 2, 1), progress=lambda d, t: calls.append(d))
    assert calls[-1] == 5 and calls == sorted(calls)
    assert summary.cursors == {"customers": "2026-02-01T00:00:00+00:00"} and summary.errors == []
