"""Customer 360 through GraphQL, and the DataLoaders that keep its query count flat."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlmodel import Session

from crm_graph.graphql.relay import global_id
from tests.factories import StoreBuilder, utc

PROFILE = """query($id: ID!) { customer(id: $id) {
  email identities { crmId }
  consents { channel bucket state since }
  consentHistory(channel: EMAIL) { state occurredAt source }
  tags { name }
  orders(first: 5) { totalCount nodes { externalId status total { amount currencyCode }
    lines { name quantity lineTotal { amount currencyCode } } refunds { amount { amount currencyCode } } } }
  productsBought { name orders quantity revenue { amount currencyCode } }
  revenue { totalSales { amount } refunds { amount } netRevenue { amount currencyCode } orders
    averageOrderValue { amount currencyCode } firstOrderAt lastOrderAt }
  recentEvents(first: 2) { kind occurredAt }
  spenderSegment { value frequency valueLow { amount currencyCode } valueHigh { amount } frequentThreshold }
  rfm(range: {from: "2026-01-01", to: "2026-02-28"}) { recencyDays frequency monetary { amount currencyCode } r f m fm segment }
  rfmBefore: rfm(range: {from: "2025-01-01", to: "2025-12-31"}) { r }
} }"""


def test_customer_360_shows_everything_about_one_customer(api, make_store, engine):
    store = make_store(currency="PLN")
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        anna = b.customer(email="anna@example.com")
        b.identity(anna, "woocommerce", "12")
        shoes, hat = b.product("Shoes"), b.product("Hat")
        first = b.order(anna, "120.00", utc(2026, 1, 10), lines=[(shoes, 1, "100.00"), (hat, 1, "20.00")], external_id="A1",
                        currency="EUR")
        b.refund(first, "20.00", utc(2026, 1, 12))
        b.order(anna, "40.00", utc(2026, 2, 1), lines=[(hat, 2, "20.00")], external_id="A2")
        b.order(anna, "10.00", utc(2026, 2, 5), status="CANCELLED", lines=[(hat, 1, "10.00")], external_id="A3")
        b.consent(anna, "EMAIL", "SUBSCRIBED", utc(2025, 1, 1))
        b.consent(anna, "EMAIL", "UNSUBSCRIBED", utc(2025, 6, 1))
        b.tag(anna, "vip", utc(2026, 1, 1))
        b.tag(anna, "old", utc(2025, 1, 1), removed_at=utc(2025, 2, 1))
        for day in (1, 2, 3):
            b.activity(anna, "VISIT", utc(2026, 3, day))
        b.commit()
    data = api.data(PROFILE, {"id": global_id("Customer", anna.id)}, key=api.key(store, "read"))["customer"]
    assert data["identities"] == [{"crmId": "woocommerce:12"}]
    assert data["consents"] == [
        {"channel": "EMAIL", "bucket": "UNSUBSCRIBED", "state": "UNSUBSCRIBED", "since": "2025-06-01T00:00:00+00:00"},
        {"channel": "SMS", "bucket": "UNKNOWN", "state": None, "since": None},
    ]
    assert [event["state"] for event in data["consentHistory"]] == ["UNSUBSCRIBED", "SUBSCRIBED"]
    assert data["tags"] == [{"name": "vip"}]
    orders = data["orders"]["nodes"]
    assert data["orders"]["totalCount"] == 3
    assert [order["externalId"] for order in orders] == ["A3", "A2", "A1"]
    # an order's own amounts are in its currency; sums across orders in the store's
    assert orders[2]["total"] == {"amount": "120.00", "currencyCode": "EUR"}
    assert orders[1]["total"] == {"amount": "40.00", "currencyCode": "PLN"}
    assert orders[2]["lines"] == [{"name": "Shoes", "quantity": 1, "lineTotal": {"amount": "100.00", "currencyCode": "EUR"}},
                                  {"name": "Hat", "quantity": 1, "lineTotal": {"amount": "20.00", "currencyCode": "EUR"}}]
    assert orders[2]["refunds"] == [{"amount": {"amount": "20.00", "currencyCode": "EUR"}}]
    # Hat: 1 + 2 units in two counted orders (the cancelled one does not count), 20 + 40 revenue.
    assert data["productsBought"] == [
        {"name": "Hat", "orders": 2, "quantity": 3, "revenue": {"amount": "60.00", "currencyCode": "PLN"}},
        {"name": "Shoes", "orders": 1, "quantity": 1, "revenue": {"amount": "100.00", "currencyCode": "PLN"}},
    ]
    # Sales 120 + 40 = 160, refunds 20, net 140 over 2 counted orders: AOV 70.
    assert data["revenue"] == {
        "totalSales": {"amount": "160.00"}, "refunds": {"amount": "20.00"},
        "netRevenue": {"amount": "140.00", "currencyCode": "PLN"}, "orders": 2,
        "averageOrderValue": {"amount": "70.00", "currencyCode": "PLN"}, "firstOrderAt": "2026-01-10T00:00:00+00:00",
        "lastOrderAt": "2026-02-01T00:00:00+00:00",
    }
    assert [event["occurredAt"][:10] for event in data["recentEvents"]] == ["2026-03-03", "2026-03-02"]
    # the only spender: both percentiles are its 140, so it is BIG; 2 orders < threshold 3: REPEAT
    assert data["spenderSegment"] == {"value": "BIG", "frequency": "REPEAT",
                                      "valueLow": {"amount": "140.00", "currencyCode": "PLN"},
                                      "valueHigh": {"amount": "140.00"}, "frequentThreshold": 3}
    # alone in the grid (n = 1): every score is 1, cell (1, 1) = LOST; 27 days from 1 Feb to 28 Feb;
    # 2 counted orders, 160 - 20 refunded = 140
    assert data["rfm"] == {"recencyDays": 27, "frequency": 2, "monetary": {"amount": "140.00", "currencyCode": "PLN"},
                           "r": 1, "f": 1, "m": 1,
                           "fm": 1, "segment": "LOST"}
    assert data["rfmBefore"] is None


@contextmanager
def count_statements(engine):
    """Counts the SQL statements sent through `engine` inside the block."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


