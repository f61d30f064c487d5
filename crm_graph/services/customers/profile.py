"""Customer 360 (docs/customers.md, “Customer 360”), read in batches: each function answers for many customers in one query.

They back the per-request DataLoaders of the GraphQL layer: a page of 50 customers with their
orders, consents and tags costs one query per kind of thing, not one per customer. Each takes the
keys in the order the loader gives them and returns one result per key, in the same order.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.models import (
    ActivityEvent, ConsentEvent, Customer, CustomerIdentity, CustomerTag, Order, OrderLine, Product, Refund, Store, Tag,
)
from crm_graph.models.enums import COUNTED_ORDER_STATUSES
from crm_graph.models.types import ZERO


def get_customer(session: Session, store: Store, customer_id: int) -> Customer | None:
    """The store's customer `customer_id`, or None (also for ids of other stores and erased ones)."""
    return session.exec(
        select(Customer).where(Customer.store_id == store.id, Customer.id == customer_id, Customer.erased_at.is_(None))
    ).scalars().first()


def customers_by_id(session: Session, store: Store, customer_ids: Sequence[int]) -> list[Customer | None]:
    """For each id, the store's (not erased) customer or None."""
    rows = session.exec(
        select(Customer).where(Customer.store_id == store.id, Customer.id.in_(customer_ids), Customer.erased_at.is_(None))
    ).scalars()
    found = {row.id: row for row in rows}
    return [found.get(customer_id) for customer_id in customer_ids]


def identities_by_customer(session: Session, store: Store, customer_ids: Sequence[int]) -> list[list[CustomerIdentity]]:
    """For each id in `customer_ids`, that customer's identities (CRM IDs), oldest first."""
    query = (
        select(CustomerIdentity)
        .where(CustomerIdentity.store_id == store.id, CustomerIdentity.customer_id.in_(customer_ids))
        .order_by(CustomerIdentity.id)
    )
    return _grouped(session.exec(query).scalars(), customer_ids, lambda row: row.customer_id)


def consents_by_customer(session: Session, store: Store, customer_ids: Sequence[int]) -> list[list[ConsentEvent]]:
    """For each customer, its consent history on every channel, newest first (the first per channel is current)."""
    query = (
        select(ConsentEvent)
        .where(ConsentEvent.store_id == store.id, ConsentEvent.customer_id.in_(customer_ids))
        .order_by(ConsentEvent.customer_id, ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc())
    )
    return _grouped(session.exec(query).scalars(), customer_ids, lambda row: row.customer_id)


@dataclass(frozen=True)
class AppliedTag:
    """A tag currently on a customer."""

    tag_id: int
    name: str
    applied_at: datetime
    source: str


def tags_by_customer(session: Session, store: Store, customer_ids: Sequence[int]) -> list[list[AppliedTag]]:
    """For each customer, the tags on it now, by name."""
    query = (
        select(CustomerTag.customer_id, Tag.id, Tag.name, CustomerTag.applied_at, CustomerTag.source)
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .where(CustomerTag.store_id == store.id, CustomerTag.customer_id.in_(customer_ids),
               CustomerTag.removed_at.is_(None))
        .order_by(Tag.name)
    )
    found: dict[int, list[AppliedTag]] = defaultdict(list)
    for customer_id, tag_id, name, applied_at, source in session.exec(query):
        if all(tag.tag_id != tag_id for tag in found[customer_id]):
            found[customer_id].append(AppliedTag(tag_id, name, applied_at, source))
    return [found[customer_id] for customer_id in customer_ids]


@dataclass(frozen=True)
class OrdersPage:
    """A page of one customer's orders, newest first, and whether more follow in the direction read."""

    orders: list[Order]
    has_more: bool


#: (customer id, page size, backward, cursor values or None): one page of one customer's orders.
OrdersPageKey = tuple[int, int, bool, tuple[datetime, int] | None]


