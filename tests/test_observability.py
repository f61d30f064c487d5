"""Observability: Prometheus /metrics, its protection in production, request ids, JSON logs, tracing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from crm_graph.app import create_app
from crm_graph.db import session_scope
from crm_graph.models import AnalyticsInvalidation
from crm_graph.services.jobs import create_job
from crm_graph.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s" * 40


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus text answer: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_operations_errors_cache_pool_and_jobs(db_url, engine, api, store):
    with session_scope(engine) as session:
        create_job(session, store, "SEGMENT_REFRESH")
        session.add(AnalyticsInvalidation(store_id=store.id, from_day=date(2026, 1, 2)))
    key = api.key(store, "read")
    before = samples(api.client.get("/metrics").text)

    api.data("query StoreSlug { store { slug } }", key=key)
    api.data("{ store { slug } }", key=key)
    assert api.error_codes("query StoreSlug { store { slug } }", key="crm_wrong") == ["UNAUTHENTICATED"]
    dashboard = "query Kpis { dashboard(preset: LAST_7_DAYS) { consentKpis { channel value } } }"
    api.data(dashboard, key=key)
    api.data(dashboard, key=key)  # the second one comes from the result cache
    api.error_codes("query Broken { store { nope } }", key=key)

    response = api.client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def grew(name, by=1.0, **labels):
        assert value(after, name, **labels) - value(before, name, **labels) >= by, (name, labels)

    grew("crm_graph_graphql_requests_total", 1, operation="StoreSlug", outcome="ok")
    grew("crm_graph_graphql_requests_total", 1, operation="anonymous", outcome="ok")
    grew("crm_graph_graphql_requests_total", 1, operation="StoreSlug", outcome="error")  # `store` is non-null
    grew("crm_graph_graphql_requests_total", 1, operation="Broken", outcome="error")
    grew("crm_graph_graphql_requests_total", 2, operation="Kpis", outcome="ok")
    grew("crm_graph_graphql_request_seconds_count", 2, operation="StoreSlug")
    grew("crm_graph_graphql_errors_total", 1, code="UNAUTHENTICATED")
    grew("crm_graph_graphql_errors_total", 1, code="GRAPHQL_VALIDATION_FAILED")
    grew("crm_graph_result_cache_total", 1, result="hit")
    grew("crm_graph_result_cache_total", 1, result="miss")
    grew("crm_graph_http_requests_total", 6, route="graphql", method="POST", status="200")
    assert ("crm_graph_db_pool_checked_out", ()) in after and ("crm_graph_db_pool_size", ()) in after
    assert value(after, "crm_graph_jobs", kind="SEGMENT_REFRESH", status="QUEUED") >= 1
    assert ("crm_graph_job_queue_oldest_seconds", (("kind", "SEGMENT_REFRESH"),)) in after
    assert value(after, "crm_graph_analytics_stale_entries", store=str(store.id)) >= 1
    assert value(after, "crm_graph_analytics_oldest_stale_day_seconds", store=str(store.id)) > 0


def test_operation_names_are_bounded(db_url, api, store):
    from crm_graph.observability import metrics

    key = api.key(store, "read")
    for index in range(metrics.MAX_OPERATION_NAMES + 5):
        api.post(f"query Op{index}x{os.getpid()} {{ store {{ slug }} }}", key=key)
    operations = {dict(labels)["operation"] for (name, labels) in samples(api.client.get("/metrics").text)
                  if name == "crm_graph_graphql_requests_total"}
    assert len(operations) <= metrics.MAX_OPERATION_NAMES + 2 and "other" in operations, operations


def test_every_response_has_a_request_id_and_keeps_a_plain_one(db_url):
    with TestClient(create_app(Settings(database_url=db_url, _env_file=None))) as client:
        made = client.get("/health").headers["x-request-id"]
        assert len(made) == 32
        assert client.get("/health", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"] == "abc-123"
        assert client.get("/health", headers={"X-Request-Id": "bad id\n"}).headers["x-request-id"] != "bad id\n"


def test_production_serves_metrics_only_with_the_token(db_url):
    settings = dict(database_url=db_url, _env_file=None, production=True, secret_key=SECRET)
    with TestClient(create_app(Settings(**settings))) as client:
        assert client.get("/metrics").status_code == 404
    with TestClient(create_app(Settings(**settings, metrics_token="t0ken"))) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        answer = client.get("/metrics", headers={"Authorization": "Bearer t0ken"})
        assert answer.status_code == 200 and "crm_graph_http_requests_total" in answer.text
    with TestClient(create_app(Settings(**settings, metrics_token="t0ken", metrics_port=9))) as client:
        assert client.get("/metrics", headers={"Authorization": "Bearer t0ken"}).status_code == 404


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer")
        time.sleep(0.3)


def test_serve_with_two_processes_json_logs_and_a_metrics_port(db_url, api, store, tmp_path):
    """The real `crm-graph serve --workers 2` in production: every log line is JSON with the request id;
    /metrics is on its own port (not the API's) and counts the requests of both processes."""
    key = api.key(store, "read")
    port, metrics_port = _free_port(), _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith(("CRM_GRAPH_", "PROMETHEUS"))}
    env.update(CRM_GRAPH_DATABASE_URL=db_url, CRM_GRAPH_LOG_FORMAT="json", CRM_GRAPH_PRODUCTION="true",
               CRM_GRAPH_SECRET_KEY=SECRET, CRM_GRAPH_METRICS_PORT=str(metrics_port))
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    with out.open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen([sys.executable, "-m", "crm_graph", "serve", "--port", str(port), "--workers", "2"],
                                  cwd=tmp_path, env=env, stdout=stdout, stderr=stderr, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/health")
        requests = 12
        for index in range(requests):
            # a new connection each time, so that both processes get some
            answer = httpx.post(f"{base}/graphql", json={"query": "query Slug { store { slug } }"},
                                headers={"Authorization": f"Bearer {key}", "X-Request-Id": f"test-req-{index}"})
            assert answer.status_code == 200 and answer.headers["x-request-id"] == f"test-req-{index}"
        assert httpx.get(f"{base}/metrics").status_code == 404
        scraped = samples(httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text)
        assert value(scraped, "crm_graph_graphql_requests_total", operation="Slug", outcome="ok") == requests
        assert value(scraped, "crm_graph_http_requests_total", route="graphql", method="POST", status="200") == requests
        assert ("crm_graph_db_pool_size", ()) in scraped
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    lines = [line for line in (out.read_text() + err.read_text()).splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"timestamp", "level", "logger", "message"} <= set(record) for record in records)
    access = [record for record in records if record["logger"] == "uvicorn.access"]
    assert {record.get("request_id") for record in access} >= {f"test-req-{index}" for index in range(requests)}
    assert any(record["message"].startswith("GraphQL API on") for record in records)


