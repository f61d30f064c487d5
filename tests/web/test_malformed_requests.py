"""Malformed requests, without an API key: each is a 4xx with at most one log line, never a 500 with a traceback.

Bodies that are not UTF-8, JSON that is no request, numbers Python will not convert, nesting that
exhausts a recursion, a download token with non-ASCII text, a client that goes away mid-body. And
the safety net under them: an exception that escapes the app is a 500 JSON with an error id and one
log line.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from crm_graph.app import create_app
from crm_graph.middleware import UnexpectedErrors
from crm_graph.settings import Settings
from tests.conftest import app_client

DEEP = "[" * 5000 + "]" * 5000
HUGE = "9" * 5000

MALFORMED_BODIES = {
    "byte 0xff": b'{"query": "{ __typename }"}\xff',
    "only 0xff": b"\xff",
    "latin-1 text": '{"query": "{ store { name } }", "x": "café"}'.encode("latin-1"),
    "null": b"null",
    "number": b"7",
    "string": b'"x"',
    "true": b"true",
    "empty array": b"[]",
    "huge integer in the JSON": f'{{"query": "{{ __typename }}", "x": {HUGE}}}'.encode(),
    "huge integer as a variable": f'{{"query": "query($n: Int) {{ __typename }}", "variables": {{"n": {HUGE}}}}}'.encode(),
    "infinite number": b'{"query": "{ __typename }", "variables": {"n": 1e999999}}',
    "NaN": b'{"query": "{ __typename }", "variables": {"n": NaN}}',
    "nested 5,000 deep": f'{{"query": "{{ __typename }}", "x": {DEEP}}}'.encode(),
    "variable nested 5,000 deep": f'{{"query": "query($v: JSON) {{ __typename }}", "variables": {{"v": {DEEP}}}}}'.encode(),
    "variable nested 500 deep": ('{"query": "query($v: JSON) { __typename }", "variables": {"v": '
                                 + "[" * 500 + "]" * 500 + "}}").encode(),
    "query not a string": b'{"query": 7}',
    "variables not an object": b'{"query": "{ __typename }", "variables": [1]}',
}


@pytest.fixture
def client(engine, db_url, tmp_path):
    settings = Settings(database_url=db_url, _env_file=None, export_dir=str(tmp_path / "exports"),
                        import_dir=str(tmp_path / "imports"))
    with app_client(settings) as test_client:
        yield test_client


def assert_no_traceback(caplog) -> None:
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert "Traceback" not in record.getMessage()
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("body", list(MALFORMED_BODIES.values()), ids=list(MALFORMED_BODIES))
def test_malformed_bodies_are_4xx_without_traceback(client, caplog, body):
    caplog.set_level(logging.DEBUG, logger="crm_graph")
    response = client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert_no_traceback(caplog)
    refusals = [record for record in caplog.records if record.name == "crm_graph.http"]
    assert len(refusals) == 1 and "\n" not in refusals[0].getMessage()


def test_huge_integer_literal_in_the_query_is_refused(client, caplog):
    caplog.set_level(logging.DEBUG, logger="crm_graph")
    for query in (f"{{ customers(first: {HUGE}) {{ totalCount }} }}", f"query($n: Int = {HUGE}) {{ __typename }}"):
        response = client.post("/graphql", json={"query": query})
        assert response.status_code < 500
        errors = response.json()["errors"]
        assert errors and all(error["extensions"]["code"] != "INTERNAL_SERVER_ERROR" for error in errors)
    assert_no_traceback(caplog)


def test_a_well_formed_request_still_works(client):
    response = client.post("/graphql", json={"query": "{ __typename }", "variables": {"v": [[[1]]]}})
    assert response.status_code == 200 and response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("token", ["1.1.1.%C3%A9", "1.1.1.%E2%82%AC", "%C2%B2.1.1.x", "1.1.%D9%A1.x"])
def test_download_token_with_non_ascii_text_is_not_found(client, caplog, token):
    caplog.set_level(logging.DEBUG, logger="crm_graph")
    response = client.get(f"/exports/{token}")
    assert response.status_code == 404
    assert_no_traceback(caplog)


def test_client_disconnecting_mid_body_is_a_400_without_traceback(db_url, caplog):
    """The ASGI server tells the app the client went away (`http.disconnect`) after half the body."""
    caplog.set_level(logging.DEBUG, logger="crm_graph")
    app = create_app(Settings(database_url=db_url, _env_file=None))
    body = b'{"query": "{ __typename }"}'
    incoming = [{"type": "http.request", "body": body[:10], "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict] = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/graphql", "raw_path": b"/graphql", "root_path": "", "query_string": b"",
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}}
    asyncio.run(app(scope, receive, send))
    starts = [message for message in sent if message["type"] == "http.response.start"]
    assert len(starts) == 1 and starts[0]["status"] == 400
    assert_no_traceback(caplog)


def test_an_unexpected_exception_is_a_500_json_with_one_log_line(caplog):
    """The safety net: whatever escapes the app is answered with an error id and logged once, in one line."""
    caplog.set_level(logging.INFO, logger="crm_graph")

    async def broken(scope, receive, send):
        raise RuntimeError("something unforeseen\nwith a second line")

    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(UnexpectedErrors(broken)({"type": "http", "method": "GET", "path": "/x\u202e"}, receive, send))
    assert sent[0]["status"] == 500
    error = json.loads(sent[1]["body"])["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR" and error["extensions"]["errorId"] in error["message"]
    records = [record for record in caplog.records if record.levelno >= logging.INFO]
    assert len(records) == 1 and records[0].exc_info is None
    assert "\n" not in records[0].getMessage() and error["extensions"]["errorId"] in records[0].getMessage()