def orders_pages_by_customer(session: Session, store: Store, keys: Sequence[OrdersPageKey]) -> list[OrdersPage]:
    """For each key, a page of the customer's orders (any status), newest first, keyset-paged.

    Forward, the `size` orders after the cursor (placed_at, id); backward, the `size` before it. Keys
    that share a size, direction and cursor are read in one query (a window per customer), so a list
    page of customers showing their latest orders costs one query.
    """
    groups: dict[tuple[int, bool, tuple | None], list[int]] = defaultdict(list)
    for customer_id, size, backward, cursor in keys:
        groups[(size, backward, cursor)].append(customer_id)
    found: dict[tuple, OrdersPage] = {}
    for (size, backward, cursor), customer_ids in groups.items():
        order_by = (Order.placed_at.asc(), Order.id.asc()) if backward else (Order.placed_at.desc(), Order.id.desc())
        conditions = [Order.store_id == store.id, Order.customer_id.in_(sorted(set(customer_ids)))]
        if cursor is not None:
            placed_at, order_id = cursor
            if backward:
                conditions.append(or_(Order.placed_at > placed_at, and_(Order.placed_at == placed_at, Order.id > order_id)))
            else:
                conditions.append(or_(Order.placed_at < placed_at, and_(Order.placed_at == placed_at, Order.id < order_id)))
        number = func.row_number().over(partition_by=Order.customer_id, order_by=order_by)
        ranked = select(Order.id.label("order_id"), number.label("n")).where(*conditions).subquery()
        query = (
            select(Order).join(ranked, ranked.c.order_id == Order.id).where(ranked.c.n <= size + 1)
            .order_by(Order.customer_id, *order_by)
        )
        rows: dict[int, list[Order]] = defaultdict(list)
        for row in session.exec(query).scalars():
            rows[row.customer_id].append(row)
        for customer_id in customer_ids:
            orders = rows[customer_id]
            page = orders[:size]
            if backward:
                page.reverse()
            found[(customer_id, size, backward, cursor)] = OrdersPage(page, len(orders) > size)
    return [found[tuple(key)] for key in keys]


def order_counts_by_customer(session: Session, store: Store, customer_ids: Sequence[int]) -> list[int]:
    """For each customer, how many orders it has (any status)."""
    query = (
        select(Order.customer_id, func.count(Order.id))
        .where(Order.store_id == store.id, Order.customer_id.in_(customer_ids))
        .group_by(Order.customer_id)
    )
    counts = dict(session.exec(query).all())
    return [counts.get(customer_id, 0) for customer_id in customer_ids]


def orders_by_id(session: Session, store: Store, order_ids: Sequence[int]) -> list[Order | None]:
    """For each id, the store's order or None (also for ids of other stores)."""
    rows = session.exec(select(Order).where(Order.store_id == store.id, Order.id.in_(order_ids))).scalars()
    found = {row.id: row for row in rows}
    return [found.get(order_id) for order_id in order_ids]


