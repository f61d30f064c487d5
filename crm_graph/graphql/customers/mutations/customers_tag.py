"""`customersTag`: put tags on customers, in bulk."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput
from crm_graph.graphql.customers.mutations.bulk import ALL_HELP, FILTER_HELP, IDS_HELP, BulkChangeType, run_bulk
from crm_graph.graphql.mutation_errors import NotFoundErrorType, ValidationErrorType, error_result
from crm_graph.models.enums import Role
from crm_graph.services.customers.background import TAG
from crm_graph.services.customers.tagging import clean_tag_names
from crm_graph.services.customers.tagging import tag_customers as apply_tags

TAGS_HELP = "Tag names (at most 50); a new name creates the tag."

CustomersTagResult = Annotated[
    BulkChangeType | ValidationErrorType | NotFoundErrorType,
    strawberry.union("CustomersTagResult", description="The tagging, or why nothing was tagged."),
]


@strawberry.mutation(description="Put tags on customers; `changed` counts new tag applications.")
async def customers_tag(
    info: Info,
    tags: Annotated[list[str], strawberry.argument(description=TAGS_HELP)],
    ids: Annotated[list[strawberry.ID] | None, strawberry.argument(description=IDS_HELP)] = None,
    filter: Annotated[CustomerFilterInput | None, strawberry.argument(description=FILTER_HELP)] = None,
    all: Annotated[bool, strawberry.argument(description=ALL_HELP)] = False,
) -> CustomersTagResult:
    return await change_tags(info, tags, ids, filter, all, TAG, apply_tags)


async def change_tags(info: Info, tags: list[str], ids, filter, all: bool, kind: str, change) -> object:
    """Put on or take off (`change`) the tags named `tags` for the customers chosen, as the bulk change `kind`."""
    info.context.require(Role.WRITE)  # the role first: a read key learns nothing from argument checks
    try:
        names = clean_tag_names(tags)
    except UserError as exc:
        return error_result(exc)
    return await run_bulk(info, ids, filter, all, kind, {"tags": names},
                          lambda session, store, selection, actor: change(session, store, selection, names))
