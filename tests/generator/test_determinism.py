"""The same seed and anchor give the same store; another seed gives another one."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import text

from crm_graph.generator import generate_store

ANCHOR = date(2026, 6, 15)

# Ids are compared relative to the store's first id of each table, so two stores compare equal
# when their rows and their references are the same.
_QUERIES = {
    "customer": "SELECT id - (SELECT MIN(id) FROM customer WHERE store_id = :s), email, phone, first_name, last_name, "
                "gender, country, city, has_account, acquisition_channel, created_at, last_activity_at, orders_count, "
                "total_spent, first_order_at, last_order_at FROM customer WHERE store_id = :s ORDER BY id",
    "orders": "SELECT o.external_id, o.customer_id - (SELECT MIN(id) FROM customer WHERE store_id = :s), o.status, "
              "o.placed_at, o.total, o.subtotal, o.discount, o.shipping, o.tax, o.channel "
              "FROM orders o WHERE o.store_id = :s ORDER BY o.id",
    "order_line": "SELECT l.order_id - (SELECT MIN(id) FROM orders WHERE store_id = :s), l.sku, l.quantity, "
                  "l.unit_price, l.line_total FROM order_line l WHERE l.store_id = :s ORDER BY l.id",
    "consent_event": "SELECT customer_id - (SELECT MIN(id) FROM customer WHERE store_id = :s), channel, state, "
                     "opt_in_level, occurred_at FROM consent_event WHERE store_id = :s ORDER BY id",
    "activity_event": "SELECT customer_id - (SELECT MIN(id) FROM customer WHERE store_id = :s), kind, occurred_at "
                      "FROM activity_event WHERE store_id = :s ORDER BY id",
    "refund": "SELECT external_id, amount, refunded_at FROM refund WHERE store_id = :s ORDER BY id",
    "customer_tag": "SELECT customer_id - (SELECT MIN(id) FROM customer WHERE store_id = :s), applied_at, removed_at "
                    "FROM customer_tag WHERE store_id = :s ORDER BY id",
}


def fingerprint(engine, store) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every row (ids relative to the store) per table."""
    result = {}
    with engine.connect() as connection:
        for table, query in _QUERIES.items():
            rows = connection.execute(text(query), {"s": store.id}).all()
            digest = hashlib.sha256(repr([tuple(map(str, row)) for row in rows]).encode()).hexdigest()
            result[table] = (len(rows), digest)
    return result


def test_same_seed_same_data_other_seed_other_data(engine, make_store):
    first, second, third = (make_store(timezone="Europe/Warsaw", currency="PLN") for _ in range(3))
    generate_store(engine, first, customers=500, seed=7, anchor=ANCHOR)
    generate_store(engine, second, customers=500, seed=7, anchor=ANCHOR)
    generate_store(engine, third, customers=500, seed=8, anchor=ANCHOR)

    one, two, three = fingerprint(engine, first), fingerprint(engine, second), fingerprint(engine, third)
    assert one == two
    assert one["customer"][0] == 500 and one["orders"][0] > 500
    assert one["orders"] != three["orders"]
    assert one["customer"] != three["customer"]
