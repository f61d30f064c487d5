"""The HTTP layer: production switch, body size limit, CORS allow-list, security headers, dev store."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from crm_graph.app import create_app
from crm_graph.errors import ConfigurationError
from crm_graph.settings import Settings

QUERY = "{ store { slug } }"
INTROSPECTION = "{ __schema { queryType { name } } }"


#: Production refuses the development secret that signs download links.
SECRET = "s" * 40


def _client(db_url: str, **settings) -> TestClient:
    settings.setdefault("secret_key", SECRET)
    return TestClient(create_app(Settings(database_url=db_url, _env_file=None, **settings)))


def _auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_production_turns_off_graphiql_get_and_introspection(db_url, api, store):
    key = api.key(store, "read")
    with _client(db_url, production=True) as client:
        assert client.get("/graphql", headers={"Accept": "text/html"}).status_code in (404, 405)
        assert client.get("/graphql", params={"query": QUERY}, headers=_auth(key)).status_code == 405
        body = client.post("/graphql", json={"query": INTROSPECTION}, headers=_auth(key)).json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection" in body["errors"][0]["message"].lower()
        assert client.post("/graphql", json={"query": QUERY}, headers=_auth(key)).json()["data"] == {
            "store": {"slug": store.slug}}


def test_development_has_graphiql_get_and_introspection(db_url, api, store):
    key = api.key(store, "read")
    with _client(db_url) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        assert client.get("/graphql", params={"query": QUERY}, headers=_auth(key)).json()["data"]["store"]
        assert client.post("/graphql", json={"query": INTROSPECTION}, headers=_auth(key)).json()["data"]


def test_production_refuses_a_development_store(db_url):
    with pytest.raises(ConfigurationError):
        create_app(Settings(database_url=db_url, _env_file=None, production=True, dev_store="demo", secret_key=SECRET))


def test_mutations_are_refused_over_get_even_in_development(db_url, api, store):
    key = api.key(store, "admin")
    with _client(db_url) as client:
        response = client.get("/graphql", params={"query": 'mutation { apiKeyCreate(role: READ) { ... on ApiKeyCreated { key } } }'},
                              headers=_auth(key))
        assert response.status_code in (400, 405)
    assert api.data("{ apiKeys { totalCount } }", key=key)["apiKeys"]["totalCount"] == 1


def test_dev_store_serves_keyless_requests_from_loopback_only(db_url, store):
    settings = dict(dev_store=store.slug)
    with _client(db_url, **settings) as remote:  # the test client's address is not loopback
        assert remote.post("/graphql", json={"query": QUERY}).json()["errors"][0]["extensions"]["code"] == \
            "UNAUTHENTICATED"
    app = create_app(Settings(database_url=db_url, _env_file=None, **settings))
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        assert local.post("/graphql", json={"query": QUERY}).json()["data"] == {"store": {"slug": store.slug}}
        # a wrong key never falls back to the development store
        wrong = local.post("/graphql", json={"query": QUERY}, headers=_auth("crm_" + "x" * 43)).json()
        assert wrong["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_body_over_the_limit_is_413_with_a_json_error(db_url, api, store):
    key = api.key(store, "read")
    with _client(db_url, max_body_bytes=2000) as client:
        padding = " " * 3000
        response = client.post("/graphql", content=f'{{"query": "{QUERY}{padding}"}}',
                               headers={**_auth(key), "Content-Type": "application/json"})
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

        def chunks():
            yield b'{"query": "' + QUERY.encode()
            for _ in range(10):
                yield b" " * 500
            yield b'"}'

        streamed = client.post("/graphql", content=chunks(), headers={**_auth(key), "Content-Type": "application/json"})
        assert streamed.status_code == 413
        assert client.post("/graphql", json={"query": QUERY}, headers=_auth(key)).status_code == 200


def test_bad_content_length_is_400(db_url):
    with _client(db_url) as client:
        response = client.post("/graphql", content=b"{}", headers={"Content-Length": "abc",
                                                                    "Content-Type": "application/json"})
        assert response.status_code == 400


def test_cors_allows_only_configured_origins(db_url):
    with _client(db_url, cors_origins="https://dash.example.com, https://admin.example.com/") as client:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        allowed = client.options("/graphql", headers={"Origin": "https://admin.example.com", **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://admin.example.com"
        refused = client.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    with _client(db_url) as client:  # none by default
        refused = client.options("/graphql", headers={"Origin": "https://dash.example.com", **preflight})
        assert "access-control-allow-origin" not in refused.headers


def test_security_headers(db_url):
    with _client(db_url, production=True) as client:
        response = client.get("/health")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in response.headers["content-security-policy"]
    with _client(db_url) as client:  # the pages send their own policy; API answers deny all in both modes
        assert "default-src 'none'" in client.get("/health").headers["content-security-policy"]


def test_non_json_bodies_do_not_execute(db_url, api, store):
    """A cross-site form post (no preflight) cannot run a mutation."""
    key = api.key(store, "admin")
    with _client(db_url) as client:
        for content_type in ("text/plain", "application/x-www-form-urlencoded"):
            response = client.post("/graphql", content='{"query": "mutation { apiKeyCreate(role: ADMIN) { ... on ApiKeyCreated { key } } }"}',
                                   headers={**_auth(key), "Content-Type": content_type})
            assert response.status_code >= 400
    keys = api.data("{ apiKeys { nodes { id } } }", key=key)["apiKeys"]["nodes"]
    assert len(keys) == 1
