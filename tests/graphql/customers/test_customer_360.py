"""Customer 360 through GraphQL, and the DataLoaders that keep its query count flat."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlmodel import Session

from tests.factories import StoreBuilder, utc

PROFILE = """query($id: ID!) { customer(id: $id) {
  email identities { crmId }
  consents { channel bucket state since }
  consentHistory(channel: EMAIL) { state occurredAt source }
  tags { name }
  orders(first: 5) { externalId status total lines { name quantity lineTotal } refunds { amount } }
  productsBought { name orders quantity revenue }
  revenue { totalSales refunds netRevenue orders averageOrderValue firstOrderAt lastOrderAt }
  recentEvents(first: 2) { kind occurredAt }
  spenderSegment { value frequency valueLow valueHigh frequentThreshold }
  rfm(range: {from: "2026-01-01", to: "2026-02-28"}) { recencyDays frequency monetary r f m fm segment }
  rfmBefore: rfm(range: {from: "2025-01-01", to: "2025-12-31"}) { r }
} }"""


def test_customer_360_shows_everything_about_one_customer(api, store, engine):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        anna = b.customer(email="anna@example.com")
        b.identity(anna, "woocommerce", "12")
        shoes, hat = b.product("Shoes"), b.product("Hat")
        first = b.order(anna, "120.00", utc(2026, 1, 10), lines=[(shoes, 1, "100.00"), (hat, 1, "20.00")], external_id="A1")
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
    data = api.data(PROFILE, {"id": str(anna.id)}, key=api.key(store, "read"))["customer"]
    assert data["identities"] == [{"crmId": "woocommerce:12"}]
    assert data["consents"] == [
        {"channel": "EMAIL", "bucket": "UNSUBSCRIBED", "state": "UNSUBSCRIBED", "since": "2025-06-01T00:00:00+00:00"},
        {"channel": "SMS", "bucket": "UNKNOWN", "state": None, "since": None},
    ]
    assert [event["state"] for event in data["consentHistory"]] == ["UNSUBSCRIBED", "SUBSCRIBED"]
    assert data["tags"] == [{"name": "vip"}]
    assert [order["externalId"] for order in data["orders"]] == ["A3", "A2", "A1"]
    assert data["orders"][2]["lines"] == [{"name": "Shoes", "quantity": 1, "lineTotal": "100.00"},
                                          {"name": "Hat", "quantity": 1, "lineTotal": "20.00"}]
    assert data["orders"][2]["refunds"] == [{"amount": "20.00"}]
    # Hat: 1 + 2 units in two counted orders (the cancelled one does not count), 20 + 40 revenue.
    assert data["productsBought"] == [
        {"name": "Hat", "orders": 2, "quantity": 3, "revenue": "60.00"},
        {"name": "Shoes", "orders": 1, "quantity": 1, "revenue": "100.00"},
    ]
    # Sales 120 + 40 = 160, refunds 20, net 140 over 2 counted orders: AOV 70.
    assert data["revenue"] == {
        "totalSales": "160.00", "refunds": "20.00", "netRevenue": "140.00", "orders": 2,
        "averageOrderValue": "70.00", "firstOrderAt": "2026-01-10T00:00:00+00:00",
        "lastOrderAt": "2026-02-01T00:00:00+00:00",
    }
    assert [event["occurredAt"][:10] for event in data["recentEvents"]] == ["2026-03-03", "2026-03-02"]
    # the only spender: both percentiles are its 140, so it is BIG; 2 orders < threshold 3: REPEAT
    assert data["spenderSegment"] == {"value": "BIG", "frequency": "REPEAT", "valueLow": "140.00",
                                      "valueHigh": "140.00", "frequentThreshold": 3}
    # alone in the grid (n = 1): every score is 1, cell (1, 1) = LOST; 27 days from 1 Feb to 28 Feb;
    # 2 counted orders, 160 - 20 refunded = 140
    assert data["rfm"] == {"recencyDays": 27, "frequency": 2, "monetary": "140.00", "r": 1, "f": 1, "m": 1,
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
  orders(first: 3) { total lines { name } refunds { amount } } revenue { netRevenue } } } }"""


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
        assert len(nodes) == first and all(len(node["orders"]) == 2 for node in nodes)
        counts[first] = len(seen)
    # authentication + the page + one query each for identities, consents, tags, orders, lines, refunds, revenue
    assert counts[5] == counts[50] <= 10, counts
