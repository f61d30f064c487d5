"""Per-request DataLoaders of the lifecycle domain (CLV and stage of each customer on a page)."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from crm_graph.graphql.context import Context
from crm_graph.models import CustomerClv
from crm_graph.services.dates import store_today
from crm_graph.services.lifecycle.clv import clv_by_customer
from crm_graph.services.lifecycle.stages import LifecycleStage, customer_stages


def clv_by_customer_loader(context: Context) -> DataLoader[int, CustomerClv | None]:
    """ClvByCustomerLoader: one query for the CLV rows of every customer on a page."""

    async def load(customer_ids: list[int]) -> list[CustomerClv | None]:
        return await context.run(clv_by_customer, customer_ids)

    return context.loader("ClvByCustomer", lambda: DataLoader(load_fn=load))


def stage_by_customer_loader(context: Context) -> DataLoader[int, LifecycleStage | None]:
    """StageByCustomerLoader: one query for today's lifecycle stage of every customer on a page."""

    async def load(customer_ids: list[int]) -> list[LifecycleStage | None]:
        store = context.require()
        return await context.run(customer_stages, customer_ids, store_today(store))

    return context.loader("StageByCustomer", lambda: DataLoader(load_fn=load))
