"""The API skeleton: the key's store, its customers, and authentication errors."""

from sqlmodel import Session

from crm_graph.graphql.relay import global_id
from tests.factories import StoreBuilder, utc

STORE_QUERY = "{ store { slug timezone currencyCode customerCount } }"


def test_store_answers_for_the_key_store_only(api, make_store, engine):
    warsaw = make_store(timezone="Europe/Warsaw", currency="PLN")
    other = make_store()
    with Session(engine, expire_on_commit=False) as session:
        builder = StoreBuilder(session, warsaw)
        for index in range(3):
            builder.customer(email=f"c{index}@example.com")
        builder.customer(email="gone@example.com", erased_at=utc(2026, 2, 1))
        StoreBuilder(session, other).customer(email="other@example.com")
        builder.commit()

    data = api.data(STORE_QUERY, key=api.key(warsaw, "read"))
    assert data["store"] == {"slug": warsaw.slug, "timezone": "Europe/Warsaw", "currencyCode": "PLN", "customerCount": 3}
    assert api.data(STORE_QUERY, key=api.key(other, "read"))["store"]["customerCount"] == 1


def test_missing_or_wrong_key_is_unauthenticated(api, store):
    assert api.error_codes(STORE_QUERY) == ["UNAUTHENTICATED"]
    assert api.error_codes(STORE_QUERY, key="crm_not-a-real-key") == ["UNAUTHENTICATED"]


def test_revoked_key_stops_working(api, store, engine):
    from crm_graph.services.api_keys import list_api_keys, revoke_api_key

    key = api.key(store)
    assert api.data(STORE_QUERY, key=key)
    with Session(engine, expire_on_commit=False) as session:
        revoke_api_key(session, store, list_api_keys(session, store)[0].id)
        session.commit()
    assert api.error_codes(STORE_QUERY, key=key) == ["UNAUTHENTICATED"]


def test_customers_page_through_all_customers(api, store, engine):
    with Session(engine, expire_on_commit=False) as session:
        builder = StoreBuilder(session, store)
        created = [builder.customer(email=f"p{index}@example.com") for index in range(5)]
        builder.identity(created[0], "woocommerce", "123")
        builder.order(created[0], "10.50", utc(2026, 1, 5))
        builder.order(created[0], "4.50", utc(2026, 1, 9))
        builder.commit()
    key = api.key(store)
    query = """query($after: String) { customers(first: 2, after: $after, sort: ID, direction: ASC) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { id email ordersCount totalSpent { amount currencyCode } identities { crmId } } } }"""
    seen, after = [], None
    while True:
        page = api.data(query, {"after": after}, key=key)["customers"]
        assert page["totalCount"] == 5
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [node["email"] for node in seen] == [f"p{index}@example.com" for index in range(5)]
    assert [node["id"] for node in seen] == [global_id("Customer", row.id) for row in created]
    assert seen[0]["identities"] == [{"crmId": "woocommerce:123"}]
    assert seen[0]["ordersCount"] == 2
    assert seen[0]["totalSpent"] == {"amount": "15.00", "currencyCode": store.currency}


def test_customer_of_another_store_is_null(api, make_store, engine):
    mine, theirs = make_store(), make_store()
    with Session(engine, expire_on_commit=False) as session:
        foreign = StoreBuilder(session, theirs).customer(email="x@example.com")
        session.commit()
    for value in (global_id("Customer", foreign.id), str(foreign.id)):
        data = api.data("query($id: ID!) { customer(id: $id) { email } }", {"id": value}, key=api.key(mine))
        assert data["customer"] is None
    theirs_key = api.key(theirs)
    assert api.data("query($id: ID!) { customer(id: $id) { email } }", {"id": global_id("Customer", foreign.id)},
                    key=theirs_key)["customer"] == {"email": "x@example.com"}


def test_page_size_limit_is_a_clear_error(api, store):
    assert api.error_codes("{ customers(first: 1000000) { totalCount } }", key=api.key(store)) == ["BAD_USER_INPUT"]
    assert api.error_codes("{ customers(last: 1000000) { totalCount } }", key=api.key(store)) == ["BAD_USER_INPUT"]


def test_health(api):
    response = api.client.get("/health")
    assert response.status_code == 200 and response.json()["database"] == "ok"
