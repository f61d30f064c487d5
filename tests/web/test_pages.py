"""The web pages: the dashboard at / and GraphiQL at /graphql load only this server's files (vendored
bundles whose bytes match the manifest), under a CSP without inline scripts."""

from __future__ import annotations

import hashlib
import json
import re

from starlette.testclient import TestClient

from crm_graph.app import create_app
from crm_graph.settings import Settings
from crm_graph.web.pages import STATIC

SECRET = "s" * 40


def _client(db_url: str, **settings) -> TestClient:
    return TestClient(create_app(Settings(database_url=db_url, _env_file=None, secret_key=SECRET, **settings)))


def _local_references(html: str) -> list[str]:
    """Every src/href of the page; each must be a path on this server (or an inline data: URL)."""
    return re.findall(r'(?:src|href)="([^"]*)"', html)


def test_dashboard_is_served_at_the_root_with_its_own_csp(db_url):
    with _client(db_url) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert 'content="development"' in page.text
        references = _local_references(page.text)
        assert references and all(ref.startswith(("/", "data:", "#")) for ref in references)
        for ref in references:
            if ref.startswith("/assets/"):
                asset = client.get(ref)
                assert asset.status_code == 200, ref
                assert asset.headers["cache-control"] == "no-cache"
        assert "<script>" not in page.text  # no inline script: the CSP would refuse it


def test_production_serves_the_dashboard_and_names_the_mode(db_url):
    with _client(db_url, production=True) as client:
        page = client.get("/")
        assert page.status_code == 200 and 'content="production"' in page.text
        assert client.get("/assets/js/main.js").status_code == 200


def test_graphiql_loads_the_vendored_bundles_only(db_url):
    with _client(db_url) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "unpkg" not in page.text and "cdn" not in page.text.lower()
        references = _local_references(page.text)
        assert any("graphiql" in ref and ref.endswith(".js") for ref in references)
        for ref in references:
            assert ref.startswith("/assets/") or ref.startswith("data:"), ref
            if ref.startswith("/assets/"):
                asset = client.get(ref)
                assert asset.status_code == 200, ref
                if "/vendor/" in ref:
                    assert "immutable" in asset.headers["cache-control"]
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        init = client.get("/assets/graphiql-init.js").text
        assert "dashboard(preset" in init  # opens with a dashboard query


def test_vendored_files_match_the_manifest_and_carry_their_licenses():
    vendor = STATIC / "vendor"
    manifest = json.loads((vendor / "MANIFEST.json").read_text())
    assert {entry["package"] for entry in manifest} >= {"react", "react-dom", "graphiql"}
    for entry in manifest:
        folder = vendor / entry["folder"]
        assert any(name.lower().startswith("license") for name in entry["files"]), entry["package"]
        for name, digest in entry["files"].items():
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, f"{entry['folder']}/{name}"
    on_disk = {path.name for path in vendor.iterdir() if path.is_dir()}
    assert on_disk == {entry["folder"] for entry in manifest}
