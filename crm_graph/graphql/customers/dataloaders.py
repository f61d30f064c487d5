"""Per-request DataLoaders of the customers domain, named `<Thing>By<Key>Loader`.

Each is created on first use in a request (`Context.loader`) and batches every `load` of one
event-loop tick into one service call, which is one SQL query: a page of customers with their
orders, lines, refunds, consents and tags costs a fixed number of queries whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry.dataloader import DataLoader

from crm_graph.graphql.context import Context
from crm_graph.services.customers import profile


def _loader(context: Context, name: str, batch: Callable[..., list[Any]]) -> DataLoader:
    async def load(keys: list[Any]) -> list[Any]:
        return await context.run(batch, list(keys))

    return context.loader(name, lambda: DataLoader(load_fn=load))


def identities_by_customer_loader(context: Context) -> DataLoader:
    """IdentitiesByCustomerLoader: customer id -> its identities."""
    return _loader(context, "IdentitiesByCustomer", profile.identities_by_customer)


def consents_by_customer_loader(context: Context) -> DataLoader:
    """ConsentsByCustomerLoader: customer id -> its consent history, newest first."""
    return _loader(context, "ConsentsByCustomer", profile.consents_by_customer)


def tags_by_customer_loader(context: Context) -> DataLoader:
    """TagsByCustomerLoader: customer id -> the tags on it now."""
    return _loader(context, "TagsByCustomer", profile.tags_by_customer)


def order_pages_by_customer_loader(context: Context) -> DataLoader:
    """OrderPagesByCustomerLoader: (customer id, size, backward, cursor values) -> a page of its orders."""
    return _loader(context, "OrderPagesByCustomer", profile.orders_pages_by_customer)


def order_count_by_customer_loader(context: Context) -> DataLoader:
    """OrderCountByCustomerLoader: customer id -> how many orders it has."""
    return _loader(context, "OrderCountByCustomer", profile.order_counts_by_customer)


def order_by_id_loader(context: Context) -> DataLoader:
    """OrderByIdLoader: order id -> the store's order or None."""
    return _loader(context, "OrderById", profile.orders_by_id)


def lines_by_order_loader(context: Context) -> DataLoader:
    """LinesByOrderLoader: order id -> its lines."""
    return _loader(context, "LinesByOrder", profile.lines_by_order)


def refunds_by_order_loader(context: Context) -> DataLoader:
    """RefundsByOrderLoader: order id -> its refunds."""
    return _loader(context, "RefundsByOrder", profile.refunds_by_order)


def products_by_customer_loader(context: Context) -> DataLoader:
    """ProductsByCustomerLoader: customer id -> the products it bought."""
    return _loader(context, "ProductsByCustomer", profile.products_by_customer)


def revenue_by_customer_loader(context: Context) -> DataLoader:
    """RevenueByCustomerLoader: customer id -> its lifetime revenue figures."""
    return _loader(context, "RevenueByCustomer", profile.revenue_stats_by_customer)


def events_by_customer_loader(context: Context) -> DataLoader:
    """EventsByCustomerLoader: (customer id, limit) -> its latest activity events."""
    return _loader(context, "EventsByCustomer", profile.events_by_customer)


def customer_by_id_loader(context: Context) -> DataLoader:
    """CustomerByIdLoader: customer id -> the customer or None."""
    return _loader(context, "CustomerById", profile.customers_by_id)


def spender_segment_by_customer_loader(context: Context) -> DataLoader:
    """SpenderSegmentByCustomerLoader: customer id -> its value and frequency segment today."""
    return _loader(context, "SpenderSegmentByCustomer", profile.spender_segment_by_customer)


def rfm_by_customer_loader(context: Context) -> DataLoader:
    """RfmByCustomerLoader: (customer id, first day, last day, scheme) -> its RFM cell or None."""
    return _loader(context, "RfmByCustomer", profile.rfm_by_customer)
