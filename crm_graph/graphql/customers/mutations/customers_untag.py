"""`customersUntag`: take tags off customers, in bulk."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput
from crm_graph.graphql.customers.mutations.bulk import ALL_HELP, FILTER_HELP, IDS_HELP, BulkChangeType, run_bulk
from crm_graph.graphql.customers.mutations.customers_tag import TAGS_HELP
from crm_graph.graphql.mutation_errors import NotFoundErrorType, ValidationErrorType, error_result
from crm_graph.models.enums import Role
from crm_graph.services.customers.background import UNTAG
from crm_graph.services.customers.tagging import clean_tag_names
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
    info.context.require(Role.WRITE)  # the role first: a read key learns nothing from argument checks
    try:
        names = clean_tag_names(tags)
    except UserError as exc:
        return error_result(exc)
    return await run_bulk(info, ids, filter, all, UNTAG, {"tags": names},
                          lambda session, store, selection, actor: remove_tags(session, store, selection, names))
