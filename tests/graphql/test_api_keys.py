"""API keys through GraphQL and at the door: creation, listing, revocation, last use, error codes."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from crm_graph.graphql.relay import global_id, node_row_id
from crm_graph.models import ApiKey
from crm_graph.services.api_keys import forget, hash_key

STORE = "{ store { slug } }"
CREATE = """mutation($role: Role!, $name: String!) { apiKeyCreate(role: $role, name: $name) {
  __typename ... on ApiKeyCreated { key apiKey { id role prefix name } } ... on UserError { code message field } } }"""
KEY_FIELDS = "id name role prefix createdAt lastUsedAt revokedAt"
LIST = "{ apiKeys { totalCount nodes { %s } } }" % KEY_FIELDS
PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  apiKeys(first: $first, after: $after, last: $last, before: $before) {
    totalCount edges { cursor node { name } } nodes { name } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
REVOKE = """mutation($id: ID!) { apiKeyRevoke(id: $id) {
  __typename ... on ApiKey { id revokedAt } ... on UserError { code message field } } }"""
NODE = "query($id: ID!) { node(id: $id) { __typename id ... on ApiKey { name role } } }"


def test_an_admin_creates_lists_and_revokes_keys(api, store, engine):
    admin = api.key(store, "admin")
    created = api.data(CREATE, {"role": "READ", "name": "dashboard"}, key=admin)["apiKeyCreate"]
    plain = created["key"]
    assert plain.startswith("crm_") and len(plain) == 47
    assert created["apiKey"]["role"] == "READ" and plain.startswith(created["apiKey"]["prefix"])
    assert api.data(STORE, key=plain)["store"]["slug"] == store.slug

    listed = api.data(LIST, key=admin)["apiKeys"]
    assert [k["name"] for k in listed["nodes"]] == ["dashboard", "admin key"] and listed["totalCount"] == 2
    assert plain not in str(listed)  # shown once, never listed
    with Session(engine) as session:
        row = session.get(ApiKey, node_row_id(created["apiKey"]["id"], "ApiKey"))
        assert row.key_hash == hash_key(plain) and plain not in (row.key_hash, row.prefix, row.name)
        assert created["apiKey"]["id"] == global_id("ApiKey", row.id)

    revoked = api.data(REVOKE, {"id": created["apiKey"]["id"]}, key=admin)["apiKeyRevoke"]
    assert revoked["__typename"] == "ApiKey" and revoked["id"] == created["apiKey"]["id"]
    assert revoked["revokedAt"] is not None
    assert api.error_codes(STORE, key=plain) == ["UNAUTHENTICATED"]


def test_an_admin_cannot_revoke_another_stores_key(api, make_store):
    mine, theirs = make_store(), make_store()
    their_key = api.key(theirs, "read")
    their_id = api.data(LIST, key=api.key(theirs, "admin"))["apiKeys"]["nodes"][-1]["id"]
    my_admin = api.key(mine, "admin")
    for wrong in (their_id, "12345", "not an id", global_id("Segment", node_row_id(their_id, "ApiKey"))):
        answer = api.data(REVOKE, {"id": wrong}, key=my_admin)["apiKeyRevoke"]
        assert answer["__typename"] == "NotFoundError" and answer["code"] == "NOT_FOUND", wrong
        assert answer["field"] == ["id"], wrong
    assert api.data(STORE, key=their_key)["store"]["slug"] == theirs.slug
    assert api.error_codes(REVOKE, {"id": their_id}, key=api.key(mine, "write")) == ["FORBIDDEN"]


def test_keys_are_nodes_of_their_own_store_for_admins(api, make_store):
    mine, theirs = make_store(), make_store()
    admin = api.key(mine, "admin")
    mine_id = api.data(LIST, key=admin)["apiKeys"]["nodes"][0]["id"]
    their_id = api.data(LIST, key=api.key(theirs, "admin"))["apiKeys"]["nodes"][0]["id"]
    assert api.data(NODE, {"id": mine_id}, key=admin)["node"] == {
        "__typename": "ApiKey", "id": mine_id, "name": "admin key", "role": "ADMIN"}
    assert api.data(NODE, {"id": their_id}, key=admin)["node"] is None
    assert api.data(NODE, {"id": "bm90IGFuIGlk"}, key=admin)["node"] is None  # malformed
    assert api.data(NODE, {"id": global_id("Job", node_row_id(mine_id, "ApiKey"))}, key=admin)["node"] is None
    assert api.data(NODE, {"id": mine_id}, key=api.key(mine, "write"))["node"] is None  # only admins see keys


def test_keys_page_forward_and_backward(api, store):
    admin = api.key(store, "admin")
    for name in ("k1", "k2", "k3", "k4"):
        assert api.data(CREATE, {"role": "READ", "name": name}, key=admin)["apiKeyCreate"]["__typename"] == "ApiKeyCreated"
    newest_first = ["k4", "k3", "k2", "k1", "admin key"]
    first = api.data(PAGE, {"first": 2}, key=admin)["apiKeys"]
    assert [n["name"] for n in first["nodes"]] == newest_first[:2] and first["totalCount"] == 5
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    assert [e["node"]["name"] for e in first["edges"]] == newest_first[:2]
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
    rest = api.data(PAGE, {"first": 5, "after": first["pageInfo"]["endCursor"]}, key=admin)["apiKeys"]
    assert [n["name"] for n in rest["nodes"]] == newest_first[2:]
    assert not rest["pageInfo"]["hasNextPage"] and rest["pageInfo"]["hasPreviousPage"]
    back = api.data(PAGE, {"last": 2, "before": rest["pageInfo"]["endCursor"]}, key=admin)["apiKeys"]
    assert [n["name"] for n in back["nodes"]] == ["k2", "k1"]
    assert back["pageInfo"]["hasPreviousPage"] and back["pageInfo"]["hasNextPage"]
    last = api.data(PAGE, {"last": 3}, key=admin)["apiKeys"]
    assert [n["name"] for n in last["nodes"]] == newest_first[2:]
    assert last["pageInfo"]["hasPreviousPage"] and not last["pageInfo"]["hasNextPage"]
    assert api.error_codes(PAGE, {"first": 2, "last": 2}, key=admin) == ["BAD_USER_INPUT"]
    assert api.error_codes(PAGE, {"after": "bm90IGEgY3Vyc29y"}, key=admin) == ["BAD_USER_INPUT"]


def test_last_use_is_recorded_at_most_once_a_minute(api, store, engine):
    key = api.key(store, "read")
    with Session(engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.store_id == store.id)).one()
        assert row.last_used_at is None
    api.data(STORE, key=key)
    with Session(engine) as session:
        first = session.exec(select(ApiKey).where(ApiKey.store_id == store.id)).one().last_used_at
    assert first is not None
    api.data(STORE, key=key)
    with Session(engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.store_id == store.id)).one()
        assert row.last_used_at == first  # within the minute: not written again
        row.last_used_at = first - timedelta(minutes=5)
        session.add(row)
        session.commit()
    forget()  # as if this process's memory of the key had expired
    api.data(STORE, key=key)
    with Session(engine) as session:
        assert session.exec(select(ApiKey).where(ApiKey.store_id == store.id)).one().last_used_at > first - \
            timedelta(minutes=1)


def test_each_kind_of_bad_credential_has_its_message(api, store):
    def error(headers):
        response = api.client.post("/graphql", json={"query": STORE}, headers=headers)
        assert response.status_code == 200
        return response.json()["errors"][0]

    missing = error({})
    assert missing["extensions"]["code"] == "UNAUTHENTICATED" and "required" in missing["message"]
    scheme = error({"Authorization": "Basic dXNlcjpwYXNz"})
    assert scheme["extensions"]["code"] == "UNAUTHENTICATED" and "Bearer" in scheme["message"]
    for wrong in ("crm_" + "A" * 43, "not-a-key", "crm_" + "x" * 500, ("crm_" + "\u00e9" * 43).encode("latin-1")):
        invalid = error({"Authorization": (b"Bearer " + wrong) if isinstance(wrong, bytes) else f"Bearer {wrong}"})
        assert invalid["extensions"]["code"] == "UNAUTHENTICATED" and "not valid" in invalid["message"]


def test_a_revoked_key_reads_like_an_unknown_one(api, store):
    admin = api.key(store, "admin")
    read = api.data(CREATE, {"role": "READ", "name": "x"}, key=admin)["apiKeyCreate"]
    assert read["__typename"] == "ApiKeyCreated"
    api.data(REVOKE, {"id": read["apiKey"]["id"]}, key=admin)
    revoked = api.post(STORE, key=read["key"])["errors"][0]["message"]
    unknown = api.post(STORE, key="crm_" + "B" * 43)["errors"][0]["message"]
    assert revoked == unknown


def test_long_key_names_are_a_clear_error(api, store):
    admin = api.key(store, "admin")
    answer = api.data(CREATE, {"role": "READ", "name": "n" * 201}, key=admin)["apiKeyCreate"]
    assert answer["__typename"] == "ValidationError" and answer["code"] == "BAD_USER_INPUT"
    assert answer["field"] == ["name"] and "200" in answer["message"]
    assert api.data(LIST, key=admin)["apiKeys"]["totalCount"] == 1  # nothing was created


def test_an_unreachable_database_is_service_unavailable(engine):
    from starlette.testclient import TestClient

    from crm_graph.app import create_app
    from crm_graph.settings import Settings

    app = create_app(Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/none", _env_file=None))
    with TestClient(app) as client:
        body = client.post("/graphql", json={"query": STORE},
                           headers={"Authorization": "Bearer crm_" + "C" * 43}).json()
        assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert client.get("/health").status_code == 503


def test_a_key_revoked_in_another_process_stops_within_the_cache_time(api, store, engine):
    """This process remembers a checked key for `auth_cache_seconds`; past that, revocation shows."""
    key = api.key(store, "read")
    assert api.data(STORE, key=key)
    with Session(engine) as session:  # revoked behind this process's back (no `forget`)
        row = session.exec(select(ApiKey).where(ApiKey.store_id == store.id)).one()
        row.revoked_at = row.created_at
        session.add(row)
        session.commit()
    assert api.data(STORE, key=key)  # still remembered
    forget()  # the cache time has passed
    assert api.error_codes(STORE, key=key) == ["UNAUTHENTICATED"]
