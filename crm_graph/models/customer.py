"""Customers, their identities per source, and their consent history."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel

from crm_graph.models.base import created_field, id_field, instant_field, ref_field, store_field
from crm_graph.models.enums import Gender, OptInLevel
from crm_graph.models.types import ZERO, Money


class Customer(SQLModel, table=True):
    """A person the store knows, identified (email, phone or account) or an anonymous visitor.

    `orders_count`, `total_spent`, `first_order_at` and `last_order_at` are lifetime figures over
    counted orders, kept up to date by `services.customer_stats.refresh_customer_stats` after every
    write of orders; they serve sorting and filtering. Metrics "as of a day" are computed from orders.
    An erased customer (`erased_at` set) keeps no personal data and drops out of every count.

    `email_consent_state` and `sms_consent_state` are the state of the latest consent event on each
    channel (null: none). Database triggers on `consent_event` keep them current whoever writes the
    events (migration `customers_0001`), so that consent filters are plain column conditions.
    """

    __table_args__ = (
        Index("ix_customer_store_email", "store_id", "email"),
        Index("ix_customer_store_phone", "store_id", "phone"),
        Index("ix_customer_store_created", "store_id", "created_at"),
        Index("ix_customer_store_activity", "store_id", "last_activity_at"),
        Index("ix_customer_store_last_order", "store_id", "last_order_at"),
        Index("ix_customer_store_spent", "store_id", "total_spent"),
        # Partial (live customers only), so that counts over them are index-only scans.
        Index("ix_customer_store_country_spent", "store_id", "country", "total_spent",
              postgresql_where=text("erased_at IS NULL"), sqlite_where=text("erased_at IS NULL")),
        Index("ix_customer_store_email_consent", "store_id", "email_consent_state",
              postgresql_where=text("erased_at IS NULL"), sqlite_where=text("erased_at IS NULL")),
        Index("ix_customer_store_sms_consent", "store_id", "sms_consent_state",
              postgresql_where=text("erased_at IS NULL"), sqlite_where=text("erased_at IS NULL")),
        # New customers of a period (first counted order in it) and spenders as of a day.
        Index("ix_customer_store_first_order", "store_id", "first_order_at"),
        # The few erased customers, which analytics exclude from orders without joining every customer.
        Index("ix_customer_store_erased", "store_id", "id",
              postgresql_where=text("erased_at IS NOT NULL"), sqlite_where=text("erased_at IS NOT NULL")),
    )

    id: int | None = id_field()
    store_id: int = store_field()
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    gender: str = Field(default=Gender.UNKNOWN.value, max_length=16, nullable=False)
    country: str | None = Field(default=None, max_length=2)
    city: str | None = Field(default=None, max_length=200)
    has_account: bool = Field(default=False, nullable=False)
    acquisition_channel: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
    last_activity_at: datetime | None = instant_field()
    erased_at: datetime | None = instant_field()
    orders_count: int = Field(default=0, nullable=False)
    total_spent: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
    first_order_at: datetime | None = instant_field()
    last_order_at: datetime | None = instant_field()
    email_consent_state: str | None = Field(default=None, max_length=16)
    sms_consent_state: str | None = Field(default=None, max_length=16)

    @property
    def is_identified(self) -> bool:
        """Identified = has an email, a phone or a store account (docs/metrics.md, “Who is counted”)."""
        return bool(self.email or self.phone or self.has_account)


class CustomerIdentity(SQLModel, table=True):
    """A customer's id in one source (``woocommerce:123``): the "CRM ID" users see."""

    __tablename__ = "customer_identity"

    __table_args__ = (
        UniqueConstraint("store_id", "source", "external_id"),
        Index("ix_identity_store_customer", "store_id", "customer_id"),
    )

    id: int | None = id_field()
    store_id: int = store_field()
    customer_id: int = ref_field("customer.id")
    source: str = Field(max_length=64, nullable=False)
    external_id: str = Field(max_length=255, nullable=False)
    created_at: datetime = created_field()


class ConsentEvent(SQLModel, table=True):
    """One change of a customer's marketing consent on a channel; the history is append-only.

    The current state is the event with the latest `occurred_at`. The same (customer, channel,
    instant, state) recorded twice is one event, which keeps re-imports idempotent.
    """

    __tablename__ = "consent_event"
    __table_args__ = (
        UniqueConstraint("store_id", "customer_id", "channel", "occurred_at", "state"),
        Index("ix_consent_store_channel_time", "store_id", "channel", "occurred_at"),
    )

    id: int | None = id_field()
    store_id: int = store_field()
    customer_id: int = ref_field("customer.id")
    channel: str = Field(max_length=8, nullable=False)
    state: str = Field(max_length=16, nullable=False)
    opt_in_level: str = Field(default=OptInLevel.UNKNOWN.value, max_length=20, nullable=False)
    occurred_at: datetime = instant_field(nullable=False)
    source: str = Field(max_length=64, nullable=False)
    reason: str | None = Field(default=None, max_length=500)
    actor: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_field()


def _prefix_index(name: str, *columns) -> Index:
    """A (store, value) index for case-insensitive prefix search with LIKE 'x%'.

    `text_pattern_ops` makes PostgreSQL use it for LIKE whatever the database collation.
    """
    store_column, *values = columns
    labelled = [value.label(f"v{index}") for index, value in enumerate(values)]
    return Index(name, store_column, *labelled, postgresql_ops={f"v{i}": "text_pattern_ops" for i in range(len(values))})


_prefix_index("ix_customer_search_email", Customer.store_id, func.lower(Customer.email))
_prefix_index("ix_customer_search_first_name", Customer.store_id, func.lower(Customer.first_name))
_prefix_index("ix_customer_search_last_name", Customer.store_id, func.lower(Customer.last_name))
_prefix_index("ix_customer_search_phone", Customer.store_id, Customer.phone)
# Sorting the list: by last order, newest first with never-ordered customers last; by name.
Index("ix_customer_store_last_order_desc", Customer.store_id, Customer.last_order_at.desc().nulls_last(),
      postgresql_where=text("erased_at IS NULL"), sqlite_where=text("erased_at IS NULL"))
Index("ix_customer_store_name", Customer.store_id, func.lower(Customer.last_name), func.lower(Customer.first_name),
      postgresql_where=text("erased_at IS NULL"), sqlite_where=text("erased_at IS NULL"))
_prefix_index("ix_identity_search_external_id", CustomerIdentity.store_id, func.lower(CustomerIdentity.external_id))