def encode_order_cursor(order: Order) -> str:
    """An opaque cursor for `order` in a customer's orders (newest first)."""
    raw = json.dumps([_aware(order.placed_at).isoformat(), order.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_order_cursor(cursor: str, argument: str = "after") -> tuple[datetime, int]:
    """(placed_at, id) of an order cursor, or a `UserError` naming `argument`."""
    bad = UserError(f"`{argument}` is not a cursor this list of orders returned.")
    if len(cursor) > 200:
        raise bad
    try:
        placed_at, order_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        parsed = datetime.fromisoformat(placed_at)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise bad from None
    if parsed.tzinfo is None or not isinstance(order_id, int) or isinstance(order_id, bool):
        raise bad
    return parsed, order_id


def lines_by_order(session: Session, store: Store, order_ids: Sequence[int]) -> list[list[OrderLine]]:
    """For each order, its lines."""
    query = select(OrderLine).where(OrderLine.store_id == store.id, OrderLine.order_id.in_(order_ids)).order_by(OrderLine.id)
    return _grouped(session.exec(query).scalars(), order_ids, lambda row: row.order_id)


def refunds_by_order(session: Session, store: Store, order_ids: Sequence[int]) -> list[list[Refund]]:
    """For each order, its refunds, oldest first."""
    query = (
        select(Refund).where(Refund.store_id == store.id, Refund.order_id.in_(order_ids))
        .order_by(Refund.refunded_at, Refund.id)
    )
    return _grouped(session.exec(query).scalars(), order_ids, lambda row: row.order_id)


@dataclass(frozen=True)
class BoughtProduct:
    """A product a customer bought in counted orders."""

    product_id: int
    name: str
    sku: str | None
    orders: int
    quantity: int
    revenue: Decimal
    last_bought_at: datetime


def products_by_customer(session: Session, store: Store, customer_ids: Sequence[int]) -> list[list[BoughtProduct]]:
    """For each customer, the products of its counted orders, most-bought first."""
    query = (
        select(
            Order.customer_id, Product.id, Product.name, Product.sku,
            func.count(func.distinct(Order.id)), func.sum(OrderLine.quantity), func.sum(OrderLine.line_total),
            func.max(Order.placed_at),
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(Order.store_id == store.id, Order.customer_id.in_(customer_ids),
               Order.status.in_(COUNTED_ORDER_STATUSES), OrderLine.store_id == store.id)
        .group_by(Order.customer_id, Product.id, Product.name, Product.sku)
        .order_by(Order.customer_id, func.sum(OrderLine.quantity).desc(), Product.name)
    )
    found: dict[int, list[BoughtProduct]] = defaultdict(list)
    for customer_id, product_id, name, sku, orders, quantity, revenue, last in session.exec(query):
        found[customer_id].append(
            BoughtProduct(product_id, name, sku, orders, int(quantity or 0), _money(revenue), _aware(last))
        )
    return [found[customer_id] for customer_id in customer_ids]


@dataclass(frozen=True)
class RevenueStats:
    """A customer's lifetime figures over counted orders (docs/customers.md, “Customer 360”)."""

    total_sales: Decimal
    refunds: Decimal
    net_revenue: Decimal
    orders: int
    average_order_value: Decimal | None
    first_order_at: datetime | None
    last_order_at: datetime | None


def revenue_stats_by_customer(session: Session, store: Store, customer_ids: Sequence[int]) -> list[RevenueStats]:
    """For each customer: total sales, refunds, net revenue, counted orders, AOV, first and last order.

    AOV is net revenue divided by counted orders, rounded to cents; null without orders.
    """
    their_orders = select(Order.id).where(Order.store_id == store.id, Order.customer_id.in_(customer_ids))
    refunded = (
        select(Refund.order_id, func.sum(Refund.amount).label("amount"))
        .where(Refund.store_id == store.id, Refund.order_id.in_(their_orders))
        .group_by(Refund.order_id)
        .subquery()
    )
    query = (
        select(
            Order.customer_id, func.count(Order.id), func.sum(Order.total),
            func.sum(func.coalesce(refunded.c.amount, 0)), func.min(Order.placed_at), func.max(Order.placed_at),
        )
        .outerjoin(refunded, refunded.c.order_id == Order.id)
        .where(Order.store_id == store.id, Order.customer_id.in_(customer_ids), Order.status.in_(COUNTED_ORDER_STATUSES))
        .group_by(Order.customer_id)
    )
    found = {row[0]: row[1:] for row in session.exec(query)}
    results = []
    for customer_id in customer_ids:
        orders, sales, refunds, first, last = found.get(customer_id, (0, ZERO, ZERO, None, None))
        sales, refunds = _money(sales), _money(refunds)
        net = sales - refunds
        aov = (net / orders).quantize(Decimal("0.01")) if orders else None
        results.append(RevenueStats(sales, refunds, net, orders, aov, _aware(first), _aware(last)))
    return results


def events_by_customer(session: Session, store: Store, keys: Sequence[tuple[int, int]]) -> list[list[ActivityEvent]]:
    """For each (customer id, limit), its latest `limit` activity events, newest first."""
    limit = max((key[1] for key in keys), default=0)
    customer_ids = sorted({key[0] for key in keys})
    number = func.row_number().over(
        partition_by=ActivityEvent.customer_id, order_by=(ActivityEvent.occurred_at.desc(), ActivityEvent.id.desc())
    )
    ranked = (
        select(ActivityEvent.id.label("event_id"), number.label("n"))
        .where(ActivityEvent.store_id == store.id, ActivityEvent.customer_id.in_(customer_ids))
        .subquery()
    )
    query = (
        select(ActivityEvent).join(ranked, ranked.c.event_id == ActivityEvent.id).where(ranked.c.n <= limit)
        .order_by(ActivityEvent.customer_id, ActivityEvent.occurred_at.desc(), ActivityEvent.id.desc())
    )
    grouped = dict(zip(customer_ids, _grouped(session.exec(query).scalars(), customer_ids, lambda row: row.customer_id)))
    return [grouped[customer_id][:key_limit] for customer_id, key_limit in keys]


def _grouped(rows, keys: Sequence[int], key_of) -> list[list]:
    found: dict[int, list] = defaultdict(list)
    for row in rows:
        found[key_of(row)].append(row)
    return [found[key] for key in keys]


def _money(value) -> Decimal:
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _aware(value: datetime | None) -> datetime | None:
    """Aggregates bypass the column type on SQLite, which then returns naive (UTC) datetimes or text."""
    from datetime import timezone

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


__all__ = [
    "AppliedTag", "BoughtProduct", "CustomerRfm", "CustomerSpenderSegment", "rfm_by_customer", "RevenueStats", "spender_segment_by_customer", "consents_by_customer", "customers_by_id",
    "decode_order_cursor", "encode_order_cursor", "events_by_customer", "get_customer", "identities_by_customer",
    "lines_by_order", "order_counts_by_customer", "orders_by_id", "orders_pages_by_customer",
    "products_by_customer", "refunds_by_order", "revenue_stats_by_customer", "tags_by_customer",
]


@dataclass(frozen=True)
class CustomerSpenderSegment:
    """A spender's value and frequency segment today (docs/metrics.md, widget G), with the thresholds used."""

    value: str
    frequency: str
    value_low: Decimal | None
    value_high: Decimal | None
    frequent_threshold: int


def spender_segment_by_customer(
    session: Session, store: Store, customer_ids: Sequence[int]
) -> list[CustomerSpenderSegment | None]:
    """For each customer, its spender segments as of the store's today; None for prospects.

    The thresholds are today's `spender_segments` metric (stored when the workers computed them and
    they are fresh, else computed live once for the whole batch); each customer is placed by its
    lifetime net revenue and counted orders.
    """
    from crm_graph.services.analytics import runner
    from crm_graph.services.dates import store_today

    segments = runner.answer(session, store, "spender_segments", day=store_today(store)).value
    low, high = segments.value_low, segments.value_high
    frequent = segments.frequent_threshold if segments.spenders else 0
    rows = session.exec(
        select(Customer.id, Customer.total_spent, Customer.orders_count)
        .where(Customer.store_id == store.id, Customer.id.in_(customer_ids))
    )
    figures = {customer_id: (spent, orders) for customer_id, spent, orders in rows}
    results: list[CustomerSpenderSegment | None] = []
    for customer_id in customer_ids:
        spent, orders = figures.get(customer_id, (ZERO, 0))
        if not orders or low is None:
            results.append(None)
            continue
        value = "BIG" if spent >= high else "MEDIUM" if spent >= low else "SMALL"
        frequency = "FREQUENT" if orders >= frequent else "REPEAT" if orders >= 2 else "ONE_TIME"
        results.append(CustomerSpenderSegment(value, frequency, low, high, frequent))
    return results


@dataclass(frozen=True)
class CustomerRfm:
    """A customer's place in the RFM grid of a range (docs/metrics.md, “RFM grid”)."""

    recency_days: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int
    fm: int
    segment: str


def rfm_by_customer(
    session: Session, store: Store, keys: Sequence[tuple[int, date, date, str]]
) -> list[CustomerRfm | None]:
    """For each (customer id, first day, last day, scheme), its RFM cell over that range; None off the grid.

    One query per distinct range and scheme (the grid is scored over all its customers, then the
    batch's customers are picked from it), the same query the grid and the RFM filter use.
    """
    from crm_graph.services.analytics.rfm import rfm_scores
    from crm_graph.services.dates import DateRange, resolve_range

    found: dict[tuple[int, date, date, str], CustomerRfm] = {}
    groups: dict[tuple[date, date, str], list[int]] = defaultdict(list)
    for customer_id, first_day, last_day, scheme in keys:
        groups[(first_day, last_day, scheme)].append(customer_id)
    for (first_day, last_day, scheme), ids in groups.items():
        scores = rfm_scores(store, resolve_range(store, DateRange(first_day, last_day)), scheme).subquery("rfm_scores")
        rows = session.exec(select(scores).where(scores.c.customer_id.in_(ids)))
        for row in rows.mappings():
            found[(row["customer_id"], first_day, last_day, scheme)] = CustomerRfm(
                int(row["recency_days"]), int(row["frequency"]), _money(row["monetary"]), int(row["r_score"]),
                int(row["f_score"]), int(row["m_score"]), int(row["fm_score"]), row["segment"],
            )
    return [found.get(tuple(key)) for key in keys]
