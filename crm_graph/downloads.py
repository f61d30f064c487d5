"""`GET /exports/{token}`: downloads a finished customer export, or the rejects report of a CSV
import, through a signed, expiring link."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from crm_graph.db import session_scope
from crm_graph.models import Job
from crm_graph.models.enums import JobStatus
from crm_graph.services.customers.background import EXPORT
from crm_graph.services.export import download_path, read_download_token
from crm_graph.services.jobs import JobKind

#: CSV import jobs offer their rejects report.
CSV_IMPORT = JobKind.CSV_IMPORT.value


async def export_download(request: Request) -> Response:
    """Serve the CSV of the export job named by the token, only for the store the token was made for."""
    settings = request.app.state.settings
    try:
        store_id, job_id = read_download_token(settings.secret_key, request.path_params["token"])
    except ValueError as exc:
        if str(exc) == "expired":
            return PlainTextResponse("This download link has expired; ask the API for a new one.", status_code=410)
        return PlainTextResponse("Not found.", status_code=404)

    def find() -> str | None:
        with session_scope(request.app.state.engine) as session:
            job = session.exec(
                select(Job).where(Job.id == job_id, Job.store_id == store_id, Job.kind.in_((EXPORT, CSV_IMPORT)),
                                  Job.status == JobStatus.SUCCEEDED.value)
            ).scalars().first()
            return (job.kind, download_path(job.kind, job.status, job.result)) if job else (None, None)

    kind, path = await anyio.to_thread.run_sync(find)
    if not path or not Path(path).is_file():
        return PlainTextResponse("Not found.", status_code=404)
    name = f"rejects-{job_id}.csv" if kind == CSV_IMPORT else f"customers-{job_id}.csv"
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=name)