PAGE = """query($first: Int!) { customers(first: $first, sort: ID, direction: ASC) { nodes {
  id email identities { crmId } consents { bucket } tags { name }
  orders(first: 3) { totalCount edges { cursor node { total { amount } lines { name } refunds { amount { amount } } } } }
  revenue { netRevenue { amount } } } } }"""


def test_statements_do_not_grow_with_the_page(api, store, engine):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        product = b.product("Thing")
        for index in range(50):
            customer = b.customer(email=f"c{index}@example.com")
            b.identity(customer, "test", f"x{index}")
            b.consent(customer, "EMAIL", "SUBSCRIBED", utc(2026, 1, 1))
            b.tag(customer, "t", utc(2026, 1, 1))
            for day in (1, 2):
                order = b.order(customer, "10.00", utc(2026, 2, day), lines=[(product, 1, "10.00")])
            b.refund(order, "1.00", utc(2026, 2, 3))
        b.commit()
    key = api.key(store, "read")
    counts = {}
    for first in (5, 50):
        with count_statements(engine) as seen:
            nodes = api.data(PAGE, {"first": first}, key=key)["customers"]["nodes"]
        assert len(nodes) == first and all(len(node["orders"]["edges"]) == 2 for node in nodes)
        assert all(node["orders"]["totalCount"] == 2 for node in nodes)
        counts[first] = len(seen)
    # authentication + the page + one query each for identities, consents, tags, orders, order counts, lines,
    # refunds, revenue
    assert counts[5] == counts[50] <= 11, counts


