"""``POST /webhooks/{connector}/{store}``: platform webhooks in, signature checked in constant time.

A bad signature gets 401; a body over `MAX_BODY`, one that cannot be read (signed but not JSON),
one that is not what its topic says, and a stale one (older than `webhook_max_age_hours`) get 400;
an unknown store, a store without the connector and a path whose connector or store cannot be a
name (a NUL byte, say) get the same 404 (the reason is only logged). Every refusal is one log line
and changes nothing. A verified delivery is applied (deduplicated on the platform's delivery id
and on its content, see `crm_graph.services.webhooks`) and answered 200 quickly; platforms retry
anything else, which the deduplication makes harmless.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from sqlmodel import Session, select

from crm_graph.connectors.base import WebhookMalformed, WebhookRejected, WebhookStale
from crm_graph.errors import NotFound, UserError
from crm_graph.models import Store
from crm_graph.services.stores import valid_slug

log = logging.getLogger("crm_graph.webhooks")

#: Largest body accepted (platform webhooks are far smaller).
MAX_BODY = 5 * 1024 * 1024

#: Where the endpoint lives; it enforces its own body limit (see `BodySizeLimit`).
PREFIX = "/webhooks/"


#: What a connector's name looks like (the plugins' `Connector.name`).
_CONNECTOR_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


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
    return {"status": "duplicate" if outcome.duplicate else "applied", "topic": outcome.topic, "counts": counts,
            "skipped": outcome.skipped or {}}


async def webhook(request: Request) -> JSONResponse:
    """Verify and apply one delivery."""
    from crm_graph.services.webhooks import receive_webhook

    engine = request.app.state.engine
    connector, slug = request.path_params["connector"], request.path_params["store"]
    if not _CONNECTOR_NAME.fullmatch(connector) or not valid_slug(slug):
        log.warning("webhook refused: %r / %r is not a connector and store name", connector[:80], slug[:80])
        return JSONResponse({"error": "no webhook of this connector is set up here"}, status_code=404)
    settings = request.app.state.settings
    max_age = timedelta(hours=settings.webhook_max_age_hours) if settings.webhook_max_age_hours else None
    try:
        body = await _read_body(request)
    except _TooLarge:
        log.warning("webhook for %s refused: the body is over %d bytes", connector, MAX_BODY)
        return JSONResponse({"error": f"the body is over {MAX_BODY} bytes"}, status_code=400)
    headers = dict(request.headers)
    try:
        store_id = await run_in_threadpool(_store_id, engine, slug)
        await run_in_threadpool(lambda: receive_webhook(engine, connector, store_id, headers, body, max_age=max_age))
        answer = await run_in_threadpool(request.app.state.webhook_dispatch, engine, connector, store_id, headers, body)
    except (WebhookMalformed, WebhookStale) as exc:
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
