"""API keys through GraphQL and at the door: creation, listing, revocation, last use, error codes."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from crm_graph.models import ApiKey
from crm_graph.services.api_keys import forget, hash_key

STORE = "{ store { slug } }"
CREATE = "mutation($role: Role!, $name: String!) { apiKeyCreate(role: $role, name: $name) { key apiKey { id role prefix name } } }"
LIST = "{ apiKeys { id name role prefix createdAt lastUsedAt revokedAt } }"
REVOKE = "mutation($id: ID!) { apiKeyRevoke(id: $id) { id revokedAt } }"


def test_an_admin_creates_lists_and_revokes_keys(api, store, engine):
    admin = api.key(store, "admin")
    created = api.data(CREATE, {"role": "READ", "name": "dashboard"}, key=admin)["apiKeyCreate"]
    plain = created["key"]
    assert plain.startswith("crm_") and len(plain) == 47
    assert created["apiKey"]["role"] == "READ" and plain.startswith(created["apiKey"]["prefix"])
    assert api.data(STORE, key=plain)["store"]["slug"] == store.slug

    listed = api.data(LIST, key=admin)["apiKeys"]
    assert [k["name"] for k in listed] == ["dashboard", "admin key"]
    assert plain not in str(listed)  # shown once, never listed
    with Session(engine) as session:
        row = session.get(ApiKey, int(created["apiKey"]["id"]))
        assert row.key_hash == hash_key(plain) and plain not in (row.key_hash, row.prefix, row.name)

    revoked = api.data(REVOKE, {"id": created["apiKey"]["id"]}, key=admin)["apiKeyRevoke"]
    assert revoked["revokedAt"] is not None
    assert api.error_codes(STORE, key=plain) == ["UNAUTHENTICATED"]


def test_an_admin_cannot_revoke_another_stores_key(api, make_store):
    mine, theirs = make_store(), make_store()
    their_key = api.key(theirs, "read")
    their_id = api.data(LIST, key=api.key(theirs, "admin"))["apiKeys"][-1]["id"]
    assert api.error_codes(REVOKE, {"id": their_id}, key=api.key(mine, "admin")) == ["NOT_FOUND"]
    assert api.data(STORE, key=their_key)["store"]["slug"] == theirs.slug


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
    api.data(REVOKE, {"id": read["apiKey"]["id"]}, key=admin)
    revoked = api.post(STORE, key=read["key"])["errors"][0]["message"]
    unknown = api.post(STORE, key="crm_" + "B" * 43)["errors"][0]["message"]
    assert revoked == unknown


def test_long_key_names_are_a_clear_error(api, store):
    assert api.error_codes(CREATE, {"role": "READ", "name": "n" * 201}, key=api.key(store, "admin")) == \
        ["BAD_USER_INPUT"]


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