ORDERS = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { customer(id: $id) {
  orders(first: $first, after: $after, last: $last, before: $before) {
    totalCount edges { cursor node { externalId } } nodes { externalId }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""


def _orders_page(api, key, customer, **variables):
    return api.data(ORDERS, {"id": customer, **variables}, key=key)["customer"]["orders"]


def test_a_customer_with_many_orders_pages_them_both_ways(api, store, engine):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        anna = b.customer(email="anna@example.com")
        other = b.customer(email="other@example.com")
        # two orders share a time: the id breaks the tie
        for index in range(7):
            b.order(anna, "10.00", utc(2026, 1, 1 + min(index, 5)), external_id=f"A{index}")
        b.order(other, "10.00", utc(2026, 1, 3), external_id="B0")
        b.commit()
    key, customer = api.key(store, "read"), global_id("Customer", anna.id)
    newest_first = ["A6", "A5", "A4", "A3", "A2", "A1", "A0"]
    forward, after = [], None
    while True:
        page = _orders_page(api, key, customer, first=3, after=after)
        assert page["totalCount"] == 7
        assert [edge["node"] for edge in page["edges"]] == page["nodes"]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        forward.append([node["externalId"] for node in page["nodes"]])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert forward == [newest_first[:3], newest_first[3:6], newest_first[6:]]
    backward, before = [], None
    while True:
        page = _orders_page(api, key, customer, last=3, before=before)
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        backward.append([node["externalId"] for node in page["nodes"]])
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == [newest_first[4:], newest_first[1:4], newest_first[:1]]
    # any edge's cursor pages from that order, in either direction
    middle = _orders_page(api, key, customer, first=7)["edges"][3]["cursor"]
    assert [n["externalId"] for n in _orders_page(api, key, customer, first=2, after=middle)["nodes"]] == ["A2", "A1"]
    assert [n["externalId"] for n in _orders_page(api, key, customer, last=2, before=middle)["nodes"]] == ["A5", "A4"]
    exact = _orders_page(api, key, customer, last=3, before=middle)
    assert [n["externalId"] for n in exact["nodes"]] == ["A6", "A5", "A4"] and not exact["pageInfo"]["hasPreviousPage"]


def test_orders_paging_arguments_are_checked(api, store, engine):
    with Session(engine, expire_on_commit=False) as session:
        anna = StoreBuilder(session, store).customer(email="anna@example.com")
        session.commit()
    key, customer = api.key(store, "read"), global_id("Customer", anna.id)
    for variables in ({"first": 0}, {"first": 101}, {"last": 0}, {"first": 2, "last": 2}, {"first": 1, "before": "x"},
                      {"after": "garbage"}, {"before": "WzEsMl0"}):
        assert api.error_codes(ORDERS, {"id": customer, **variables}, key=key) == ["BAD_USER_INPUT"], variables
    empty = _orders_page(api, key, customer, first=5)
    assert empty == {"totalCount": 0, "edges": [], "nodes": [], "pageInfo": {
        "hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}}


NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Customer { email totalSpent { amount currencyCode } }
  ... on Order { externalId total { amount currencyCode } customer { id email } } } }"""
NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"""


def test_customers_and_orders_are_nodes_of_their_store_only(api, make_store, engine):
    mine, theirs = make_store(currency="PLN"), make_store(currency="USD")
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, mine)
        anna = b.customer(email="anna@example.com")
        order = b.order(anna, "12.50", utc(2026, 1, 1), external_id="A1", currency="EUR")
        gone = b.customer(email="gone@example.com", erased_at=utc(2026, 1, 2))
        b.commit()
        t = StoreBuilder(session, theirs)
        foreign = t.customer(email="foreign@example.com")
        foreign_order = t.order(foreign, "1.00", utc(2026, 1, 1))
        t.commit()
    key = api.key(mine, "read")
    customer_id, order_id = global_id("Customer", anna.id), global_id("Order", order.id)
    assert customer_id != str(anna.id) and order_id != str(order.id)
    found = api.data(NODE, {"id": customer_id}, key=key)["node"]
    assert found == {"__typename": "Customer", "id": customer_id, "email": "anna@example.com",
                     "totalSpent": {"amount": "12.50", "currencyCode": "PLN"}}
    found = api.data(NODE, {"id": order_id}, key=key)["node"]
    assert found == {"__typename": "Order", "id": order_id, "externalId": "A1",
                     "total": {"amount": "12.50", "currencyCode": "EUR"},
                     "customer": {"id": customer_id, "email": "anna@example.com"}}
    # the list, Customer 360 and node(id:) agree on the id
    assert api.data("{ customers { nodes { id } } }", key=key)["customers"]["nodes"] == [{"id": customer_id}]
    assert api.data("query($id: ID!) { customer(id: $id) { id orders { nodes { id } } } }", {"id": customer_id},
                    key=key)["customer"] == {"id": customer_id, "orders": {"nodes": [{"id": order_id}]}}
    nothing = [
        global_id("Customer", foreign.id), global_id("Order", foreign_order.id),  # another store's
        global_id("Customer", gone.id),  # erased
        global_id("Customer", order.id + 10_000), str(anna.id), str(order.id),  # unknown, bare row ids
        global_id("Order", anna.id + 10_000), global_id("Segment", anna.id),  # an id of another type
        "", "x", "%%%", "Q3VzdG9tZXI6", "Q3VzdG9tZXI6LTE", "Q3VzdG9tZXI6YWJj", "9" * 400,  # malformed
    ]
    for value in nothing:
        assert api.data(NODE, {"id": value}, key=key)["node"] is None, value
        assert api.data("query($id: ID!) { customer(id: $id) { id } }", {"id": value}, key=key)["customer"] is None
    assert api.data(NODES, {"ids": [order_id, nothing[0], customer_id, nothing[1]]}, key=key)["nodes"] == [
        {"__typename": "Order", "id": order_id}, None, {"__typename": "Customer", "id": customer_id}, None]
    # and the other store sees its own, not ours
    assert api.data(NODE, {"id": customer_id}, key=api.key(theirs, "read"))["node"] is None
    assert api.data(NODE, {"id": global_id("Customer", foreign.id)}, key=api.key(theirs, "read"))["node"]["id"] == \
        global_id("Customer", foreign.id)


def test_long_lists_of_a_customer_are_bounded(api, store, engine):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        anna = b.customer(email="anna@example.com")
        for day in range(1, 6):
            b.consent(anna, "EMAIL", "SUBSCRIBED" if day % 2 else "UNSUBSCRIBED", utc(2026, 1, day))
            b.order(anna, "1.00", utc(2026, 1, day), lines=[(b.product(f"P{day}"), day, "1.00")])
        b.commit()
    key, customer = api.key(store, "read"), global_id("Customer", anna.id)
    query = """query($id: ID!, $n: Int!) { customer(id: $id) { consentHistory(first: $n) { occurredAt }
      productsBought(first: $n) { name quantity } } }"""
    data = api.data(query, {"id": customer, "n": 2}, key=key)["customer"]
    assert [event["occurredAt"][:10] for event in data["consentHistory"]] == ["2026-01-05", "2026-01-04"]
    assert data["productsBought"] == [{"name": "P5", "quantity": 5}, {"name": "P4", "quantity": 4}]
    for n in (0, 101):
        assert api.error_codes(query, {"id": customer, "n": n}, key=key) == ["BAD_USER_INPUT"]
