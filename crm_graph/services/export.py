"""Exporting customers to CSV, streamed in constant memory, and the signed links that download it.

`export_customers` reads the filtered customers through a server-side cursor (PostgreSQL) in
batches and writes each batch straight to the file, so memory does not grow with the export. The
file is written under a temporary name and renamed when complete: a half-written export is never
served.

Columns: see `COLUMNS`. Text that a spreadsheet would run as a formula (starting with `=`, `+`,
`-`, `@`, tab or carriage return) gets a leading `'`; phones are exported as stored (E.164).

A download link is `/exports/<token>`: the token names the store, the job and an expiry instant,
signed with HMAC-SHA256 under the `secret_key` setting and checked in constant time. The link is
the credential (browsers download without API keys), so it is short-lived.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.models import Customer, CustomerIdentity, CustomerTag, Store, Tag
from crm_graph.models.enums import Channel, JobStatus
from crm_graph.services.filters import CustomerFilter, current_consent_state, customer_conditions

COLUMNS = [
    "id", "crm_ids", "email", "phone", "first_name", "last_name", "gender", "country", "city", "created_at",
    "last_activity_at", "orders_count", "total_spent", "first_order_at", "last_order_at", "email_consent",
    "sms_consent", "tags",
]
_TEXT = {"email", "first_name", "last_name", "city", "tags", "crm_ids"}
_BATCH = 2000


@dataclass
class RecordError:
    """A record a long-running service could not handle."""

    line: int | None
    record: str | None
    reason: str


@dataclass
class ExportSummary:
    """What an export wrote."""

    counts: dict[str, int]
    errors: list[RecordError] = field(default_factory=list)
    path: str = ""


def export_customers(
    engine: Engine,
    store_id: int,
    filter: CustomerFilter,
    path: str | os.PathLike,
    *,
    progress: Callable[[int, int | None], None] | None = None,
) -> ExportSummary:
    """Write the store's customers matching `filter` to the CSV file `path`, in id order."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with Session(engine) as session:
        store = session.get(Store, store_id)
        if store is None:
            raise UserError(f"There is no store {store_id}.")
        conditions = customer_conditions(store, filter, session=session)
        total = session.exec(select(func.count()).select_from(Customer).where(*conditions)).scalar_one()
    query = _export_query(engine, store, conditions)
    temporary = target.with_name(target.name + ".part")
    done = 0
    if progress:
        progress(0, total)
    with engine.connect() as connection, open(temporary, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        result = connection.execution_options(stream_results=True, yield_per=_BATCH).execute(query)
        for batch in result.partitions():
            writer.writerows([_cell(name, value) for name, value in zip(COLUMNS, row)] for row in batch)
            done += len(batch)
            if progress:
                progress(done, total)
    os.replace(temporary, target)
    return ExportSummary(counts={"customers": done}, path=str(target))


def _export_query(engine: Engine, store: Store, conditions):
    postgres = engine.dialect.name == "postgresql"
    identity = aliased(CustomerIdentity)
    crm_id = identity.source + literal(":") + identity.external_id
    crm_ids = (
        select(func.string_agg(crm_id, aggregate_order_by(literal(" "), identity.id)) if postgres
               else func.group_concat(crm_id, " "))
        .where(identity.store_id == store.id, identity.customer_id == Customer.id)
        .correlate(Customer).scalar_subquery()
    )
    link = aliased(CustomerTag)
    tags = (
        select(func.string_agg(Tag.name, aggregate_order_by(literal("|"), Tag.name)) if postgres
               else func.group_concat(Tag.name, "|"))
        .join(link, link.tag_id == Tag.id)
        .where(link.store_id == store.id, link.customer_id == Customer.id, link.removed_at.is_(None))
        .correlate(Customer).scalar_subquery()
    )
    return (
        select(
            Customer.id, crm_ids, Customer.email, Customer.phone, Customer.first_name, Customer.last_name,
            Customer.gender, Customer.country, Customer.city, Customer.created_at, Customer.last_activity_at,
            Customer.orders_count, Customer.total_spent, Customer.first_order_at, Customer.last_order_at,
            current_consent_state(Channel.EMAIL), current_consent_state(Channel.SMS), tags,
        )
        .where(*conditions)
        .order_by(Customer.id)
    )


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if name == "tags":  # ordered by name on every database
        value = "|".join(sorted(value.split("|")))
    if name in _TEXT and isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_path(export_dir: str | os.PathLike, store_id: int, job_id: int) -> Path:
    """Where the export of job `job_id` is written."""
    return Path(export_dir) / str(store_id) / f"customers-{job_id}.csv"


def run_export_job(engine: Engine, store: Store, params: dict, job_id: int, *, progress=None) -> dict:
    """Run an export job: its filter (or saved segment) to its file; returns counts and the file."""
    from crm_graph.settings import get_settings

    filter = CustomerFilter.model_validate(params.get("filter") or {})
    directory = params.get("export_dir") or get_settings().export_dir
    summary = export_customers(engine, store.id, filter, export_path(directory, store.id, job_id), progress=progress)
    return {"counts": summary.counts, "result": {"path": str(Path(summary.path).resolve()), "rows": summary.counts["customers"]}}


def make_download_token(secret: str, store_id: int, job_id: int, expires_at: int) -> str:
    """A link token for job `job_id` of store `store_id`, valid until the Unix time `expires_at`."""
    payload = f"{store_id}.{job_id}.{expires_at}"
    return f"{payload}.{_signature(secret, payload)}"


def download_link(secret: str, store_id: int, job_id: int, seconds: int, now: float | None = None) -> tuple[str, datetime]:
    """A fresh signed link (a path of this API) to the file of job `job_id`, valid `seconds`, and its expiry."""
    until = int(time.time() if now is None else now) + seconds
    return f"/exports/{make_download_token(secret, store_id, job_id, until)}", datetime.fromtimestamp(until, tz=timezone.utc)


def has_download(kind: str, status: str, result: dict | None) -> bool:
    """Whether a job's file can be downloaded: a finished customers export whose file is still kept,
    or the rejects report of a finished CSV import while it is kept."""
    return download_path(kind, status, result) is not None


def download_path(kind: str, status: str, result: dict | None) -> str | None:
    """The server path of a job's downloadable file (see `has_download`), None when there is none."""
    from crm_graph.services.customers.background import EXPORT
    from crm_graph.services.jobs import JobKind

    if status != JobStatus.SUCCEEDED.value:
        return None
    if kind == EXPORT:
        return (result or {}).get("path") or None
    if kind == JobKind.CSV_IMPORT.value:
        path = (result or {}).get("rejects_path")
        return path if path and Path(path).is_file() else None
    return None


def read_download_token(secret: str, token: str, now: float | None = None) -> tuple[int, int]:
    """(store id, job id) of a valid token; `ValueError("expired")` or `ValueError("invalid")` otherwise."""
    parts = token.split(".")
    # ASCII only: `str.isdigit` accepts other digits, and `hmac.compare_digest` raises on non-ASCII text.
    if len(parts) != 4 or len(token) > 200 or not token.isascii() or not all(part.isdigit() for part in parts[:3]):
        raise ValueError("invalid")
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_signature(secret, payload), parts[3]):
        raise ValueError("invalid")
    if int(parts[2]) < (time.time() if now is None else now):
        raise ValueError("expired")
    return int(parts[0]), int(parts[1])


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
