"""GraphQL types of Customer 360's parts: consents, tags, orders, products, revenue, events.

Amounts are `Money`: an order's own amounts (its lines, refunds) in the order's currency; sums
across orders (revenue, products bought, RFM monetary, spender thresholds) in the store's.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_graph.graphql.cost import field_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.dataloaders import customer_by_id_loader, lines_by_order_loader, refunds_by_order_loader
from crm_graph.graphql.enums import ActivityKind, Channel, ConsentBucket, ConsentState, OptInLevel, OrderStatus
from crm_graph.models import ActivityEvent, ConsentEvent, Order, OrderLine, Refund
from crm_graph.graphql.customers.filters import FrequencySegment, ValueSegment
from crm_graph.graphql.relay import NodeType, PageInfoType, global_id
from crm_graph.graphql.rfm.types import RfmSegment
from crm_graph.graphql.values import MoneyType, money, optional_money
from crm_graph.services.customers.profile import (
    AppliedTag, BoughtProduct, CustomerRfm, CustomerSpenderSegment, RevenueStats,
)
from crm_graph.services.filters import consent_bucket_of

if TYPE_CHECKING:
    from crm_graph.graphql.customers.types import CustomerType

#: The most lines and refunds one order shows (orders have a handful).
MAX_ORDER_LINES = 1000
MAX_ORDER_REFUNDS = 100


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
    product_id: strawberry.ID | None = strawberry.field(description="Id of the product, when known: a value of the products facet, as `CustomerFilter.productIds` takes it.")
    name: str | None = strawberry.field(description="Product name as ordered.")
    sku: str | None = strawberry.field(description="SKU as ordered.")
    quantity: int = strawberry.field(description="Units.")
    unit_price: MoneyType = strawberry.field(description="Price of one unit, in the order's currency.")
    line_total: MoneyType = strawberry.field(description="Total of the line, in the order's currency.")

    @classmethod
    def from_model(cls, line: OrderLine, currency: str) -> OrderLineType:
        """The GraphQL view of a line of an order in `currency`."""
        return cls(
            product_id=strawberry.ID(str(line.product_id)) if line.product_id else None, name=line.name, sku=line.sku,
            quantity=line.quantity, unit_price=money(line.unit_price, currency),
            line_total=money(line.line_total, currency),
        )


@strawberry.type(name="Refund", description="Money given back on an order.")
class RefundType:
    amount: MoneyType = strawberry.field(description="Amount refunded, in the order's currency.")
    refunded_at: datetime = strawberry.field(description="When it was refunded.")
    reason: str | None = strawberry.field(description="Reason given by the platform.")

    @classmethod
    def from_model(cls, refund: Refund, currency: str) -> RefundType:
        """The GraphQL view of a refund of an order in `currency`."""
        return cls(amount=money(refund.amount, currency), refunded_at=refund.refunded_at, reason=refund.reason)


@strawberry.type(name="Order", description="An order of a customer, any status.")
class OrderType(NodeType):
    source: str = strawberry.field(description="Platform it came from.")
    external_id: str = strawberry.field(description="Id in that platform.")
    status: OrderStatus = strawberry.field(description="Normalised status; PAID, COMPLETED and REFUNDED are counted.")
    raw_status: str | None = strawberry.field(description="The platform's own status.")
    placed_at: datetime = strawberry.field(description="When it was placed.")
    total: MoneyType = strawberry.field(description="Order total, in the order's currency.")
    subtotal: MoneyType = strawberry.field(description="Before discount, shipping and tax, in the order's currency.")
    discount: MoneyType = strawberry.field(description="Discount, in the order's currency.")
    shipping: MoneyType = strawberry.field(description="Shipping, in the order's currency.")
    tax: MoneyType = strawberry.field(description="Tax, in the order's currency.")
    channel: str | None = strawberry.field(description="Acquisition channel of the order.")
    row: strawberry.Private[Order]

    @strawberry.field(description=f"The product lines, in the order they were placed (at most {MAX_ORDER_LINES:,}). "
                      "Cost: 1 (per order).", metadata=field_cost(1))
    async def lines(self, info: Info) -> list[OrderLineType]:
        rows = await lines_by_order_loader(info.context).load(self.row.id)
        return [OrderLineType.from_model(row, self.row.currency) for row in rows[:MAX_ORDER_LINES]]

    @strawberry.field(description=f"Refunds issued on the order, oldest first (at most {MAX_ORDER_REFUNDS}). "
                      "Cost: 1 (per order).", metadata=field_cost(1))
    async def refunds(self, info: Info) -> list[RefundType]:
        rows = await refunds_by_order_loader(info.context).load(self.row.id)
        return [RefundType.from_model(row, self.row.currency) for row in rows[:MAX_ORDER_REFUNDS]]

    @strawberry.field(description="The customer who placed it; null once that customer was erased. Cost: 1 (per order).",
                      metadata=field_cost(1))
    async def customer(self, info: Info) -> Annotated[CustomerType, strawberry.lazy("crm_graph.graphql.customers.types")] | None:
        from crm_graph.graphql.customers.types import CustomerType

        if self.row.customer_id is None:  # an order not (or no longer) linked to a customer
            return None
        row = await customer_by_id_loader(info.context).load(self.row.customer_id)
        return CustomerType.from_model(row) if row else None

    @classmethod
    def from_model(cls, order: Order) -> OrderType:
        """The GraphQL view of an order; its amounts are in its own currency."""
        currency = order.currency
        return cls(
            id=global_id("Order", order.id), source=order.source, external_id=order.external_id,
            status=OrderStatus(order.status), raw_status=order.raw_status, placed_at=order.placed_at,
            total=money(order.total, currency), subtotal=money(order.subtotal, currency),
            discount=money(order.discount, currency), shipping=money(order.shipping, currency),
            tax=money(order.tax, currency), channel=order.channel, row=order,
        )


@strawberry.type(name="OrderEdge", description="An order of a customer and its cursor.")
class OrderEdgeType:
    cursor: str = strawberry.field(description="Pass as `after` (or `before`) to page from this order.")
    node: OrderType = strawberry.field(description="The order.")


@strawberry.type(name="OrderConnection", description="A page of a customer's orders, newest first.")
class OrderConnectionType:
    edges: list[OrderEdgeType] = strawberry.field(description="The orders of this page with their cursors.")
    nodes: list[OrderType] = strawberry.field(description="The orders of this page.")
    page_info: PageInfoType = strawberry.field(description="Where this page is in all the customer's orders.")
    customer_id: strawberry.Private[int]

    @strawberry.field(description="How many orders the customer has (any status), over all pages. Cost: 1.",
                      metadata=field_cost(1))
    async def total_count(self, info: Info) -> int:
        from crm_graph.graphql.customers.dataloaders import order_count_by_customer_loader

        return await order_count_by_customer_loader(info.context).load(self.customer_id)


@strawberry.type(name="BoughtProduct", description="A product a customer bought in counted orders.")
class BoughtProductType:
    product_id: strawberry.ID = strawberry.field(description="Id of the product: a value of the products facet, as `CustomerFilter.productIds` takes it.")
    name: str = strawberry.field(description="Product name.")
    sku: str | None = strawberry.field(description="SKU.")
    orders: int = strawberry.field(description="Counted orders that contained it.")
    quantity: int = strawberry.field(description="Units bought.")
    revenue: MoneyType = strawberry.field(description="Sum of its line totals, in the store currency.")
    last_bought_at: datetime = strawberry.field(description="When it was last bought.")

    @classmethod
    def from_model(cls, item: BoughtProduct, currency: str) -> BoughtProductType:
        """The GraphQL view of a bought product; `currency` is the store's."""
        return cls(
            product_id=strawberry.ID(str(item.product_id)), name=item.name, sku=item.sku, orders=item.orders,
            quantity=item.quantity, revenue=money(item.revenue, currency), last_bought_at=item.last_bought_at,
        )


