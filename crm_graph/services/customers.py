"""Reading customers: one by id, a page in id order, identities by customer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import Session, func, select

from crm_graph.errors import UserError
from crm_graph.models import Customer, CustomerIdentity, Store


def get_customer(session: Session, store: Store, customer_id: int) -> Customer | None:
    """The store's customer `customer_id`, or None (also for ids of other stores and erased ones)."""
    return session.exec(
        select(Customer).where(
            Customer.store_id == store.id, Customer.id == customer_id, Customer.erased_at.is_(None)
        )
    ).first()


def customers_page(
    session: Session, store: Store, *, first: int, after_id: int | None, max_page_size: int
) -> tuple[list[Customer], bool, int]:
    """A page of the store's customers in id order after `after_id`: (rows, has_next, total)."""
    if not 1 <= first <= max_page_size:
        raise UserError(f"`first` must be between 1 and {max_page_size}.")
    base = select(Customer).where(Customer.store_id == store.id, Customer.erased_at.is_(None))
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    page = base.order_by(Customer.id).limit(first + 1)
    if after_id is not None:
        page = page.where(Customer.id > after_id)
    rows = list(session.exec(page))
    return rows[:first], len(rows) > first, total


def identities_by_customer(
    session: Session, store: Store, customer_ids: Sequence[int]
) -> list[list[CustomerIdentity]]:
    """For each id in `customer_ids`, that customer's identities (for a DataLoader)."""
    found: dict[int, list[CustomerIdentity]] = defaultdict(list)
    rows = session.exec(
        select(CustomerIdentity)
        .where(CustomerIdentity.store_id == store.id, CustomerIdentity.customer_id.in_(customer_ids))
        .order_by(CustomerIdentity.id)
    )
    for identity in rows:
        found[identity.customer_id].append(identity)
    return [found[customer_id] for customer_id in customer_ids]
