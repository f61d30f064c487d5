"""``POST /webhooks/{connector}/{store}``: platform webhooks in, signature checked in constant time.

A bad signature gets 401; a body over `MAX_BODY` or one that cannot be read (signed but not JSON)
gets 400; an unknown store and a store without the connector get the same 404 (the reason is only
logged). Every refusal is logged and changes nothing. A verified delivery is applied (deduplicated
on the platform's delivery id) and answered 200 quickly; platforms retry anything else, which the
deduplication makes harmless.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from sqlmodel import Session, select

from crm_graph.connectors.base import WebhookMalformed, WebhookRejected
from crm_graph.errors import NotFound, UserError
from crm_graph.models import Store

log = logging.getLogger("crm_graph.webhooks")

#: Largest body accepted (platform webhooks are far smaller).
MAX_BODY = 5 * 1024 * 1024

#: Where the endpoint lives; it enforces its own body limit (see `BodySizeLimit`).
PREFIX = "/webhooks/"


class _TooLarge(Exception):
    """The body passed `MAX_BODY` while it was read."""


async def _read_body(request: Request) -> bytes:
    """The request body, read no further than `MAX_BODY` (a declared larger length is not read at all)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _store_id(engine, slug: str) -> int:
    with Session(engine) as session:
        store_id = session.exec(select(Store.id).where(Store.slug == slug)).first()
    if store_id is None:
        raise NotFound("unknown store")
    return store_id


def dispatch(engine, connector: str, store_id: int, headers: dict[str, str], body: bytes) -> dict:
    """Apply a verified delivery now; the workers replace this with an enqueue of `apply_webhook`."""
    from crm_graph.services.webhooks import apply_webhook

    outcome = apply_webhook(engine, connector, store_id, headers, body)
    counts = dict(outcome.result.counts) if outcome.result else {}
    return {"status": "duplicate" if outcome.duplicate else "applied", "topic": outcome.topic, "counts": counts}


async def webhook(request: Request) -> JSONResponse:
    """Verify and apply one delivery."""
    from crm_graph.services.webhooks import receive_webhook

    engine = request.app.state.engine
    connector = request.path_params["connector"]
    try:
        body = await _read_body(request)
    except _TooLarge:
        log.warning("webhook for %s refused: the body is over %d bytes", connector, MAX_BODY)
        return JSONResponse({"error": f"the body is over {MAX_BODY} bytes"}, status_code=400)
    headers = dict(request.headers)
    try:
        store_id = await run_in_threadpool(_store_id, engine, request.path_params["store"])
        await run_in_threadpool(receive_webhook, engine, connector, store_id, headers, body)
        answer = await run_in_threadpool(request.app.state.webhook_dispatch, engine, connector, store_id, headers, body)
    except WebhookMalformed as exc:
        log.warning("webhook for %s refused: %s", connector, exc)
        return JSONResponse({"error": str(exc)}, status_code=400)
    except WebhookRejected as exc:
        log.warning("webhook for %s refused: %s", connector, exc)
        return JSONResponse({"error": str(exc)}, status_code=401)
    except NotFound as exc:
        log.warning("webhook for %s refused: %s", connector, exc)
        return JSONResponse({"error": "no webhook of this connector is set up here"}, status_code=404)
    except UserError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(answer)


routes = [Route(PREFIX + "{connector}/{store}", webhook, methods=["POST"])]
