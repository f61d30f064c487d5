"""Facets of the customer list (Putler's "facets"): counts for the current filter, per value.

- Country: customers per country, most first (customers without a country under a null value).
- Product: per product, how many of the filtered customers bought it in counted orders, most first.
- Revenue band: customers per `RevenueBand` (store-wide thresholds, see `services.filters`).
- Customer since: customers per local calendar year of `created_at` (first seen), newest first.

Each facet value can be applied as a filter (countries, productIds, revenueBands, customerSince).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlmodel import Session

from crm_graph.models import Customer, Order, OrderLine, Product, Store
from crm_graph.models.enums import COUNTED_ORDER_STATUSES
from crm_graph.services.filters import (
    CustomerFilter, RevenueBand, customer_conditions, filtered_customer_ids, local_day_start, revenue_band_expression,
)

#: The most values a country or product facet lists.
MAX_FACET_VALUES = 100


@dataclass(frozen=True)
class FacetCount:
    """One value of a facet and how many of the filtered customers have it."""

    value: str | None
    label: str
    count: int


def country_facet(session: Session, store: Store, filter: CustomerFilter, limit: int = 20) -> list[FacetCount]:
    """Customers per country, most first."""
    limit = _limit(limit)
    count = func.count()
    query = (
        select(Customer.country, count).where(*customer_conditions(store, filter, session=session))
        .group_by(Customer.country).order_by(count.desc(), Customer.country.asc().nulls_last()).limit(limit)
    )
    return [FacetCount(country, country or "(no country)", n) for country, n in session.exec(query)]


def product_facet(session: Session, store: Store, filter: CustomerFilter, limit: int = 20) -> list[FacetCount]:
    """Products by how many of the filtered customers bought them (counted orders), most first."""
    limit = _limit(limit)
    ids = filtered_customer_ids(store, filter, session=session)
    buyers = func.count(func.distinct(Order.customer_id))
    query = (
        select(Product.id, Product.name, buyers)
        .join(OrderLine, OrderLine.product_id == Product.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Product.store_id == store.id, OrderLine.store_id == store.id, Order.store_id == store.id,
               Order.status.in_(COUNTED_ORDER_STATUSES), Order.customer_id.in_(ids))
        .group_by(Product.id, Product.name).order_by(buyers.desc(), Product.name).limit(limit)
    )
    return [FacetCount(str(product_id), name, n) for product_id, name, n in session.exec(query)]


def revenue_band_facet(session: Session, store: Store, filter: CustomerFilter) -> list[FacetCount]:
    """Customers per revenue band, in band order (all four, zeros included)."""
    band = revenue_band_expression(store).label("band")
    inner = select(band).where(*customer_conditions(store, filter, session=session)).subquery()
    counts = dict(session.exec(select(inner.c.band, func.count()).group_by(inner.c.band)).all())
    labels = {
        RevenueBand.TOP: "Top 80% of revenue", RevenueBand.MIDDLE: "Next 15% of revenue",
        RevenueBand.BOTTOM: "Last 5% of revenue", RevenueBand.NONE: "No revenue",
    }
    return [FacetCount(band.value, labels[band], counts.get(band.value, 0)) for band in RevenueBand]


def customer_since_facet(session: Session, store: Store, filter: CustomerFilter) -> list[FacetCount]:
    """Customers per local year in which they were first seen, newest year first."""
    conditions = customer_conditions(store, filter, session=session)
    first, last = session.exec(select(func.min(Customer.created_at), func.max(Customer.created_at)).where(*conditions)).one()
    if first is None:
        return []
    first_year, last_year = _local_year(store, first), _local_year(store, last)
    years = list(range(max(first_year, last_year - 49), last_year + 1))
    whens = [(Customer.created_at < local_day_start(store, date(year + 1, 1, 1)), str(year)) for year in years]
    cohort = case(*whens, else_=str(last_year)).label("cohort")
    inner = select(cohort).where(*conditions).subquery()
    counts = dict(session.exec(select(inner.c.cohort, func.count()).group_by(inner.c.cohort)).all())
    return [FacetCount(str(year), str(year), counts.get(str(year), 0)) for year in reversed(years) if counts.get(str(year))]


def _local_year(store: Store, instant) -> int:
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    if instant.tzinfo is None:
        from datetime import timezone

        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(store.tz).year


def _limit(limit: int) -> int:
    from crm_graph.errors import UserError

    if not 1 <= limit <= MAX_FACET_VALUES:
        raise UserError(f"`limit` of a facet must be between 1 and {MAX_FACET_VALUES}.")
    return limit
