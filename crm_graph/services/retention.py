"""Data retention: CSV uploads and raw webhook payloads are kept no longer than they are needed.

- A CSV file sent through the API (`import_customers`) is deleted when its import job ends,
  succeeded or failed (`discard_upload`); its rejects report stays for download (`Job.download`)
  until it is `import_upload_ttl_hours` old, or until an erasure of a person it mentions;
  `cleanup_uploads` (the periodic maintenance) deletes the uploads of ended jobs a worker could not
  clean, and any file of the import folder older than `import_upload_ttl_hours`.
- A webhook delivery's raw body lives in its WEBHOOK job's params until the job is applied;
  `prune_webhook_payloads` (the maintenance) deletes ended WEBHOOK jobs older than
  `webhook_retention_days`, and the deduplication rows (no personal data: delivery ids and content
  hashes) once they are older than both that and the webhook age limit.
- A GDPR erasure (`scrub_erased`, called by `erase_customers`) removes the person from what is
  still kept: the bodies of stored webhook deliveries that mention them are dropped, the rows that
  name them are taken out of uploads still waiting on disk, job errors naming them lose the record,
  and the webhook ordering rows of their platform ids are deleted.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from crm_graph.models import Job, JobError, Store, WebhookDelivery, WebhookVersion
from crm_graph.models.enums import JobStatus
from crm_graph.models.types import utcnow
from crm_graph.services.jobs import JobKind

log = logging.getLogger("crm_graph.retention")

_ENDED = (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value)
_WAITING = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
_NOT_DIGITS = re.compile(r"\D")
#: Phone numbers are compared on their last digits (a payload may write them nationally).
_PHONE_DIGITS = 7
#: CSV columns that hold a platform id of a customer.
_ID_COLUMNS = frozenset({"customer_id", "external_id", "id"})
#: How `services.customers.importing` names an upload (``customers-<uuid hex>.csv``).
_UPLOAD_NAME = re.compile(r"[a-z_]+-[0-9a-f]{32}\.csv")


def rejects_path(upload: Path) -> Path:
    """Where the import of `upload` writes its rejected rows (see `services.csv_import`)."""
    return upload.with_name(upload.name + ".rejects.csv")


def discard_upload(path: str | os.PathLike | None, store_id: int, *, keep_rejects: bool = False) -> bool:
    """Delete an uploaded CSV file and (unless `keep_rejects`) its rejects report; whether there was
    anything to delete.

    Only a file named as `start_customer_import` names uploads, in the folder of the job's store, is
    deleted: a path from anywhere else is left alone (and logged)."""
    if not path:
        return False
    upload = Path(path)
    if upload.parent.name != str(store_id) or not _UPLOAD_NAME.fullmatch(upload.name):
        log.warning("%s is not an upload of store %s; left alone", upload.name, store_id)
        return False
    removed = False
    for target in (upload,) if keep_rejects else (upload, rejects_path(upload)):
        try:
            target.unlink()
            removed = True
        except FileNotFoundError:
            pass
    return removed


def cleanup_uploads(engine: Engine, import_dir: str | os.PathLike, ttl_hours: int, now: datetime | None = None) -> int:
    """Delete the uploads of ended import jobs, and every file of `import_dir` older than
    `ttl_hours`; return how many files went."""
    now = now or utcnow()
    removed = 0
    with engine.connect() as connection:
        ended = connection.execute(select(Job.store_id, Job.params).where(  # older ones: by the files' age
            Job.kind == JobKind.CSV_IMPORT.value, Job.status.in_(_ENDED),
            Job.finished_at >= now - timedelta(hours=ttl_hours + 1))).all()
    for store_id, params in ended:
        path = (params or {}).get("path")
        if path and Path(path).exists():
            removed += int(discard_upload(path, store_id, keep_rejects=True))  # the report: by its age
    root = Path(import_dir)
    if root.is_dir():
        cutoff = (now - timedelta(hours=ttl_hours)).timestamp()
        for file in root.rglob("*"):
            try:
                if file.is_file() and file.stat().st_mtime < cutoff:
                    file.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
    return removed


def prune_webhook_payloads(engine: Engine, retention_days: int, max_age_hours: int,
                           now: datetime | None = None) -> int:
    """Delete ended WEBHOOK jobs (their raw bodies) older than `retention_days`, and the
    deduplication rows older than both that and the age limit; return how many jobs went."""
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)
    with engine.begin() as connection:
        old = select(Job.id).where(Job.kind == JobKind.WEBHOOK.value, Job.status.in_(_ENDED),
                                   Job.finished_at < cutoff)
        connection.execute(delete(JobError).where(JobError.job_id.in_(old)))
        pruned = connection.execute(delete(Job).where(Job.id.in_(old.scalar_subquery()))).rowcount or 0
        kept_for = max(timedelta(days=retention_days), timedelta(hours=max_age_hours))
        connection.execute(delete(WebhookDelivery).where(WebhookDelivery.received_at < now - kept_for))
    return pruned


@dataclass
class ErasedPeople:
    """What identifies the people an erasure removes: emails (lower-case), phones and platform ids."""

    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    identities: set[tuple[str, str]] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.identities)

    def phone_tails(self) -> set[str]:
        """The last digits of each phone number."""
        return {digits[-_PHONE_DIGITS:] for digits in (_NOT_DIGITS.sub("", p) for p in self.phones)
                if len(digits) >= _PHONE_DIGITS}


def scrub_erased(session: Session, store: Store, people: ErasedPeople) -> dict[str, int]:
    """Remove the erased `people` from the webhook bodies, uploads and job errors the store still
    keeps (in the session's transaction for rows; files are rewritten at once); counts of each."""
    counts = {"webhook_payloads": 0, "upload_rows": 0, "job_errors": 0, "webhook_versions": 0}
    if not people:
        return counts
    counts["webhook_payloads"] = _scrub_webhook_jobs(session, store, people)
    counts["upload_rows"] = _scrub_uploads(session, store, people)
    named = people.emails | people.phones | {external_id for _, external_id in people.identities}
    for chunk in _chunks(sorted(named)):
        counts["job_errors"] += session.execute(
            update(JobError).where(JobError.store_id == store.id, JobError.record.in_(chunk))
            .values(record=None, reason="(the record named a person since erased)")
            .execution_options(synchronize_session=False)).rowcount or 0
    by_source: dict[str, list[str]] = {}
    for source, external_id in people.identities:
        by_source.setdefault(source, []).append(external_id)
    for source, ids in by_source.items():
        for chunk in _chunks(sorted(ids)):
            counts["webhook_versions"] += session.execute(
                delete(WebhookVersion).where(WebhookVersion.store_id == store.id, WebhookVersion.connector == source,
                                             WebhookVersion.entity == "customer", WebhookVersion.external_id.in_(chunk))
                .execution_options(synchronize_session=False)).rowcount or 0
    return counts


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _scrub_webhook_jobs(session: Session, store: Store, people: ErasedPeople) -> int:
    """Drop the body and headers of every stored delivery that mentions one of `people`."""
    tails = people.phone_tails()
    scrubbed = 0
    rows = session.execute(select(Job.id, Job.params).where(
        Job.store_id == store.id, Job.kind == JobKind.WEBHOOK.value)).all()
    for job_id, params in rows:
        body = (params or {}).get("body")
        if not body:
            continue
        try:
            raw = base64.b64decode(body)
        except ValueError:
            raw = b""
        ids = {external_id for source, external_id in people.identities if source == params.get("connector")}
        if _mentions(raw, people.emails, tails, ids):
            kept = {key: value for key, value in params.items() if key not in ("body", "headers")}
            session.execute(update(Job).where(Job.id == job_id).values(params={**kept, "payload_removed": "erasure"})
                            .execution_options(synchronize_session=False))
            scrubbed += 1
    return scrubbed


def _mentions(raw: bytes, emails: set[str], tails: set[str], ids: set[str]) -> bool:
    """Whether a webhook body names one of the people: an email anywhere in it, a phone number
    (on its last digits), or a platform id under ``id``, ``customer_id`` or in a GID."""
    lowered = raw.lower()
    if any(email.encode() in lowered for email in emails):
        return True
    try:
        payload = json.loads(raw)
    except ValueError:
        return False
    stack = [(None, payload)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.items())
        elif isinstance(value, list):
            stack.extend((key, item) for item in value)
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            text = str(value)
            digits = _NOT_DIGITS.sub("", text)
            if tails and len(digits) >= _PHONE_DIGITS and digits[-_PHONE_DIGITS:] in tails and key != "id":
                return True
            if ids and (key in ("id", "customer_id") and text in ids or text.rsplit("/", 1)[-1] in ids
                        and text.startswith("gid://")):
                return True
    return False


def _scrub_uploads(session: Session, store: Store, people: ErasedPeople) -> int:
    """Take the rows naming one of `people` out of the store's uploads still waiting for their job."""
    tails = people.phone_tails()
    ids = {external_id for _, external_id in people.identities}
    removed = 0
    paths = session.execute(select(Job.params).where(
        Job.store_id == store.id, Job.kind == JobKind.CSV_IMPORT.value,
        or_(Job.status.in_(_WAITING), Job.finished_at.is_(None)))).scalars().all()
    for params in paths:
        path = Path((params or {}).get("path") or "")
        if not path.name or not path.is_file():
            continue
        removed += _rewrite_without(path, people.emails, tails, ids)
    _drop_kept_rejects(session, store, people.emails | ids)
    return removed


def _drop_kept_rejects(session: Session, store: Store, names: set[str]) -> None:
    """Delete the kept rejects reports of the store's ended imports that mention one of `names`
    (emails, ids): a report is kept for download after its upload is gone."""
    if not names:
        return
    params = session.execute(select(Job.params).where(
        Job.store_id == store.id, Job.kind == JobKind.CSV_IMPORT.value, Job.status.in_(_ENDED))).scalars().all()
    for item in params:
        path = (item or {}).get("path")
        report = rejects_path(Path(path)) if path else None
        if report is None or not report.is_file():
            continue
        text = report.read_text(encoding="utf-8", errors="replace").lower()
        if any(name.lower() in text for name in names if name):
            report.unlink(missing_ok=True)


def _rewrite_without(path: Path, emails: set[str], tails: set[str], ids: set[str]) -> int:
    """Rewrite a CSV file without the rows that name one of the people; how many rows went."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","  # as the CSV reader decides
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows:
        return 0
    header = [name.strip().lower() for name in rows[0]]
    id_columns = {i for i, name in enumerate(header) if name in _ID_COLUMNS}

    def names_someone(row: list[str]) -> bool:
        for i, cell in enumerate(row):
            value = cell.strip().lower()
            digits = _NOT_DIGITS.sub("", value)
            if value in emails or (i in id_columns and cell.strip() in ids):
                return True
            if tails and len(digits) >= _PHONE_DIGITS and digits[-_PHONE_DIGITS:] in tails and "@" not in value:
                return True
        return False

    kept = [rows[0]] + [row for row in rows[1:] if not names_someone(row)]
    gone = len(rows) - len(kept)
    if gone:
        out = io.StringIO(newline="")
        csv.writer(out, delimiter=delimiter).writerows(kept)
        temporary = path.with_name(path.name + ".scrub")
        temporary.write_text(out.getvalue(), encoding="utf-8")
        os.replace(temporary, path)
        rejects = rejects_path(path)
        if rejects.exists():
            rejects.unlink()  # rebuilt by the import; it may name the person
    return gone