@strawberry.type(name="CustomerRevenue", description="A customer's lifetime figures over counted orders.")
class CustomerRevenueType:
    total_sales: MoneyType = strawberry.field(description="Sum of counted order totals, in the store currency.")
    refunds: MoneyType = strawberry.field(description="Refunds issued on those orders, in the store currency.")
    net_revenue: MoneyType = strawberry.field(description="Total sales minus refunds, in the store currency.")
    orders: int = strawberry.field(description="Counted orders.")
    average_order_value: MoneyType | None = strawberry.field(
        description="Net revenue per counted order, in the store currency; null without orders.")
    first_order_at: datetime | None = strawberry.field(description="First counted order.")
    last_order_at: datetime | None = strawberry.field(description="Latest counted order.")

    @classmethod
    def from_model(cls, stats: RevenueStats, currency: str) -> CustomerRevenueType:
        """The GraphQL view of revenue stats; `currency` is the store's."""
        return cls(
            total_sales=money(stats.total_sales, currency), refunds=money(stats.refunds, currency),
            net_revenue=money(stats.net_revenue, currency), orders=stats.orders,
            average_order_value=optional_money(stats.average_order_value, currency), first_order_at=stats.first_order_at,
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
    value_low: MoneyType | None = strawberry.field(
        description="Net revenue from which a spender is MEDIUM, in the store currency.")
    value_high: MoneyType | None = strawberry.field(
        description="Net revenue from which a spender is BIG, in the store currency.")
    frequent_threshold: int = strawberry.field(description="Counted orders from which a spender is FREQUENT.")

    @classmethod
    def from_model(cls, segment: CustomerSpenderSegment, currency: str) -> CustomerSpenderSegmentType:
        """The GraphQL view of a spender segment; `currency` is the store's."""
        return cls(
            value=ValueSegment(segment.value), frequency=FrequencySegment(segment.frequency),
            value_low=optional_money(segment.value_low, currency), value_high=optional_money(segment.value_high, currency), frequent_threshold=segment.frequent_threshold,
        )


@strawberry.type(name="CustomerRfm", description="A customer's place in the RFM grid of a range, as `rfmGrid` scores it.")
class CustomerRfmType:
    recency_days: int = strawberry.field(description="Days between the last counted order in the range and its end.")
    frequency: int = strawberry.field(description="Counted orders in the range.")
    monetary: MoneyType = strawberry.field(description="Net revenue in the range, in the store currency.")
    r: int = strawberry.field(description="Recency score.")
    f: int = strawberry.field(description="Frequency score.")
    m: int = strawberry.field(description="Monetary score.")
    fm: int = strawberry.field(description="FM score = ceil((F + M) / 2).")
    segment: RfmSegment = strawberry.field(description="The segment of the (R, FM) cell.")

    @classmethod
    def from_model(cls, rfm: CustomerRfm, currency: str) -> CustomerRfmType:
        """The GraphQL view of a customer's RFM cell; `currency` is the store's."""
        return cls(recency_days=rfm.recency_days, frequency=rfm.frequency, monetary=money(rfm.monetary, currency), r=rfm.r, f=rfm.f,
                   m=rfm.m, fm=rfm.fm, segment=RfmSegment(rfm.segment))
