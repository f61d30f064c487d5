"""Connector addresses: what `connectorRegister` accepts in production and development, what a sync
may connect to, and the one error a sync job reports for any way the platform fails."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session

from crm_graph.connectors.egress import EgressPolicy
from crm_graph.services.connectors import register_connector
from crm_graph.settings import Settings
from tests.conftest import app_client
from tests.factories import ApiClient
from tests.workers.conftest import wait_for_job

pytest.importorskip("crm_graph_woocommerce")
from crm_graph_woocommerce.fake_server import FakeWooCommerce  # noqa: E402

REGISTER = """
mutation($settings: JSON!) { connectorRegister(connector: "woocommerce", settings: $settings) {
  __typename ... on Connector { settings } ... on UserError { code message field } } }"""
START_SYNC = 'mutation { connectorSync(connector: "woocommerce") { ... on Job { id status } } }'
KEYS = {"consumer_key": "ck_test", "consumer_secret": "cs_test", "max_retries": 0, "retry_backoff": 0, "timeout": 2}
SECRET = "s" * 40


@pytest.fixture
def production(engine, db_url):
    with app_client(Settings(database_url=db_url, production=True, secret_key=SECRET, _env_file=None)) as client:
        yield ApiClient(client, engine)


@pytest.fixture
def allowing(engine, db_url):
    """Production, with an operator who allows the loopback address and one private network."""
    settings = Settings(database_url=db_url, production=True, secret_key=SECRET, _env_file=None,
                        connector_allowed_hosts="127.0.0.1, 10.1.0.0/16")
    with app_client(settings) as client:
        yield ApiClient(client, engine)


def _register(api: ApiClient, key: str, url: str) -> dict:
    return api.post(REGISTER, {"settings": {"url": url, **KEYS}}, key=key)


def _refused(body: dict) -> str:
    assert not body.get("errors"), body
    error = body["data"]["connectorRegister"]
    assert error["__typename"] == "ValidationError" and error["code"] == "BAD_USER_INPUT", error
    assert error["field"] == ["settings", "url"] and error["message"].startswith("`settings.url`:"), error
    return error["message"]


@pytest.mark.parametrize("url", [
    "https://127.0.0.1:8443", "https://localhost", "https://[::1]", "https://10.0.0.7", "https://192.168.1.1",
    "https://169.254.169.254", "https://[fe80::1]", "https://[::ffff:127.0.0.1]", "https://[::ffff:a9fe:a9fe]",
    "https://2130706433", "https://0x7f.0.0.1", "https://127.1", "https://0.0.0.0", "https://224.0.0.1",
    "https://100.64.0.1", "https://[fd00::1]",
])
def test_production_refuses_internal_addresses_at_registration(production, store, url):
    message = _refused(_register(production, production.key(store, "admin"), url))
    assert "public address" in message


def test_production_refuses_plain_http(production, store):
    message = _refused(_register(production, production.key(store, "admin"), "http://93.184.215.14"))
    assert "https://" in message


def test_the_allow_setting_lets_an_internal_address_through(allowing, store):
    admin = allowing.key(store, "admin")
    for url in ("https://127.0.0.1:8443", "https://10.1.2.3"):
        body = _register(allowing, admin, url)
        assert not body.get("errors"), body
        assert body["data"]["connectorRegister"]["settings"]["url"] == url
    assert "public address" in _refused(_register(allowing, admin, "https://10.2.0.1"))  # outside the network
    assert "https://" in _refused(_register(allowing, admin, "http://127.0.0.1:8443"))  # still https only


def test_development_allows_loopback_only(api, store):
    admin = api.key(store, "admin")
    for url in ("http://127.0.0.1:8080", "http://localhost:8080"):
        body = _register(api, admin, url)
        assert not body.get("errors") and body["data"]["connectorRegister"]["__typename"] == "Connector", body
    for url in ("http://169.254.169.254", "http://10.0.0.7", "http://[::ffff:a9fe:a9fe]", "http://0.0.0.0:8080"):
        assert "public address" in _refused(_register(api, admin, url))


class Listener:
    """A TCP port on 127.0.0.1 that counts the connections it accepts (and closes them)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.sock.close()


def _save_unchecked(engine, store, url: str) -> None:
    """A registration saved under a laxer policy (before an upgrade, or before the operator
    withdrew an allowance): the sync must still refuse to connect."""
    lax = EgressPolicy(require_https=False, allowed_kinds=frozenset({"loopback", "private"}), require_resolution=False)
    with Session(engine) as session:
        register_connector(session, store, "woocommerce", {"url": url, **KEYS}, egress=lax)
        session.commit()


def _sync_error(api: ApiClient, engine, store) -> str:
    job = api.data(START_SYNC, key=api.key(store, "write"))["connectorSync"]
    done = wait_for_job(engine, job["id"], timeout=60)
    assert done.status == "FAILED", done
    return done.error


UNREACHABLE = ("woocommerce: could not reach or read the platform; check the connector's address and that the "
               "platform is up (the server log has the details).")


def test_a_name_that_resolves_to_loopback_is_refused_when_connecting(production, engine, store):
    listener = Listener()
    try:
        _save_unchecked(engine, store, f"https://localhost:{listener.port}")
        assert _sync_error(production, engine, store) == UNREACHABLE
        assert listener.accepted == 0  # refused before connecting, not by a failed TLS handshake
    finally:
        listener.close()


def test_the_transport_connects_to_the_checked_address(api, engine, store):
    """In development `localhost` is allowed: the sync connects (to the address it checked) and runs."""
    shop = FakeWooCommerce().load_samples()
    url = shop.start()
    try:
        _save_unchecked(engine, store, url.replace("127.0.0.1", "localhost"))
        job = api.data(START_SYNC, key=api.key(store, "write"))["connectorSync"]
        done = wait_for_job(engine, job["id"], timeout=60)
        assert done.status == "SUCCEEDED", done.error
        assert shop.log and all(path.startswith("/wp-json/wc/v3/") for path, _ in shop.log)
    finally:
        shop.stop()


class NotJson(BaseHTTPRequestHandler):
    """Answers every GET with an HTML page, as a web server that is not a shop would."""

    def do_GET(self) -> None:  # noqa: N802
        body = b"<html><body>It works!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_a_sync_job_reports_one_error_for_every_way_the_platform_fails(api, engine, store):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    failing = FakeWooCommerce()
    failing_url = failing.start()
    failing.faults = [500] * 10
    html = ThreadingHTTPServer(("127.0.0.1", 0), NotJson)
    threading.Thread(target=html.serve_forever, daemon=True).start()
    try:
        errors = {}
        for name, url in [("closed port", f"http://127.0.0.1:{closed_port}"), ("HTTP 500", failing_url),
                          ("not JSON", f"http://127.0.0.1:{html.server_address[1]}")]:
            _save_unchecked(engine, store, url)
            errors[name] = _sync_error(api, engine, store)
        assert set(errors.values()) == {UNREACHABLE}, errors
    finally:
        failing.stop()
        html.shutdown()
        html.server_close()


def test_refused_credentials_keep_their_own_error(api, engine, store):
    shop = FakeWooCommerce(key="ck_other")
    url = shop.start()
    try:
        _save_unchecked(engine, store, url)
        error = _sync_error(api, engine, store)
        assert error.startswith("woocommerce: the platform refused the connector's credentials (HTTP 401)")
    finally:
        shop.stop()
