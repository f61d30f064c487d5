"""The normalised records every connector yields, whatever the platform.

A connector turns platform payloads into these plain dataclasses; the ingestion pipeline
(`crm_graph.services.ingest`) upserts them idempotently on (store, source, external id). Times are
timezone-aware UTC instants, money is `Decimal`, ids are strings (never floats: a Shopify id does not
fit a double). A customer is referred to by its external id in the same source, or, for guests, by
email then phone. A reference may also name a customer by another source's id (a "CRM ID" such as
``woocommerce:123``, `CustomerRef.source`): such a reference finds the customer that source created and
never creates one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Union

from crm_graph.models.enums import ActivityKind, Channel, ConsentState, Gender, OptInLevel, OrderStatus

#: The source of every row the data generator writes (`crm-graph generate`, `crm-graph demo`). No
#: connector or import may write under it, so a sync never matches or overwrites generated rows by
#: (source, external id); see docs/GENERATOR.md.
DEMO_SOURCE = "demo"


@dataclass(slots=True)
class CustomerRef:
    """Who a record is about: an external id in the record's source, else an email or phone (guests).

    `source`, when set and not the record's own source, is the source `external_id` belongs to (a
    CRM ID such as ``woocommerce:123``): the customer is then looked up by that identity only, and a
    reference to an identity the store does not know (or to an erased person) finds nobody.
    """

    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    source: str | None = None

    def __bool__(self) -> bool:
        return bool(self.external_id or self.email or self.phone)


@dataclass(slots=True)
class CustomerRecord:
    """A customer as the platform knows it.

    `tags`, when not None, is the customer's complete set of tags: tags not in it are closed.
    `updated_at` is the platform's last-modified time (used as the time tags change).
    `identity_source`, when set and not `source`, says that `external_id` is that source's id of a
    customer the store has already (a CRM ID): the record updates that customer and never creates one.
    `line` is where the record came from in a file (for the rejects report), when it did.
    """

    source: str
    external_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    gender: Gender = Gender.UNKNOWN
    country: str | None = None
    city: str | None = None
    has_account: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None
    acquisition_channel: str | None = None
    tags: list[str] | None = None
    identity_source: str | None = None
    #: The line of the CSV file the record was read from, so that a reject names it (None elsewhere).
    line: int | None = field(default=None, compare=False, repr=False)

    kind = "customer"


@dataclass(slots=True)
class ConsentRecord:
    """One observation of a customer's consent on a channel at `occurred_at`.

    The pipeline appends it to the history only when it changes the customer's state as of that
    instant, so seeing the same consent on every sync adds nothing.
    """

    source: str
    customer: CustomerRef
    channel: Channel
    state: ConsentState
    occurred_at: datetime
    opt_in_level: OptInLevel = OptInLevel.UNKNOWN
    reason: str | None = None
    #: The line of the CSV file the record was read from, so that a reject names it (None elsewhere).
    line: int | None = field(default=None, compare=False, repr=False)

    kind = "consent"


@dataclass(slots=True)
class ProductRecord:
    """A product (or variant) the store sells."""

    source: str
    external_id: str
    name: str
    sku: str | None = None
    category: str | None = None

    kind = "product"


@dataclass(slots=True)
class OrderLineRecord:
    """One line of an order; `external_id` is the platform's line id, or the line's position."""

    external_id: str
    name: str | None = None
    product_external_id: str | None = None
    sku: str | None = None
    quantity: int = 1
    unit_price: Decimal = Decimal("0.00")
    line_total: Decimal = Decimal("0.00")


@dataclass(slots=True)
class RefundRecord:
    """Money given back on an order at `refunded_at`."""

    external_id: str
    amount: Decimal
    refunded_at: datetime
    reason: str | None = None


@dataclass(slots=True)
class OrderRecord:
    """An order with its lines and refunds, which replace the stored ones when they differ.

    `customer` names the buyer: an account's external id, or only contact details for a guest, who is
    matched to an existing customer by email, then phone (or becomes a new one). `updated_at` is the
    platform's last-modified time. `refunds` None means "not known here" (a webhook body without
    refund dates): the stored refunds stay as they are.
    """

    source: str
    external_id: str
    customer: CustomerRef
    status: OrderStatus
    placed_at: datetime
    currency: str
    total: Decimal
    raw_status: str | None = None
    updated_at: datetime | None = None
    subtotal: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    shipping: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    channel: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    country: str | None = None
    city: str | None = None
    billing: dict | None = None
    lines: list[OrderLineRecord] = field(default_factory=list)
    refunds: list[RefundRecord] | None = field(default_factory=list)
    line: int | None = None

    kind = "order"


@dataclass(slots=True)
class ActivityRecord:
    """Something a customer did (a visit, an email open...); it moves `last_activity_at`."""

    source: str
    external_id: str
    customer: CustomerRef
    activity: ActivityKind
    occurred_at: datetime
    #: The line of the CSV file the record was read from, so that a reject names it (None elsewhere).
    line: int | None = field(default=None, compare=False, repr=False)

    kind = "activity"


@dataclass(slots=True)
class TagRecord:
    """A tag put on (or, with `removed_at`, taken off) a customer."""

    source: str
    customer: CustomerRef
    name: str
    applied_at: datetime
    removed_at: datetime | None = None
    #: The line of the CSV file the record was read from, so that a reject names it (None elsewhere).
    line: int | None = field(default=None, compare=False, repr=False)

    kind = "tag"


@dataclass(slots=True)
class SpendRecord:
    """Marketing spend on a channel on one local day of the store."""

    source: str
    channel: str
    day: date
    amount: Decimal

    kind = "spend"


@dataclass(slots=True)
class DeletionRecord:
    """The platform deleted a customer, order or product (`entity`)."""

    source: str
    entity: str
    external_id: str

    kind = "deletion"


Record = Union[
    CustomerRecord, ConsentRecord, ProductRecord, OrderRecord, ActivityRecord, TagRecord, SpendRecord, DeletionRecord
]

#: The entities a `DeletionRecord` may name.
DELETABLE = ("customer", "order", "product")


@dataclass(slots=True)
class RecordError:
    """A record (or CSV row) that was rejected, and why; nothing is dropped silently."""

    line: int | None
    record: str | None
    reason: str
