"""Verified webhook deliveries as jobs: the endpoint stores the delivery and answers at once; a
worker applies it (`crm_graph.services.webhooks.apply_webhook`, deduplicated on the delivery id).

The job keeps the raw body (base64, since the signature is over the exact bytes) and the headers the
platforms sign or identify deliveries with, so the worker verifies the signature again before it
applies anything. A delivery with a platform delivery id is one job per id: a platform that sends
it again gets the first job back. The body is personal data: the maintenance deletes ended jobs
after `webhook_retention_days`, and an erasure drops the bodies that mention the person
(`crm_graph.services.retention`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from crm_graph.db import session_scope
from crm_graph.errors import NotFound
from crm_graph.models import Store
from crm_graph.services.jobs import JobKind, start_job

#: Headers never kept in a job row (credentials of the caller, not of the delivery).
_DROPPED_HEADERS = {"authorization", "cookie", "proxy-authorization"}


def enqueue_webhook(engine: Engine, connector: str, store_id: int, headers: Mapping[str, str],
                    body: bytes) -> dict[str, Any]:
    """Start the job that applies a verified delivery; the answer the endpoint returns at once."""
    from crm_graph.services.webhooks import receive_webhook

    event = receive_webhook(engine, connector, store_id, headers, body)
    kept = {name.lower(): value for name, value in headers.items() if name.lower() not in _DROPPED_HEADERS}
    params = {"connector": connector, "topic": event.topic, "delivery_id": event.delivery_id,
              "headers": kept, "body": base64.b64encode(body).decode("ascii")}
    key = f"webhook:{connector}:{event.delivery_id}"[:200] if event.delivery_id else None
    with session_scope(engine) as session:
        store = session.get(Store, store_id)
        if store is None:
            raise NotFound("unknown store")
        job = start_job(session, store, JobKind.WEBHOOK, params, key=key)
    return {"status": "queued", "topic": event.topic, "job": str(job.id)}


def apply_webhook_job(engine: Engine, store_id: int, params: Mapping[str, Any]) -> dict[str, Any]:
    """Apply the delivery a WEBHOOK job holds; counts of what it changed (nothing for a duplicate)."""
    from crm_graph.services.webhooks import apply_webhook

    if "body" not in params:  # an erasure removed the payload before it was applied
        return {"counts": {"payload_removed": 1}, "errors": [], "topic": params.get("topic"),
                "delivery_id": params.get("delivery_id")}
    outcome = apply_webhook(engine, params["connector"], store_id, params["headers"], base64.b64decode(params["body"]))
    result = outcome.result
    counts = dict(result.counts) if result is not None else {}
    counts["duplicate"] = int(outcome.duplicate)
    counts.update(outcome.skipped or {})
    errors = list(getattr(result, "errors", None) or [])
    return {"counts": counts, "errors": errors, "topic": outcome.topic, "delivery_id": outcome.delivery_id}
