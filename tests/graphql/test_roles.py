"""Roles over the whole schema: read keys change nothing, write keys administer nothing.

Like the isolation test, the mutations are enumerated from the schema, so new ones are covered.
Arguments are the caller's own ids (valid), so a refusal can only come from the role check.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session

from crm_graph.graphql.schema import schema
from crm_graph.services.api_keys import create_api_key
from tests.graphql.isolation import TwoStores, build_two_stores
from tests.graphql.schema_walk import NoSampleRule, RequestBuilder, Samples, root_fields

GRAPHQL = schema._schema
MUTATIONS = root_fields(GRAPHQL, "mutation")
QUERIES = root_fields(GRAPHQL, "query")
#: Admin keys manage API keys and register connectors (their secrets); everything else (a connector's sync
#: included) needs write at most.
ADMIN_WORDS = ("apikey", "connectorregister")


def _admin_only(field_name: str) -> bool:
    return any(word in field_name.lower() for word in ADMIN_WORDS)


@pytest.fixture(scope="module")
def stores(engine) -> TwoStores:
    """Stores built once per database for this module (A is the caller)."""
    return build_two_stores(engine)


@pytest.fixture(scope="module")
def keys(engine, stores) -> dict[str, str]:
    """A read, a write and an admin key of store A."""
    with Session(engine, expire_on_commit=False) as session:
        made = {role: create_api_key(session, stores.a, role)[1] for role in ("read", "write", "admin")}
        session.commit()
    return made


def _request(stores: TwoStores, operation: str, field_name: str):
    samples = Samples(ids=stores.a_ids, first_day=stores.first_day, last_day=stores.last_day, search="alpha")
    try:
        return RequestBuilder(GRAPHQL, samples).build(operation, field_name)
    except NoSampleRule as exc:
        pytest.fail(f"{field_name}: {exc}", pytrace=False)


def _codes(api, request, key) -> list[str]:
    body = api.post(request.query, request.variables, key=key)
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]


@pytest.mark.parametrize("field_name", MUTATIONS)
def test_read_keys_run_no_mutation(api, stores, keys, field_name):
    request = _request(stores, "mutation", field_name)
    before = stores.fingerprint(stores.a)
    assert _codes(api, request, keys["read"]) == ["FORBIDDEN"]
    assert stores.fingerprint(stores.a) == before


@pytest.mark.parametrize("field_name", [name for name in MUTATIONS if _admin_only(name)])
def test_write_keys_run_no_admin_mutation(api, stores, keys, field_name):
    request = _request(stores, "mutation", field_name)
    before = stores.fingerprint(stores.a)
    assert _codes(api, request, keys["write"]) == ["FORBIDDEN"]
    assert stores.fingerprint(stores.a) == before


@pytest.mark.parametrize("field_name", [name for name in QUERIES if "apikey" in name.lower()])
def test_only_admin_keys_see_api_keys(api, stores, keys, field_name):
    request = _request(stores, "query", field_name)
    assert _codes(api, request, keys["read"]) == ["FORBIDDEN"]
    assert _codes(api, request, keys["write"]) == ["FORBIDDEN"]
    assert "FORBIDDEN" not in _codes(api, request, keys["admin"])


@pytest.mark.parametrize("field_name", [name for name in QUERIES if "apikey" not in name.lower()
                                        and "connector" not in name.lower()])
def test_read_keys_run_every_other_query(api, stores, keys, field_name):
    assert "FORBIDDEN" not in _codes(api, _request(stores, "query", field_name), keys["read"])


def test_there_are_mutations_to_check():
    assert {"apiKeyCreate", "apiKeyRevoke"} <= set(MUTATIONS)
