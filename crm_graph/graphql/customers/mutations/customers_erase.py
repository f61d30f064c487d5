"""`customersErase`: GDPR erasure of one customer, a list, or a filter (bulk delete)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput
from crm_graph.graphql.customers.mutations.bulk import ALL_HELP, FILTER_HELP, IDS_HELP, BulkChangeType, run_bulk
from crm_graph.graphql.mutation_errors import NotFoundErrorType, ValidationErrorType
from crm_graph.services.customers.background import ERASE
from crm_graph.services.customers.erasure import erase_customers as erase

CustomersEraseResult = Annotated[
    BulkChangeType | ValidationErrorType | NotFoundErrorType,
    strawberry.union("CustomersEraseResult", description="The erasure, or why nothing was erased."),
]


@strawberry.mutation(
    description="Erase customers' personal data (GDPR): they vanish from every list and count; orders keep amounts "
    "but lose contact data; consent history keeps states without personal data; the erasure is recorded. "
    "An empty filter is refused unless `all: true`."
)
async def customers_erase(
    info: Info,
    ids: Annotated[list[strawberry.ID] | None, strawberry.argument(description=IDS_HELP)] = None,
    filter: Annotated[CustomerFilterInput | None, strawberry.argument(description=FILTER_HELP)] = None,
    all: Annotated[bool, strawberry.argument(description=ALL_HELP)] = False,
) -> CustomersEraseResult:
    def now(session, store, selection, actor):
        return erase(session, store, selection, actor=actor)

    return await run_bulk(info, ids, filter, all, ERASE, {}, now)
