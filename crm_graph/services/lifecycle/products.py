"""Product popularity and products bought together (docs/metrics.md, “Lifecycle and marketing”).

Both look at the lines of counted orders placed in the range; orders of erased customers drop out,
guest orders (no customer) count as orders but add no buyer. Lines without a product (the platform
sent none we could match) are left out.

- Popularity per product: buyers (distinct customers), orders (distinct orders), units (sum of
  quantities) and revenue (sum of line totals; refunds are per order, not per line, so they are not
  subtracted here).
- Pairs: two products in the same order. Over the N orders of the range that have at least one
  product: support = orders with both / N; confidence A→B = orders with both / orders with A;
  lift = support / (support(A) × support(B)) = both × N / (orders with A × orders with B), above 1
  when the two go together more often than chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.models import Store
from crm_graph.models.types import ZERO
from crm_graph.services.dates import ResolvedRange
from crm_graph.services.analytics.sql import COUNTED_SQL, sql_text, tune_for_analytics

#: Most rows one request may ask for.
MAX_LIMIT = 100

# Orders of erased customers are left out with an anti-join against the (few) erased ids.
_RANGE_ORDERS = f"""
    SELECT o.id AS order_id, o.customer_id AS customer_id FROM orders o
    WHERE o.store_id = :store_id AND o.status IN ({COUNTED_SQL})
      AND o.placed_at >= :start AND o.placed_at < :until
      AND (o.customer_id IS NULL OR o.customer_id NOT IN (
          SELECT id FROM customer WHERE store_id = :store_id AND erased_at IS NOT NULL))
"""


class ProductSort(StrEnum):
    """What product popularity ranks by."""

    BUYERS = "BUYERS"
    ORDERS = "ORDERS"
    UNITS = "UNITS"
    REVENUE = "REVENUE"


@dataclass(frozen=True)
class ProductPopularity:
    """A product's sales in the range."""

    product_id: int
    name: str
    sku: str | None
    category: str | None
    buyers: int
    orders: int
    units: int
    revenue: Decimal


@dataclass(frozen=True)
class ProductPair:
    """Two products bought in the same orders, with association measures."""

    product_a_id: int
    product_a_name: str
    product_b_id: int
    product_b_name: str
    orders: int
    orders_with_a: int
    orders_with_b: int
    total_orders: int
    support: float
    confidence_a_to_b: float
    confidence_b_to_a: float
    lift: float


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise UserError(f"`limit` must be between 1 and {MAX_LIMIT}; got {limit}.")
    return limit


def _params(store: Store, resolved: ResolvedRange) -> dict:
    return {"store_id": store.id, "start": resolved.start, "until": resolved.end}


def product_popularity(session: Session, store: Store, resolved: ResolvedRange,
                       sort: ProductSort = ProductSort.REVENUE, limit: int = 20) -> list[ProductPopularity]:
    """The `limit` most popular products of the range by `sort` (ties by product id)."""
    _check_limit(limit)
    tune_for_analytics(session)
    order_by = {ProductSort.BUYERS: "buyers", ProductSort.ORDERS: "orders", ProductSort.UNITS: "units",
                ProductSort.REVENUE: "revenue"}[ProductSort(sort)]
    sql = f"""
        WITH range_orders AS ({_RANGE_ORDERS}),
        stats AS (
            SELECT l.product_id AS product_id, COUNT(DISTINCT ro.customer_id) AS buyers,
                   COUNT(DISTINCT l.order_id) AS orders, SUM(l.quantity) AS units, SUM(l.line_total) AS revenue
            FROM order_line l JOIN range_orders ro ON ro.order_id = l.order_id
            WHERE l.store_id = :store_id AND l.product_id IS NOT NULL
            GROUP BY l.product_id
        )
        SELECT s.product_id, p.name, p.sku, p.category, s.buyers, s.orders, s.units, s.revenue
        FROM stats s JOIN product p ON p.id = s.product_id
        ORDER BY s.{order_by} DESC, s.product_id
        LIMIT :limit
    """
    rows = session.execute(sql_text(sql, "start", "until"), {**_params(store, resolved), "limit": limit})
    return [
        ProductPopularity(int(pid), name, sku, category, int(buyers), int(orders), int(units or 0),
                          Decimal(str(revenue if revenue is not None else ZERO)).quantize(Decimal("0.01")))
        for pid, name, sku, category, buyers, orders, units, revenue in rows
    ]