TRACING_SCRIPT = """
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

from crm_graph.app import create_app
from crm_graph.settings import Settings

with TestClient(create_app(Settings(database_url=sys.argv[1], _env_file=None, tracing=True))) as client:
    answer = client.post("/graphql", json={"query": "query Slug { store { slug } }"},
                         headers={"Authorization": "Bearer " + sys.argv[2]})
    assert answer.status_code == 200, answer.text
print(json.dumps([span.name for span in exporter.get_finished_spans()]))
"""


def test_tracing_makes_spans_of_a_graphql_request(db_url, api, store):
    pytest.importorskip("opentelemetry.sdk")
    key = api.key(store, "read")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("CRM_GRAPH_", "OTEL_"))}
    done = subprocess.run([sys.executable, "-c", TRACING_SCRIPT, db_url, key], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    names = json.loads(done.stdout.strip().splitlines()[-1])
    assert "GraphQL Query: Slug" in names and "GraphQL Resolving: store" in names, names
    assert "GraphQL Parsing" in names and "GraphQL Validation" in names, names
    assert any(name.startswith("db SELECT") for name in names), names


SYNC_TRACING_SCRIPT = """
import json, sys, time
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlmodel import Session
from starlette.testclient import TestClient

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

from crm_graph_woocommerce.fake_server import FakeWooCommerce, SyntheticOrders
from crm_graph.app import create_app
from crm_graph.graphql.relay import node_row_id
from crm_graph.db import get_engine
from crm_graph.models import Job, Store
from crm_graph.services.connectors import register_connector
from crm_graph.settings import Settings

shop = FakeWooCommerce()
url = shop.start()
shop.orders = SyntheticOrders(30, customers=5)
engine = get_engine(sys.argv[1])
with Session(engine) as session:
    store = session.get(Store, int(sys.argv[3]))
    register_connector(session, store, "woocommerce", {"url": url, "consumer_key": "ck_test",
                                                       "consumer_secret": "cs_test"})
    session.commit()
with TestClient(create_app(Settings(database_url=sys.argv[1], _env_file=None, tracing=True))) as client:
    answer = client.post("/graphql", json={"query": 'mutation { connectorSync(connector: "woocommerce") { ... on Job { id } } }'},
                         headers={"Authorization": "Bearer " + sys.argv[2]}).json()
    job_id = node_row_id(answer["data"]["connectorSync"]["id"], "Job")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with Session(engine) as session:
            if session.get(Job, job_id).status in ("SUCCEEDED", "FAILED"):
                break
        time.sleep(0.1)
shop.stop()
print(json.dumps([[span.name, dict(span.attributes or {})] for span in exporter.get_finished_spans()]))
"""


def test_tracing_follows_a_sync_job_to_the_platform(db_url, api, store):
    """The job's database statements and its calls to the platform (the fake WooCommerce on 127.0.0.1)
    are spans; the URL a span records carries no query string, where WooCommerce may take credentials."""
    pytest.importorskip("opentelemetry.sdk")
    pytest.importorskip("crm_graph_woocommerce")
    key = api.key(store, "write")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("CRM_GRAPH_", "OTEL_"))}
    done = subprocess.run([sys.executable, "-c", SYNC_TRACING_SCRIPT, db_url, key, str(store.id)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    spans = json.loads(done.stdout.strip().splitlines()[-1])
    calls = [attributes for name, attributes in spans if name == "HTTP GET"]
    assert calls and all(call["http.response.status_code"] == 200 for call in calls), spans
    assert all("?" not in call["url.full"] and call["server.address"] == "127.0.0.1" for call in calls), calls
    assert any(name.startswith("db INSERT") for name, _ in spans), [name for name, _ in spans]


def test_tracing_is_off_by_default(db_url, api, store):
    from opentelemetry import trace

    app = create_app(Settings(database_url=db_url, _env_file=None))
    assert "OpenTelemetryExtension" not in {getattr(ext, "__name__", "") for ext in
                                             app.routes[0].endpoint.schema.extensions}
    assert not type(trace.get_tracer_provider()).__module__.startswith("opentelemetry.sdk")


def test_worker_metrics_are_on_by_default_with_prometheus_client():
    from dramatiq.middleware.prometheus import Prometheus

    from workers.broker import build_broker

    broker = build_broker(Settings(_env_file=None, redis_url="redis://127.0.0.1:6379/15"))
    assert any(isinstance(middleware, Prometheus) for middleware in broker.middleware)
    broker = build_broker(Settings(_env_file=None, redis_url="redis://127.0.0.1:6379/15", worker_metrics=False))
    assert not any(isinstance(middleware, Prometheus) for middleware in broker.middleware)
