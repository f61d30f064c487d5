"""Per-request DataLoaders of the customers domain."""

from strawberry.dataloader import DataLoader

from crm_graph.graphql.context import Context
from crm_graph.models import CustomerIdentity
from crm_graph.services.customers import identities_by_customer


def identities_by_customer_loader(context: Context) -> DataLoader[int, list[CustomerIdentity]]:
    """IdentitiesByCustomerLoader: one query for the identities of every customer on a page."""

    async def load(customer_ids: list[int]) -> list[list[CustomerIdentity]]:
        return await context.run(identities_by_customer, customer_ids)

    return context.loader("IdentitiesByCustomer", lambda: DataLoader(load_fn=load))