def _pairs(session: Session) -> str:
    """The pairs of products bought together in the range's orders (`baskets`), with their orders.

    PostgreSQL hash-joins the baskets with themselves. SQLite joins a CTE with itself by nested
    loops, every basket row against every other (a year of a 10,000-customer store's baskets took
    minutes), so there the second product is looked up in the order's lines by their index, and an
    order listing a product on two lines counts once (`COUNT(DISTINCT ...)`, which PostgreSQL would
    pay for with a sort per pair: several times slower at 1,000,000 customers).
    """
    if session.get_bind().dialect.name == "postgresql":
        return """
            SELECT a.product_id AS product_a, b.product_id AS product_b, COUNT(*) AS together
            FROM baskets a JOIN baskets b ON b.order_id = a.order_id AND b.product_id > a.product_id
            GROUP BY a.product_id, b.product_id
            HAVING COUNT(*) >= :min_orders"""
    return """
            SELECT a.product_id AS product_a, b.product_id AS product_b, COUNT(DISTINCT a.order_id) AS together
            FROM baskets a
            JOIN order_line b ON b.store_id = :store_id AND b.order_id = a.order_id AND b.product_id > a.product_id
            GROUP BY a.product_id, b.product_id
            HAVING COUNT(DISTINCT a.order_id) >= :min_orders"""


def product_pairs(session: Session, store: Store, resolved: ResolvedRange, *, min_orders: int = 1,
                  limit: int = 20) -> list[ProductPair]:
    """The `limit` pairs bought together in the most orders of the range (then by lift).

    Only pairs found together in at least `min_orders` orders are listed.
    """
    _check_limit(limit)
    if min_orders < 1:
        raise UserError(f"`minOrders` must be at least 1; got {min_orders}.")
    tune_for_analytics(session)
    sql = f"""
        WITH range_orders AS ({_RANGE_ORDERS}),
        baskets AS (
            SELECT DISTINCT l.order_id AS order_id, l.product_id AS product_id
            FROM order_line l JOIN range_orders ro ON ro.order_id = l.order_id
            WHERE l.store_id = :store_id AND l.product_id IS NOT NULL
        ),
        singles AS (SELECT product_id, COUNT(*) AS orders FROM baskets GROUP BY product_id),
        pairs AS ({_pairs(session)}),
        top AS (
            SELECT p.product_a, p.product_b, p.together, sa.orders AS with_a, sb.orders AS with_b
            FROM pairs p
            JOIN singles sa ON sa.product_id = p.product_a
            JOIN singles sb ON sb.product_id = p.product_b
            ORDER BY p.together DESC, (p.together * 1.0 / (sa.orders * sb.orders)) DESC, p.product_a, p.product_b
            LIMIT :limit
        )
        SELECT t.product_a, pa.name, t.product_b, pb.name, t.together, t.with_a, t.with_b,
               (SELECT COUNT(DISTINCT order_id) FROM baskets)
        FROM top t
        JOIN product pa ON pa.id = t.product_a
        JOIN product pb ON pb.id = t.product_b
        ORDER BY t.together DESC, (t.together * 1.0 / (t.with_a * t.with_b)) DESC, t.product_a, t.product_b
    """
    params = {**_params(store, resolved), "limit": limit, "min_orders": min_orders}
    result = []
    rows = session.execute(sql_text(sql, "start", "until"), params)
    for a, a_name, b, b_name, together, with_a, with_b, total in rows:
        together, with_a, with_b, total = int(together), int(with_a), int(with_b), int(total)
        result.append(ProductPair(
            product_a_id=int(a), product_a_name=a_name, product_b_id=int(b), product_b_name=b_name, orders=together, orders_with_a=with_a,
            orders_with_b=with_b, total_orders=total, support=together / total,
            confidence_a_to_b=together / with_a, confidence_b_to_a=together / with_b,
            lift=together * total / (with_a * with_b),
        ))
    return result
