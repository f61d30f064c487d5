"""Sync a store's connector: read each stream page by page, commit records and cursor together.

The cursor of a stream is written in the same transaction as the page's records, so it never gets
ahead of the data: a process killed mid-sync resumes from the last committed page, and because
upserts are idempotent the re-read overlap changes nothing. A time cursor never moves past the
instant the run started (later changes are for the next run).

What the connector raises while reading becomes one of two errors (`platform_failure`): the
platform refused the credentials (401/403), or it could not be reached or read. The second does not
say whether the port was closed, the request timed out, the platform answered an HTTP error or a
body that is not what the API sends: a tenant admin chooses the address, and those differences
would let them map what the server can reach. The details go to the server log.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from crm_graph.connectors.base import MAX_STREAMS, Connector, Page, format_cursor, parse_cursor
from crm_graph.connectors.egress import EgressPolicy, EgressRefused, current_policy, use_policy
from crm_graph.connectors.http import PlatformError
from crm_graph.connectors.records import RecordError
from crm_graph.errors import ConfigurationError, NotFound, UserError
from crm_graph.models import ConnectorConfig, Store, SyncCursor
from crm_graph.models.types import utcnow
from crm_graph.services.ingest import COUNT_KEYS, AnalyzePolicy, ingest_records

log = logging.getLogger("crm_graph.sync")

#: How many record errors a summary keeps (all are counted in `counts["rejected"]`).
MAX_KEPT_ERRORS = 1000

#: Pages are gathered into batches of about this many records, each written in one transaction
#: together with the cursor of its last page.
BATCH_RECORDS = 1000

Progress = Callable[[int, int | None], None]

#: HTTP statuses by which a reachable platform refuses the connector's credentials.
CREDENTIALS_REFUSED = (401, 403)


class PlatformFailure(UserError):
    """A sync could not get its data from the platform; the message is the same for every network
    or protocol failure (see the module docstring). Not retried as a job: the connector's HTTP client
    has retried the transient failures already, and the next scheduled sync tries again."""


def platform_failure(connector: str, store_id: int, exc: Exception) -> PlatformFailure:
    """The error a sync job reports for `exc`, raised by the connector while reading; logs the details."""
    status = getattr(exc, "status", None)
    expected = isinstance(exc, (PlatformError, EgressRefused, ValueError, KeyError, TypeError, OSError))
    log.warning("sync of %s for store %s: the platform could not be reached or read: %s: %s", connector, store_id,
                type(exc).__name__, exc, exc_info=not expected)
    if isinstance(exc, PlatformError) and status in CREDENTIALS_REFUSED:
        return PlatformFailure(f"{connector}: the platform refused the connector's credentials (HTTP {status}); "
                               "check the keys in the connector's settings.")
    return PlatformFailure(f"{connector}: could not reach or read the platform; check the connector's address and "
                           "that the platform is up (the server log has the details).")


@dataclass
class SyncSummary:
    """What a sync did: counts by outcome, rejected records, and where each stream's cursor is now."""

    connector: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    errors: list[RecordError] = field(default_factory=list)
    cursors: dict[str, str | None] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None


def load_connector(session: Session, config: ConnectorConfig) -> Connector:
    """An instance of the configured connector with its validated settings."""
    from crm_graph.plugins import get_connector_class

    cls = get_connector_class(config.connector)
    from pydantic import ValidationError

    try:
        settings = cls.settings_model.model_validate(config.config)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "config"
        raise UserError(f"The {config.connector} settings are invalid: {where}: {problem['msg']}.") from None
    return cls(settings)


def clamp_cursor(value: str | None, run_started_at: datetime) -> str | None:
    """A time cursor no later than the run's start; other cursors unchanged."""
    if value is None:
        return None
    try:
        moment = parse_cursor(value)
    except ValueError:
        return value
    return format_cursor(min(moment, run_started_at))


def sync_connector(engine: Engine, store_id: int, connector_config_id: int, *,
                   progress: Progress | None = None, now: datetime | None = None,
                   egress: EgressPolicy | None = None) -> SyncSummary:
    """Run one sync of a store's connector; safe to run again at any point (at-least-once delivery).

    The connector's requests follow the address policy `egress` (default: this process's).
    Failures of the platform raise `PlatformFailure` (see the module docstring).
    """
    with use_policy(egress or current_policy()):
        return _sync_connector(engine, store_id, connector_config_id, progress=progress, now=now)


def _pages(connector: Connector, stream, cursor: str | None, run_started_at: datetime, store_id: int):
    """The connector's pages of `stream`, with what it raises turned into `platform_failure`."""
    pages = connector.read(stream, cursor, run_started_at=run_started_at)
    while True:
        try:
            page = next(pages)
        except StopIteration:
            return
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001  (anything the platform made the connector raise)
            raise platform_failure(connector.name, store_id, exc) from None
        yield page


