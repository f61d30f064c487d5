"""`customersUntag`: take tags off customers, in bulk."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput
from crm_graph.graphql.customers.mutations.bulk import ALL_HELP, FILTER_HELP, IDS_HELP, BulkChangeType
from crm_graph.graphql.customers.mutations.customers_tag import TAGS_HELP, change_tags
from crm_graph.graphql.mutation_errors import NotFoundErrorType, ValidationErrorType
from crm_graph.services.customers.background import UNTAG
from crm_graph.services.customers.tagging import untag_customers as remove_tags

CustomersUntagResult = Annotated[
    BulkChangeType | ValidationErrorType | NotFoundErrorType,
    strawberry.union("CustomersUntagResult", description="The untagging, or why nothing was untagged."),
]


@strawberry.mutation(description="Take tags off customers; `changed` counts tag applications ended.")
async def customers_untag(
    info: Info,
    tags: Annotated[list[str], strawberry.argument(description=TAGS_HELP)],
    ids: Annotated[list[strawberry.ID] | None, strawberry.argument(description=IDS_HELP)] = None,
    filter: Annotated[CustomerFilterInput | None, strawberry.argument(description=FILTER_HELP)] = None,
    all: Annotated[bool, strawberry.argument(description=ALL_HELP)] = False,
) -> CustomersUntagResult:
    return await change_tags(info, tags, ids, filter, all, UNTAG, remove_tags)
