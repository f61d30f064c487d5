"""Builders of test data and a small GraphQL client; one place for every test's fixtures."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from crm_graph.models import (
    ActivityEvent, ConsentEvent, Customer, CustomerIdentity, CustomerTag, Order, OrderLine, Product, Refund, Store, Tag,
)
from crm_graph.services.api_keys import create_api_key
from crm_graph.services.customer_stats import refresh_customer_stats
from crm_graph.services.stores import create_store

_counter = itertools.count(1)


def utc(*args: int) -> datetime:
    """`datetime(*args)` in UTC: `utc(2026, 3, 29, 1, 30)`."""
    return datetime(*args, tzinfo=timezone.utc)


class StoreFactory:
    """Creates stores with unique slugs (tests are isolated by store)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, **kwargs: Any) -> Store:
        slug = kwargs.pop("slug", None) or f"t-{uuid.uuid4().hex[:12]}"
        with Session(self.engine, expire_on_commit=False) as session:
            store = create_store(session, slug, **kwargs)
            session.commit()
            return store


@dataclass
class StoreBuilder:
    """Adds rows to one store and commits them: `b = StoreBuilder(session, store); b.customer(...)`."""

    session: Session
    store: Store

    def customer(self, **fields: Any) -> Customer:
        fields.setdefault("created_at", utc(2026, 1, 1))
        customer = Customer(store_id=self.store.id, **fields)
        self.session.add(customer)
        self.session.flush()
        return customer

    def identity(self, customer: Customer, source: str, external_id: str) -> CustomerIdentity:
        row = CustomerIdentity(store_id=self.store.id, customer_id=customer.id, source=source, external_id=external_id)
        self.session.add(row)
        self.session.flush()
        return row

    def consent(self, customer: Customer, channel: str, state: str, at: datetime, **fields: Any) -> ConsentEvent:
        fields.setdefault("source", "test")
        row = ConsentEvent(store_id=self.store.id, customer_id=customer.id, channel=channel, state=state,
                           occurred_at=at, **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def product(self, name: str = "Product", **fields: Any) -> Product:
        fields.setdefault("source", "test")
        fields.setdefault("external_id", f"p{next(_counter)}")
        row = Product(store_id=self.store.id, name=name, **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def order(self, customer: Customer | None, total: str | Decimal, at: datetime, status: str = "COMPLETED",
              *, lines: list[tuple[Product, int, str]] = (), **fields: Any) -> Order:
        fields.setdefault("source", "test")
        fields.setdefault("external_id", f"o{next(_counter)}")
        fields.setdefault("currency", self.store.currency)
        total = Decimal(str(total))
        row = Order(store_id=self.store.id, customer_id=customer.id if customer else None, status=status,
                    placed_at=at, total=total, subtotal=total, **fields)
        self.session.add(row)
        self.session.flush()
        for product, quantity, unit_price in lines:
            price = Decimal(unit_price)
            self.session.add(OrderLine(store_id=self.store.id, order_id=row.id, product_id=product.id,
                                       name=product.name, quantity=quantity, unit_price=price,
                                       line_total=price * quantity))
        self.session.flush()
        return row

    def refund(self, order: Order, amount: str | Decimal, at: datetime) -> Refund:
        row = Refund(store_id=self.store.id, order_id=order.id, external_id=f"r{next(_counter)}",
                     amount=Decimal(str(amount)), refunded_at=at)
        self.session.add(row)
        self.session.flush()
        return row

    def activity(self, customer: Customer, kind: str, at: datetime) -> ActivityEvent:
        row = ActivityEvent(store_id=self.store.id, customer_id=customer.id, kind=kind, occurred_at=at, source="test")
        self.session.add(row)
        self.session.flush()
        return row

    def tag(self, customer: Customer, name: str, at: datetime, removed_at: datetime | None = None) -> CustomerTag:
        from sqlmodel import select

        tag = self.session.exec(select(Tag).where(Tag.store_id == self.store.id, Tag.name == name)).first()
        if tag is None:
            tag = Tag(store_id=self.store.id, name=name)
            self.session.add(tag)
            self.session.flush()
        row = CustomerTag(store_id=self.store.id, customer_id=customer.id, tag_id=tag.id, applied_at=at,
                          removed_at=removed_at)
        self.session.add(row)
        self.session.flush()
        return row

    def commit(self) -> None:
        """Refresh the customers' lifetime figures and commit."""
        refresh_customer_stats(self.session, self.store)
        self.session.commit()


class ApiClient:
    """Posts GraphQL to the test app: `api.data(query, key=api.key(store))` returns `data`."""

    def __init__(self, client, engine: Engine) -> None:
        self.client = client
        self.engine = engine

    def key(self, store: Store, role: str = "admin") -> str:
        """A new API key of `role` for `store`."""
        with Session(self.engine, expire_on_commit=False) as session:
            _, plain = create_api_key(session, store, role)
            session.commit()
        return plain

    def post(self, query: str, variables: dict | None = None, *, key: str | None = None) -> dict:
        """The whole JSON response (data and errors)."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict | None = None, *, key: str | None = None) -> dict:
        """`data` of a response that must have no errors."""
        body = self.post(query, variables, key=key)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def error_codes(self, query: str, variables: dict | None = None, *, key: str | None = None) -> list[str]:
        """The `extensions.code` of each error of a response that must have errors."""
        body = self.post(query, variables, key=key)
        assert body.get("errors"), body
        return [error.get("extensions", {}).get("code") for error in body["errors"]]
