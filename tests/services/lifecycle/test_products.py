"""Product popularity and pairs on a hand-built store."""

from datetime import date
from decimal import Decimal

import pytest

from crm_graph.errors import UserError
from crm_graph.models import OrderLine
from crm_graph.services.dates import make_range
from crm_graph.services.lifecycle.products import ProductSort, product_pairs, product_popularity
from tests.factories import StoreBuilder, utc

MAY = (date(2026, 5, 1), date(2026, 5, 31))


@pytest.fixture
def shop(session, store):
    b = StoreBuilder(session, store)
    p1, p2, p3, p4 = (b.product(f"P{i}") for i in range(1, 5))
    a, bb, c, d, erased = (b.customer(email=f"{n}@example.com") for n in ("a", "b", "c", "d", "e"))
    b.order(a, "25.00", utc(2026, 5, 2, 10), lines=[(p1, 2, "10.00"), (p2, 1, "5.00")])             # o1
    b.order(bb, "35.00", utc(2026, 5, 3, 10), lines=[(p1, 1, "10.00"), (p2, 1, "5.00"), (p3, 1, "20.00")])  # o2
    b.order(a, "10.00", utc(2026, 5, 4, 10), lines=[(p1, 1, "10.00")])                              # o3
    b.order(None, "35.00", utc(2026, 5, 5, 10), lines=[(p2, 3, "5.00"), (p3, 1, "20.00")])          # o4 guest
    b.order(c, "20.00", utc(2026, 5, 6, 10), status="CANCELLED", lines=[(p1, 1, "10.00"), (p4, 1, "10.00")])
    b.order(erased, "10.00", utc(2026, 5, 7, 10), lines=[(p4, 1, "10.00")])
    erased.erased_at = utc(2026, 5, 30)
    b.order(d, "10.00", utc(2026, 4, 30, 10), lines=[(p4, 1, "10.00")])                             # April
    o8 = b.order(d, "21.00", utc(2026, 5, 8, 10), lines=[(p3, 1, "20.00")])                         # o8
    session.add(OrderLine(store_id=store.id, order_id=o8.id, product_id=None, name="Gift wrap", quantity=1,
                          unit_price=Decimal("1.00"), line_total=Decimal("1.00")))
    b.commit()
    return store, (p1, p2, p3, p4)


def test_popularity_by_hand(session, shop):
    store, (p1, p2, p3, _) = shop
    r = make_range(*MAY, store.tz)
    by_revenue = product_popularity(session, store, r, ProductSort.REVENUE)
    assert [(x.product_id, x.buyers, x.orders, x.units, x.revenue) for x in by_revenue] == [
        (p3.id, 2, 3, 3, Decimal("60.00")),  # b, d (the guest adds no buyer)
        (p1.id, 2, 3, 4, Decimal("40.00")),
        (p2.id, 2, 3, 5, Decimal("25.00")),
    ]
    assert by_revenue[0].name == "P3"
    assert [x.product_id for x in product_popularity(session, store, r, ProductSort.UNITS)] == [p2.id, p1.id, p3.id]
    # All have 2 buyers: ties by product id.
    assert [x.product_id for x in product_popularity(session, store, r, ProductSort.BUYERS)] == [p1.id, p2.id, p3.id]
    assert len(product_popularity(session, store, r, ProductSort.ORDERS, limit=1)) == 1


def test_pairs_by_hand(session, shop):
    store, (p1, p2, p3, _) = shop
    # Baskets: o1 {1,2}, o2 {1,2,3}, o3 {1}, o4 {2,3}, o8 {3}: N = 5, each product in 3 orders.
    pairs = product_pairs(session, store, make_range(*MAY, store.tz))
    assert [(x.product_a_id, x.product_b_id, x.orders) for x in pairs] == [
        (p1.id, p2.id, 2), (p2.id, p3.id, 2), (p1.id, p3.id, 1),
    ]
    first = pairs[0]
    assert (first.product_a_name, first.product_b_name) == ("P1", "P2")
    assert (first.total_orders, first.orders_with_a, first.orders_with_b) == (5, 3, 3)
    assert first.support == pytest.approx(2 / 5)
    assert first.confidence_a_to_b == pytest.approx(2 / 3) and first.confidence_b_to_a == pytest.approx(2 / 3)
    assert first.lift == pytest.approx(10 / 9)
    assert pairs[2].lift == pytest.approx(5 / 9)
    assert len(product_pairs(session, store, make_range(*MAY, store.tz), min_orders=2)) == 2


def test_bad_arguments_and_empty_range(session, shop):
    store, _ = shop
    r = make_range(date(2026, 1, 1), date(2026, 1, 31), store.tz)
    assert product_popularity(session, store, r) == [] and product_pairs(session, store, r) == []
    with pytest.raises(UserError, match="limit"):
        product_popularity(session, store, r, limit=0)
    with pytest.raises(UserError, match="minOrders"):
        product_pairs(session, store, r, min_orders=0)


def test_a_product_on_two_lines_of_an_order_pairs_once(session, store):
    b = StoreBuilder(session, store)
    p1, p2 = b.product("P1"), b.product("P2")
    buyer = b.customer(email="twice@example.com")
    b.order(buyer, "25.00", utc(2026, 6, 2, 10), lines=[(p1, 1, "10.00"), (p2, 1, "5.00"), (p2, 2, "5.00")])
    b.order(buyer, "15.00", utc(2026, 6, 3, 10), lines=[(p2, 1, "5.00"), (p1, 1, "10.00"), (p1, 1, "10.00")])
    b.commit()
    pairs = product_pairs(session, store, make_range(date(2026, 6, 1), date(2026, 6, 30), store.tz))
    assert [(x.product_a_id, x.product_b_id, x.orders, x.orders_with_a, x.orders_with_b, x.total_orders)
            for x in pairs] == [(p1.id, p2.id, 2, 2, 2, 2)]
