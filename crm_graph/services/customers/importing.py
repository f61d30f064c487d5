"""Importing customers from a CSV sent through the API: the file is stored, a CSV_IMPORT job runs it.

The job is the connectors' CSV import (`services.csv_import.import_csv`, kind `customers`): bad rows
are reported with their line numbers while the good rows import, and importing the same file twice
changes nothing the second time. The text is limited to `MAX_IMPORT_BYTES`; larger files go through
`crm-graph import` on the command line.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.models import Job, Store
from crm_graph.services.csv_import import choose_mapping, resolve_mapping
from crm_graph.services.jobs import JobKind, start_job

#: The largest CSV text one request may carry.
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def start_customer_import(
    session: Session, store: Store, content: str, import_dir: str, mapping: str | None = None
) -> Job:
    """Store `content` as a file of the store and start the job that imports it as customers."""
    data = content.encode("utf-8")
    if len(data) > MAX_IMPORT_BYTES:
        raise UserError(f"`csv` is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; import it with `crm-graph import`.")
    if not content.strip() or len(content.strip().splitlines()) < 2:
        raise UserError("`csv` needs a header line and at least one customer line.")
    resolve_mapping("customers", mapping)  # an unknown mapping fails now, not in the job
    folder = Path(import_dir) / str(store.id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"customers-{uuid.uuid4().hex}.csv"
    path.write_bytes(data)
    try:
        choose_mapping(path, "customers", mapping)  # a known export without a mapping fails now, not in the job
    except UserError:
        path.unlink()
        raise
    return start_job(session, store, JobKind.CSV_IMPORT, {"path": str(path.resolve()), "kind": "customers",
                                                          "mapping": mapping})