def _sync_connector(engine: Engine, store_id: int, connector_config_id: int, *,
                    progress: Progress | None, now: datetime | None) -> SyncSummary:
    from crm_graph.plugins import get_plugin_manager

    run_started_at = now or utcnow()
    with Session(engine, expire_on_commit=False) as session:
        store = session.get(Store, store_id)
        config = session.get(ConnectorConfig, connector_config_id)
        if store is None or config is None or config.store_id != store_id:
            raise NotFound(f"No connector {connector_config_id} in store {store_id}.")
        connector = load_connector(session, config)
        cursors = {row.stream: row.value for row in session.exec(
            select(SyncCursor).where(SyncCursor.store_id == store_id, SyncCursor.connector_id == config.id))}
    summary = SyncSummary(connector=config.connector, started_at=run_started_at)
    tally = _Tally(progress)
    hook = get_plugin_manager().hook
    policy = AnalyzePolicy()
    streams = connector.streams()
    if len(streams) > MAX_STREAMS:
        raise ConfigurationError(f"Connector {config.connector!r} has {len(streams)} streams, more than the "
                                 f"{MAX_STREAMS} crm-graph supports.")
    try:
        for stream in streams:
            cursor = cursors.get(stream.name) if stream.incremental else None
            pending: list[Page] = []
            tally.start_stream()
            for page in _pages(connector, stream, cursor, run_started_at, store_id):
                pending.append(page)
                tally.read(page)
                if sum(len(p.records) for p in pending) >= BATCH_RECORDS:
                    cursor, batch = _commit(engine, store, config, stream, pending, cursor, run_started_at, policy,
                                            summary)
                    hook.records_ingested(store_id=store_id, source=config.connector, counts=batch)
                    pending = []
            if pending:
                cursor, batch = _commit(engine, store, config, stream, pending, cursor, run_started_at, policy, summary)
                hook.records_ingested(store_id=store_id, source=config.connector, counts=batch)
            summary.cursors[stream.name] = cursor
    finally:
        connector.close()
    with Session(engine) as session:
        row = session.get(ConnectorConfig, config.id)
        row.last_sync_at = utcnow()
        session.commit()
    summary.finished_at = utcnow()
    log.info("sync of %s for store %s: %s", config.connector, store_id, dict(summary.counts))
    hook.sync_finished(store_id=store_id, connector=config.connector, summary=summary)
    return summary


def _commit(engine: Engine, store: Store, config: ConnectorConfig, stream, pages: list[Page], cursor: str | None,
            run_started_at: datetime, policy: AnalyzePolicy, summary: SyncSummary) -> tuple[str | None, dict]:
    """Write the pages' records and the last page's cursor in one transaction; the cursor and the counts."""
    records = [record for page in pages for record in page.records]
    with Session(engine, expire_on_commit=False) as session:
        result = ingest_records(session, store, records, source=config.connector, analyze=policy.due(len(records)))
        new_cursor = next((page.cursor for page in reversed(pages) if page.cursor is not None), None)
        if stream.incremental and new_cursor is not None:
            cursor = clamp_cursor(new_cursor, run_started_at)
            _save_cursor(session, store.id, config.id, stream.name, cursor)
        session.commit()
    errors = [error for page in pages for error in page.errors]
    batch = Counter(result.counts)
    batch["rejected"] += len(errors)
    for key, value in batch.items():
        summary.counts[key] = summary.counts.get(key, 0) + value
    for error in [*errors, *result.errors]:
        if len(summary.errors) < MAX_KEPT_ERRORS:
            summary.errors.append(error)
    return cursor, dict(batch)


class _Tally:
    """The sync's `progress(done, total)`, reported as each page is read (a page is a request or two,
    so a bar moves several times a second), not only when a batch commits.

    `done` counts the items of every stream so far. `total` is known while the current stream's
    pages say how many items it has (`Page.total`): the items of the finished streams plus that
    stream's total. Between streams, and for connectors that give no total, it is None.
    """

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.done = 0
        self.before = 0
        self.total: int | None = None

    def start_stream(self) -> None:
        self.before, self.total = self.done, None

    def read(self, page: Page) -> None:
        self.done += page.progress_items()
        if page.total is not None:
            self.total = page.total
        if self.progress:
            stream_done = self.done - self.before
            total = None if self.total is None else self.before + max(self.total, stream_done)
            self.progress(self.done, total)


def _save_cursor(session: Session, store_id: int, connector_id: int, stream: str, value: str | None) -> None:
    row = session.exec(select(SyncCursor).where(
        SyncCursor.store_id == store_id, SyncCursor.connector_id == connector_id, SyncCursor.stream == stream)).first()
    if row is None:
        row = SyncCursor(store_id=store_id, connector_id=connector_id, stream=stream)
    row.value = value
    row.updated_at = utcnow()
    session.add(row)
