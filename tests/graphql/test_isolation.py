"""Store isolation over the whole schema: store A's key never sees, counts or changes store B's data.

Every root query and mutation field of `schema.graphql` is called with store A's admin key, every
leaf selected to depth 3, id arguments set to store B's ids of the right kind and date ranges over
all of B's data (tests/graphql/schema_walk.py builds the requests, tests/graphql/isolation.py the
stores). A field added later is covered without editing this file; a field whose arguments no rule
can fill fails here until a rule is added.
"""

from __future__ import annotations

import asyncio

import pytest
import strawberry
from sqlmodel import Session, select

from crm_graph.graphql.context import Context, Info
from crm_graph.graphql.relay import node_row_id
from crm_graph.graphql.schema import schema
from crm_graph.models import Customer
from crm_graph.models.enums import Role
from tests.graphql.isolation import TwoStores, build_two_stores, find_leaks
from tests.graphql.schema_walk import NoSampleRule, RequestBuilder, Samples, root_fields

GRAPHQL = schema._schema
FIELDS = [("query", name) for name in root_fields(GRAPHQL, "query")] + \
         [("mutation", name) for name in root_fields(GRAPHQL, "mutation")]


@pytest.fixture(scope="module")
def two_stores(engine) -> TwoStores:
    """Stores A and B, built once per database for this module."""
    return build_two_stores(engine)


@pytest.fixture(scope="module")
def client(engine, db_url, tmp_path_factory):
    """A test client of the app on this module's database."""
    from crm_graph.settings import Settings
    from tests.conftest import app_client

    files = tmp_path_factory.mktemp("files")
    settings = Settings(database_url=db_url, _env_file=None, import_dir=str(files / "imports"),
                        export_dir=str(files / "exports"))
    with app_client(settings) as test_client:
        yield test_client


def _samples(two: TwoStores) -> Samples:
    return Samples(ids=two.b_ids, first_day=two.first_day, last_day=two.last_day,
                   search="bravo.0@bravo-secret.test")


@pytest.mark.parametrize(("operation", "field_name"), FIELDS, ids=[f"{op}.{name}" for op, name in FIELDS])
def test_store_a_never_reaches_store_b(client, two_stores, operation, field_name):
    samples = _samples(two_stores)
    builder = RequestBuilder(GRAPHQL, samples)
    try:
        requests = [builder.build(operation, field_name, id_choice=choice) for choice in range(2)]
    except NoSampleRule as exc:
        pytest.fail(f"{operation} field {field_name!r}: {exc}", pytrace=False)
    unique = {(r.query, repr(sorted(r.variables.items()))): r for r in requests}.values()
    for request in unique:
        before = two_stores.fingerprint()
        response = client.post("/graphql", json={"query": request.query, "variables": request.variables},
                               headers={"Authorization": f"Bearer {two_stores.a_key}"})
        assert response.status_code == 200, (request.query, response.text)
        body = response.json()
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        assert "INTERNAL_SERVER_ERROR" not in codes, (request.query, request.variables, body["errors"])
        assert all(codes), f"an error without a code: {body['errors']}"
        assert find_leaks(body, two_stores, request.variables) == [], (request.query, request.variables, body)
        assert two_stores.fingerprint() == before, f"{field_name} changed store B: {request.variables}"


def test_every_root_field_is_probed():
    """The enumeration really reaches the schema (a typo in the walk would silently test nothing)."""
    names = {name for _, name in FIELDS}
    assert {"store", "customer", "customers", "apiKeys", "apiKeyRevoke", "node", "nodes"} <= names


def test_the_leak_check_catches_a_leaky_resolver(engine, two_stores):
    """The check is not vacuous: a resolver that forgets the store filter is reported."""

    def all_customers(session: Session, _store) -> list[str]:
        return [c.email for c in session.exec(select(Customer).order_by(Customer.id))]

    @strawberry.type
    class Leaky:
        @strawberry.field(description="Forgets the store filter.")
        async def emails(self, info: Info) -> list[str | None]:
            return await info.context.run(all_customers)

    leaky = strawberry.Schema(query=Leaky)
    context = Context(engine=engine, store=two_stores.a, role=Role.ADMIN)
    result = asyncio.run(leaky.execute("{ emails }", context_value=context))
    problems = find_leaks({"data": result.data}, two_stores, {})
    assert any("bravo.0@bravo-secret.test" in problem for problem in problems)


def test_the_change_check_catches_a_write_to_store_b(engine, two_stores):
    """The fingerprint moves when a row of B changes (and only then)."""
    before = two_stores.fingerprint()
    assert two_stores.fingerprint() == before
    with Session(engine) as session:
        customer = session.get(Customer, node_row_id(two_stores.b_ids["customer"][0], "Customer"))
        original = customer.city
        customer.city = "Changed"
        session.commit()
        assert two_stores.fingerprint() != before
        customer.city = original
        session.commit()
    assert two_stores.fingerprint() == before
