"""Products, orders with their lines and refunds, and marketing spend."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_graph.models.base import created_field, id_field, instant_field, ref_field, store_field
from crm_graph.models.types import ZERO, JsonType, Money


class Product(SQLModel, table=True):
    """Something the store sells."""

    __table_args__ = (UniqueConstraint("store_id", "source", "external_id"),)

    id: int | None = id_field()
    store_id: int = store_field()
    source: str = Field(max_length=64, nullable=False)
    external_id: str = Field(max_length=255, nullable=False)
    name: str = Field(max_length=500, nullable=False)
    sku: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class Order(SQLModel, table=True):
    """An order as the platform reports it, with a normalised status.

    `email`, `phone` and `billing` are the contact copies the platform sent; GDPR erasure blanks them.
    `updated_at` is the platform's last-modified time, which incremental syncs follow.
    """

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store_id", "source", "external_id"),
        Index("ix_orders_store_customer_placed", "store_id", "customer_id", "placed_at"),
        # Covers the per-customer aggregates of a range (RFM, period KPIs): an index-only scan
        # instead of reading the wide order rows. It also serves every lookup by (store, placed_at),
        # so there is no narrower index on those two.
        Index("ix_orders_store_placed_cover", "store_id", "placed_at", "customer_id", "status", "total", "id"),
    )

    id: int | None = id_field()
    store_id: int = store_field()
    source: str = Field(max_length=64, nullable=False)
    external_id: str = Field(max_length=255, nullable=False)
    customer_id: int | None = ref_field("customer.id", nullable=True, ondelete="SET NULL")
    status: str = Field(max_length=16, nullable=False)
    raw_status: str | None = Field(default=None, max_length=64)
    placed_at: datetime = instant_field(nullable=False)
    updated_at: datetime | None = instant_field()
    currency: str = Field(max_length=3, nullable=False)
    total: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
    subtotal: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
    discount: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
    shipping: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
    tax: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
    channel: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    billing: dict[str, Any] | None = Field(default=None, sa_type=JsonType)
    created_at: datetime = created_field()


class OrderLine(SQLModel, table=True):
    """One product line of an order."""

    __tablename__ = "order_line"
    __table_args__ = (
        Index("ix_order_line_store_order", "store_id", "order_id"),
        Index("ix_order_line_store_product", "store_id", "product_id"),
    )

    id: int | None = id_field()
    store_id: int = store_field()
    order_id: int = ref_field("orders.id")
    product_id: int | None = ref_field("product.id", nullable=True, ondelete="SET NULL")
    external_id: str | None = Field(default=None, max_length=255)
    name: str | None = Field(default=None, max_length=500)
    sku: str | None = Field(default=None, max_length=200)
    quantity: int = Field(default=1, nullable=False)
    unit_price: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
    line_total: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)


class Refund(SQLModel, table=True):
    """Money given back on an order; net revenue subtracts refunds issued by the end of a period."""

    __table_args__ = (
        UniqueConstraint("store_id", "order_id", "external_id"),
        Index("ix_refund_store_refunded", "store_id", "refunded_at"),
    )

    id: int | None = id_field()
    store_id: int = store_field()
    order_id: int = ref_field("orders.id")
    external_id: str = Field(max_length=255, nullable=False)
    amount: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
    refunded_at: datetime = instant_field(nullable=False)
    reason: str | None = Field(default=None, max_length=500)


class MarketingSpend(SQLModel, table=True):
    """What the store spent on an acquisition channel on one local day."""

    __tablename__ = "marketing_spend"
    __table_args__ = (UniqueConstraint("store_id", "channel", "day"),)

    id: int | None = id_field()
    store_id: int = store_field()
    channel: str = Field(max_length=200, nullable=False)
    day: date = Field(nullable=False)
    amount: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
