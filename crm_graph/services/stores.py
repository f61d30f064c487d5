"""Creating and finding stores."""

from __future__ import annotations

import re

from sqlmodel import Session, func, select

from crm_graph.errors import NotFound, UserError
from crm_graph.models import Customer, Store, StoreSettings
from crm_graph.models.store import validate_timezone

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def create_store(
    session: Session,
    slug: str,
    *,
    name: str | None = None,
    timezone: str = "UTC",
    currency: str = "USD",
    settings: dict | None = None,
) -> Store:
    """Create a store; `slug` is how the CLI and the operator name it."""
    if not _SLUG.match(slug):
        raise UserError(f"Store slug {slug!r} must be lower-case letters, digits and dashes (at most 64).")
    try:
        validate_timezone(timezone)
        StoreSettings.model_validate(settings or {})
    except ValueError as exc:
        raise UserError(str(exc).splitlines()[-1] if "validation error" in str(exc) else str(exc)) from None
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise UserError(f"Currency {currency!r} must be a three-letter ISO 4217 code such as EUR.")
    if session.exec(select(Store).where(Store.slug == slug)).first():
        raise UserError(f"A store with slug {slug!r} already exists.")
    store = Store(slug=slug, name=name or slug, timezone=timezone, currency=currency, settings=settings or {})
    session.add(store)
    session.flush()
    return store


def valid_slug(slug: str) -> bool:
    """Whether `slug` can name a store (lower-case letters, digits and dashes, at most 64)."""
    return bool(_SLUG.fullmatch(slug))


def get_store(session: Session, slug: str) -> Store:
    """The store named `slug`, or `NotFound` saying how to list the stores there are."""
    store = session.exec(select(Store).where(Store.slug == slug)).first()
    if store is None:
        raise NotFound(f"No store {slug!r}; `crm-graph stores list` shows the stores there are.")
    return store


def list_stores(session: Session) -> list[Store]:
    """Every store, oldest first."""
    return list(session.exec(select(Store).order_by(Store.id)))


def customer_count(session: Session, store: Store) -> int:
    """How many customers the store has (erased customers excluded)."""
    query = select(func.count()).select_from(Customer).where(
        Customer.store_id == store.id, Customer.erased_at.is_(None)
    )
    return session.exec(query).one()
