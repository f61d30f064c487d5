"""GraphQL types of Customer 360's parts: consents, tags, orders, products, revenue, events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from crm_graph.graphql.cost import field_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.dataloaders import lines_by_order_loader, refunds_by_order_loader
from crm_graph.graphql.enums import ActivityKind, Channel, ConsentBucket, ConsentState, OptInLevel, OrderStatus
from crm_graph.models import ActivityEvent, ConsentEvent, Order, OrderLine, Refund
from crm_graph.graphql.customers.filters import FrequencySegment, ValueSegment
from crm_graph.graphql.rfm.types import RfmSegment
from crm_graph.services.customers.profile import (
    AppliedTag, BoughtProduct, CustomerRfm, CustomerSpenderSegment, RevenueStats,
)
from crm_graph.services.filters import consent_bucket_of


@strawberry.type(name="ConsentEvent", description="One recorded change of a customer's consent on a channel.")
class ConsentEventType:
    channel: Channel = strawberry.field(description="EMAIL or SMS.")
    state: ConsentState = strawberry.field(description="The state recorded.")
    bucket: ConsentBucket = strawberry.field(description="The dashboard bucket of that state.")
    opt_in_level: OptInLevel = strawberry.field(description="How the consent was confirmed.")
    occurred_at: datetime = strawberry.field(description="When the change happened.")
    source: str = strawberry.field(description="Where it came from: a connector, import or api.")
    reason: str | None = strawberry.field(description="Why, when given (erased with the customer).")
    actor: str | None = strawberry.field(description="Who made the change through the API, e.g. api-key:12.")

    @classmethod
    def from_model(cls, event: ConsentEvent) -> ConsentEventType:
        """The GraphQL view of a consent event."""
        return cls(
            channel=Channel(event.channel), state=ConsentState(event.state), bucket=consent_bucket_of(event.state),
            opt_in_level=OptInLevel(event.opt_in_level), occurred_at=event.occurred_at, source=event.source,
            reason=event.reason, actor=event.actor,
        )


@strawberry.type(name="CurrentConsent", description="A customer's consent on one channel now (its latest event).")
class CurrentConsentType:
    channel: Channel = strawberry.field(description="EMAIL or SMS.")
    bucket: ConsentBucket = strawberry.field(description="SUBSCRIBED, UNSUBSCRIBED or UNKNOWN.")
    state: ConsentState | None = strawberry.field(description="The latest state; null when nothing was ever recorded.")
    opt_in_level: OptInLevel | None = strawberry.field(description="How the latest state was confirmed.")
    since: datetime | None = strawberry.field(description="When the latest state was recorded.")


@strawberry.type(name="CustomerTag", description="A tag on a customer.")
class CustomerTagType:
    name: str = strawberry.field(description="The tag.")
    applied_at: datetime = strawberry.field(description="When it was put on.")
    source: str = strawberry.field(description="Who put it on: a connector, import or api.")

    @classmethod
    def from_model(cls, tag: AppliedTag) -> CustomerTagType:
        """The GraphQL view of a tag on a customer."""
        return cls(name=tag.name, applied_at=tag.applied_at, source=tag.source)


@strawberry.type(name="OrderLine", description="One product line of an order.")
class OrderLineType:
    product_id: strawberry.ID | None = strawberry.field(description="Internal id of the product, when known.")
    name: str | None = strawberry.field(description="Product name as ordered.")
    sku: str | None = strawberry.field(description="SKU as ordered.")
    quantity: int = strawberry.field(description="Units.")
    unit_price: Decimal = strawberry.field(description="Price of one unit.")
    line_total: Decimal = strawberry.field(description="Total of the line.")

    @classmethod
    def from_model(cls, line: OrderLine) -> OrderLineType:
        """The GraphQL view of an order line."""
        return cls(
            product_id=strawberry.ID(str(line.product_id)) if line.product_id else None, name=line.name, sku=line.sku,
            quantity=line.quantity, unit_price=line.unit_price, line_total=line.line_total,
        )


@strawberry.type(name="Refund", description="Money given back on an order.")
class RefundType:
    amount: Decimal = strawberry.field(description="Amount refunded.")
    refunded_at: datetime = strawberry.field(description="When it was refunded.")
    reason: str | None = strawberry.field(description="Reason given by the platform.")

    @classmethod
    def from_model(cls, refund: Refund) -> RefundType:
        """The GraphQL view of a refund."""
        return cls(amount=refund.amount, refunded_at=refund.refunded_at, reason=refund.reason)


@strawberry.type(name="Order", description="An order of a customer, any status.")
class OrderType:
    id: strawberry.ID = strawberry.field(description="Internal id.")
    source: str = strawberry.field(description="Platform it came from.")
    external_id: str = strawberry.field(description="Id in that platform.")
    status: OrderStatus = strawberry.field(description="Normalised status; PAID, COMPLETED and REFUNDED are counted.")
    raw_status: str | None = strawberry.field(description="The platform's own status.")
    placed_at: datetime = strawberry.field(description="When it was placed.")
    currency: str = strawberry.field(description="ISO 4217 currency.")
    total: Decimal = strawberry.field(description="Order total.")
    subtotal: Decimal = strawberry.field(description="Before discount, shipping and tax.")
    discount: Decimal = strawberry.field(description="Discount.")
    shipping: Decimal = strawberry.field(description="Shipping.")
    tax: Decimal = strawberry.field(description="Tax.")
    channel: str | None = strawberry.field(description="Acquisition channel of the order.")

    @strawberry.field(description="The product lines. Cost: 1 (per order).", metadata=field_cost(1))
    async def lines(self, info: Info) -> list[OrderLineType]:
        rows = await lines_by_order_loader(info.context).load(int(self.id))
        return [OrderLineType.from_model(row) for row in rows]

    @strawberry.field(description="Refunds issued on the order, oldest first. Cost: 1 (per order).",
                      metadata=field_cost(1))
    async def refunds(self, info: Info) -> list[RefundType]:
        rows = await refunds_by_order_loader(info.context).load(int(self.id))
        return [RefundType.from_model(row) for row in rows]

    @classmethod
    def from_model(cls, order: Order) -> OrderType:
        """The GraphQL view of an order."""
        return cls(
            id=strawberry.ID(str(order.id)), source=order.source, external_id=order.external_id,
            status=OrderStatus(order.status), raw_status=order.raw_status, placed_at=order.placed_at,
            currency=order.currency, total=order.total, subtotal=order.subtotal, discount=order.discount,
            shipping=order.shipping, tax=order.tax, channel=order.channel,
        )


@strawberry.type(name="BoughtProduct", description="A product a customer bought in counted orders.")
class BoughtProductType:
    product_id: strawberry.ID = strawberry.field(description="Internal id of the product.")
    name: str = strawberry.field(description="Product name.")
    sku: str | None = strawberry.field(description="SKU.")
    orders: int = strawberry.field(description="Counted orders that contained it.")
    quantity: int = strawberry.field(description="Units bought.")
    revenue: Decimal = strawberry.field(description="Sum of its line totals.")
    last_bought_at: datetime = strawberry.field(description="When it was last bought.")

    @classmethod
    def from_model(cls, item: BoughtProduct) -> BoughtProductType:
        """The GraphQL view of a bought product."""
        return cls(
            product_id=strawberry.ID(str(item.product_id)), name=item.name, sku=item.sku, orders=item.orders,
            quantity=item.quantity, revenue=item.revenue, last_bought_at=item.last_bought_at,
        )


@strawberry.type(name="CustomerRevenue", description="A customer's lifetime figures over counted orders.")
class CustomerRevenueType:
    total_sales: Decimal = strawberry.field(description="Sum of counted order totals.")
    refunds: Decimal = strawberry.field(description="Refunds issued on those orders.")
    net_revenue: Decimal = strawberry.field(description="Total sales minus refunds.")
    orders: int = strawberry.field(description="Counted orders.")
    average_order_value: Decimal | None = strawberry.field(description="Net revenue per counted order; null without orders.")
    first_order_at: datetime | None = strawberry.field(description="First counted order.")
    last_order_at: datetime | None = strawberry.field(description="Latest counted order.")

    @classmethod
    def from_model(cls, stats: RevenueStats) -> CustomerRevenueType:
        """The GraphQL view of revenue stats."""
        return cls(
            total_sales=stats.total_sales, refunds=stats.refunds, net_revenue=stats.net_revenue, orders=stats.orders,
            average_order_value=stats.average_order_value, first_order_at=stats.first_order_at,
            last_order_at=stats.last_order_at,
        )


@strawberry.type(name="ActivityEvent", description="Something a customer did.")
class ActivityEventType:
    kind: ActivityKind = strawberry.field(description="Visit, page view, email open or click, order.")
    occurred_at: datetime = strawberry.field(description="When.")
    source: str = strawberry.field(description="Where it was recorded.")

    @classmethod
    def from_model(cls, event: ActivityEvent) -> ActivityEventType:
        """The GraphQL view of an activity event."""
        return cls(kind=ActivityKind(event.kind), occurred_at=event.occurred_at, source=event.source)


@strawberry.type(name="CustomerSpenderSegment", description="A spender's value and frequency segment today, as `spenderSegments` counts them.")
class CustomerSpenderSegmentType:
    value: ValueSegment = strawberry.field(description="SMALL, MEDIUM or BIG by lifetime net revenue.")
    frequency: FrequencySegment = strawberry.field(description="ONE_TIME, REPEAT or FREQUENT by counted orders.")
    value_low: Decimal | None = strawberry.field(description="Net revenue from which a spender is MEDIUM.")
    value_high: Decimal | None = strawberry.field(description="Net revenue from which a spender is BIG.")
    frequent_threshold: int = strawberry.field(description="Counted orders from which a spender is FREQUENT.")

    @classmethod
    def from_model(cls, segment: CustomerSpenderSegment) -> CustomerSpenderSegmentType:
        """The GraphQL view of a spender segment."""
        return cls(
            value=ValueSegment(segment.value), frequency=FrequencySegment(segment.frequency),
            value_low=segment.value_low, value_high=segment.value_high, frequent_threshold=segment.frequent_threshold,
        )


@strawberry.type(name="CustomerRfm", description="A customer's place in the RFM grid of a range, as `rfmGrid` scores it.")
class CustomerRfmType:
    recency_days: int = strawberry.field(description="Days between the last counted order in the range and its end.")
    frequency: int = strawberry.field(description="Counted orders in the range.")
    monetary: Decimal = strawberry.field(description="Net revenue in the range.")
    r: int = strawberry.field(description="Recency score.")
    f: int = strawberry.field(description="Frequency score.")
    m: int = strawberry.field(description="Monetary score.")
    fm: int = strawberry.field(description="FM score = ceil((F + M) / 2).")
    segment: RfmSegment = strawberry.field(description="The segment of the (R, FM) cell.")

    @classmethod
    def from_model(cls, rfm: CustomerRfm) -> CustomerRfmType:
        """The GraphQL view of a customer's RFM cell."""
        return cls(recency_days=rfm.recency_days, frequency=rfm.frequency, monetary=rfm.monetary, r=rfm.r, f=rfm.f,
                   m=rfm.m, fm=rfm.fm, segment=RfmSegment(rfm.segment))
