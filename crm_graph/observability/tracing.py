"""OpenTelemetry traces, off unless `CRM_GRAPH_TRACING=true` and the `tracing` extra is installed.

A GraphQL request gets Strawberry's spans (operation, parsing, validation, each resolver) and each
database statement a ``db`` span (SQLAlchemy's cursor events, below). The exporter follows the
standard ``OTEL_TRACES_EXPORTER`` variable: ``console`` prints spans to standard output, ``otlp``
sends them to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (needs ``opentelemetry-exporter-otlp`` installed);
unset or ``none`` records spans without sending them anywhere. ``OTEL_SERVICE_NAME`` names the
service (default ``crm-graph``). An already installed tracer provider (an OpenTelemetry agent, a
test) is used as it is.
"""

from __future__ import annotations

import importlib.util
import os
import threading

import httpx

from sqlalchemy import event
from sqlalchemy.engine import Engine

from crm_graph.errors import ConfigurationError

_lock = threading.Lock()
_configured = False
_instrumented: set[int] = set()


def available() -> bool:
    """Whether the `tracing` extra (opentelemetry-api and -sdk) is installed."""
    return importlib.util.find_spec("opentelemetry") is not None and \
        importlib.util.find_spec("opentelemetry.sdk") is not None


def setup_tracing() -> None:
    """Install a tracer provider with the exporter `OTEL_TRACES_EXPORTER` names (once per process)."""
    global _configured
    if not available():
        raise ConfigurationError("CRM_GRAPH_TRACING is on but OpenTelemetry is not installed: "
                                 "pip install 'crm-graph[tracing]'.")
    with _lock:
        if _configured:
            return
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

        if isinstance(trace.get_tracer_provider(), TracerProvider):  # set up by someone else: keep it
            _configured = True
            return
        provider = TracerProvider(resource=Resource.create(
            {"service.name": os.environ.get("OTEL_SERVICE_NAME", "crm-graph")}))
        exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
        if exporter_name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif exporter_name == "otlp":
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            except ImportError:
                raise ConfigurationError("OTEL_TRACES_EXPORTER=otlp needs the OTLP exporter: "
                                         "pip install opentelemetry-exporter-otlp-proto-http.") from None
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif exporter_name not in ("", "none"):
            raise ConfigurationError(f"OTEL_TRACES_EXPORTER={exporter_name!r} is not supported here: "
                                     "use console, otlp or none.")
        trace.set_tracer_provider(provider)
        _configured = True


def graphql_extension():
    """Strawberry's OpenTelemetry extension (its spans: operation, parse, validate, resolvers)."""
    from strawberry.extensions.tracing import OpenTelemetryExtension

    return OpenTelemetryExtension


def instrument_engine(engine: Engine) -> None:
    """A ``db`` span around each statement `engine` runs (once per engine)."""
    from opentelemetry import trace

    with _lock:
        if id(engine) in _instrumented:
            return
        _instrumented.add(id(engine))
    tracer = trace.get_tracer("crm_graph.db")
    system = engine.dialect.name

    @event.listens_for(engine, "before_cursor_execute")
    def _start(_conn, _cursor, statement, _parameters, context, _executemany):
        span = tracer.start_span(f"db {statement.split(None, 1)[0].upper() if statement.strip() else 'statement'}",
                                 kind=trace.SpanKind.CLIENT,
                                 attributes={"db.system": system, "db.statement": statement[:2000]})
        if context is not None:
            context._crm_graph_span = span  # noqa: SLF001

    @event.listens_for(engine, "after_cursor_execute")
    def _end(_conn, _cursor, _statement, _parameters, context, _executemany):
        span = getattr(context, "_crm_graph_span", None)
        if span is not None:
            span.end()
            context._crm_graph_span = None  # noqa: SLF001

    @event.listens_for(engine, "handle_error")
    def _failed(exception_context):
        span = getattr(exception_context.execution_context, "_crm_graph_span", None)
        if span is not None:
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(exception_context.original_exception).__name__))
            span.end()
            exception_context.execution_context._crm_graph_span = None  # noqa: SLF001


def traced(transport):
    """`transport` with a client span around each request once tracing is set up in this process.

    The connectors' HTTP client sends through it (`connectors.http.RetryingClient`), so a sync job's
    calls to the platform show in its trace. The span's URL has no query string: platforms such as
    WooCommerce may take credentials there.
    """
    if not _configured:
        return transport
    return _TracedTransport(transport)


class _TracedTransport(httpx.BaseTransport):
    """An httpx transport that wraps another in an ``HTTP <method>`` client span."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def handle_request(self, request):
        from opentelemetry import trace

        tracer = trace.get_tracer("crm_graph.http")
        attributes = {"http.request.method": request.method, "server.address": request.url.host,
                      "url.full": str(request.url.copy_with(query=None))}
        with tracer.start_as_current_span(f"HTTP {request.method}", kind=trace.SpanKind.CLIENT,
                                          attributes=attributes) as span:
            response = self.inner.handle_request(request)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(trace.Status(trace.StatusCode.ERROR, f"HTTP {response.status_code}"))
            return response

    def close(self) -> None:
        self.inner.close()
