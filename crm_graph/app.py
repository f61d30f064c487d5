"""The ASGI application: the reference dashboard at / (files under /assets/), GraphQL at /graphql, liveness at /health, readiness at /ready, Prometheus
metrics at /metrics (see `metrics_on_api`); every request gets an id (``X-Request-Id``).

The production switch (`CRM_GRAPH_PRODUCTION`) turns off GraphiQL, queries over GET and schema
introspection, and refuses a development store. In every mode: a request body size limit, CORS for
the configured origins (in development, when none are configured, for http://localhost and
http://127.0.0.1 on any port), and security headers on every response.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from crm_graph.db import get_engine
from crm_graph.errors import ConfigurationError
from crm_graph.graphql.schema import build_schema
from crm_graph.downloads import export_download
from crm_graph.observability.http import MeasuredGraphQL, RequestContext, metrics_endpoint
from crm_graph.middleware import BodySizeLimit, SecurityHeaders, UnexpectedErrors
from crm_graph.services.webhook_jobs import enqueue_webhook
from crm_graph.settings import DEV_SECRET_KEY, Settings, get_settings

log = logging.getLogger("crm_graph.app")

#: Browser origins development allows when CRM_GRAPH_CORS_ORIGINS is empty: a frontend on this machine.
LOCAL_ORIGINS = r"http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]+)?"


def metrics_on_api(settings: Settings) -> bool:
    """Whether the API answers `/metrics`: not when it has a port of its own; in production only with a token."""
    if settings.metrics_port:
        return False
    return bool(settings.metrics_token) or not settings.production


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the ASGI app for `settings` (default: this process's settings)."""
    settings = settings or get_settings()
    if settings.production and settings.dev_store:
        raise ConfigurationError("CRM_GRAPH_DEV_STORE is for development; unset it when CRM_GRAPH_PRODUCTION is on.")
    if settings.production and settings.secret_key == DEV_SECRET_KEY:
        raise ConfigurationError("Set CRM_GRAPH_SECRET_KEY to a long random string; the default is for development only.")
    engine = get_engine(settings.database_url)
    schema = build_schema(introspection=not settings.production, max_cost=settings.max_query_cost)
    if settings.tracing:
        from crm_graph.observability import tracing

        tracing.setup_tracing()
        tracing.instrument_engine(engine)
        schema.extensions = [*schema.extensions, tracing.graphql_extension()]
    graphql = MeasuredGraphQL(
        schema,
        engine=engine,
        settings=settings,
        graphql_ide=None if settings.production else "graphiql",
        allow_queries_via_get=not settings.production,
    )

    async def health(_request: Request) -> JSONResponse:
        """Liveness and database reachability, for load balancers."""
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001  (any failure means "not healthy")
            log.warning("health check failed: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def ready(_request: Request) -> JSONResponse:
        """Readiness: the database and (when jobs go through Redis) Redis answer; 503 names what does not."""
        from crm_graph.readiness import check_dependencies

        checks = await run_in_threadpool(check_dependencies, engine, settings)
        failed = sorted(name for name, state in checks.items() if state != "ok")
        if failed:
            log.warning("not ready: %s unreachable", ", ".join(failed))
            return JSONResponse({"status": "unavailable", **checks, "failed": failed}, status_code=503)
        return JSONResponse({"status": "ok", **checks})

    from crm_graph.web import pages, webhooks

    methods = ["POST"] if settings.production else ["GET", "POST"]
    routes = [
        Route("/graphql", graphql, methods=methods),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/exports/{token}", export_download, methods=["GET"]),
        *webhooks.routes,
        *pages.routes(settings.production),
    ]
    if metrics_on_api(settings):
        routes.append(Route("/metrics", metrics_endpoint(engine, settings.metrics_token), methods=["GET"]))
    middleware = [
        Middleware(RequestContext, engine=engine),
        Middleware(SecurityHeaders),
        Middleware(UnexpectedErrors),
        Middleware(CORSMiddleware, allow_origins=settings.cors_origin_list, allow_methods=methods,
                   allow_origin_regex=None if settings.production or settings.cors_origin_list else LOCAL_ORIGINS,
                   allow_headers=["Authorization", "Content-Type"], max_age=600),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, own_limit_prefixes=(webhooks.PREFIX,)),
    ]

    @asynccontextmanager
    async def lifespan(_app: Starlette):
        """Embedded mode (no Redis): jobs run on worker threads of this process."""
        from workers.inprocess import ensure_in_process_workers

        ensure_in_process_workers(settings, scheduler=settings.embedded_scheduler)
        yield

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    # Verified deliveries become jobs: the endpoint answers at once, a worker applies them.
    app.state.webhook_dispatch = enqueue_webhook
    app.state.settings = settings
    app.state.engine = engine
    return app
