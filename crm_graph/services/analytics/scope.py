"""Which orders the RFM grid and the period KPIs look at: the SQL conditions they share.

Erased customers drop out of every count, but their orders keep their `customer_id` (the store's
revenue history stays true). Joining the whole customer table to every order only to test
`erased_at` would dominate the cost of a query over a year of orders, so orders are filtered
against the (small) set of erased customers instead, which a partial index keeps at hand.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.sql.elements import ColumnElement

from crm_graph.models import Customer, Order, Store
from crm_graph.models.enums import COUNTED_ORDER_STATUSES


def erased_customer_ids(store: Store) -> Select:
    """``SELECT id`` of the store's erased customers."""
    return select(Customer.id).where(Customer.store_id == store.id, Customer.erased_at.is_not(None))


def of_live_customer(store: Store) -> ColumnElement[bool]:
    """The order has a customer and that customer is not erased."""
    return Order.customer_id.is_not(None) & Order.customer_id.not_in(erased_customer_ids(store))


def counted_in(store: Store, start, end) -> list[ColumnElement[bool]]:
    """Counted orders of the store placed in [start, end) (any customer, or none)."""
    return [Order.store_id == store.id, Order.status.in_(COUNTED_ORDER_STATUSES),
            Order.placed_at >= start, Order.placed_at < end]
