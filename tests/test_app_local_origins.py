"""CORS in development: a frontend served from localhost can call the API with no configuration;
production (and any configured list) allows exactly the configured origins."""

from __future__ import annotations

from starlette.testclient import TestClient

from crm_graph.app import create_app
from crm_graph.settings import Settings

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
QUERY = {"query": "{ __typename }"}


def _client(db_url: str, **settings) -> TestClient:
    settings.setdefault("secret_key", "s" * 40)
    return TestClient(create_app(Settings(database_url=db_url, _env_file=None, **settings)))


def test_localhost_origins_are_allowed_in_development_only(db_url, engine):
    with _client(db_url) as client:
        for origin in ("http://localhost:3000", "http://127.0.0.1:5173", "http://localhost"):
            preflight = client.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
            assert preflight.status_code == 200, preflight.text
            assert preflight.headers["access-control-allow-origin"] == origin
            actual = client.post("/graphql", json=QUERY, headers={"Origin": origin})
            assert actual.headers["access-control-allow-origin"] == origin
        for origin in ("https://evil.example", "http://localhost.evil.example", "http://localhost:3000.evil.example"):
            refused = client.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
            assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    origin = "http://localhost:3000"
    for settings in ({"production": True}, {"cors_origins": "https://dash.example.com"},
                     {"production": True, "cors_origins": "https://dash.example.com"}):
        with _client(db_url, **settings) as client:
            preflight = client.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
            assert preflight.status_code == 400 and "access-control-allow-origin" not in preflight.headers
            actual = client.post("/graphql", json=QUERY, headers={"Origin": origin})
            assert "access-control-allow-origin" not in actual.headers
            if settings.get("cors_origins"):
                allowed = client.options("/graphql", headers={"Origin": "https://dash.example.com", **PREFLIGHT})
                assert allowed.headers["access-control-allow-origin"] == "https://dash.example.com"
