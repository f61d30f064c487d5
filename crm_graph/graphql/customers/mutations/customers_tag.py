"""`tagCustomers` and `untagCustomers`: put tags on or take them off, in bulk."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput
from crm_graph.graphql.customers.mutations.bulk import ALL_HELP, FILTER_HELP, IDS_HELP, BulkChangeResult, run_bulk
from crm_graph.graphql.mutation_errors import error_result
from crm_graph.services.customers.background import TAG, UNTAG
from crm_graph.services.customers.tagging import clean_tag_names
from crm_graph.services.customers.tagging import tag_customers as apply_tags
from crm_graph.services.customers.tagging import untag_customers as remove_tags

TAGS_HELP = "Tag names (at most 50); a new name creates the tag."


@strawberry.mutation(description="Put tags on customers; `changed` counts new tag applications.")
async def tag_customers(
    info: Info,
    tags: Annotated[list[str], strawberry.argument(description=TAGS_HELP)],
    ids: Annotated[list[strawberry.ID] | None, strawberry.argument(description=IDS_HELP)] = None,
    filter: Annotated[CustomerFilterInput | None, strawberry.argument(description=FILTER_HELP)] = None,
    all: Annotated[bool, strawberry.argument(description=ALL_HELP)] = False,
) -> BulkChangeResult:
    try:
        names = clean_tag_names(tags)
    except UserError as exc:
        return error_result(exc)
    return await run_bulk(info, ids, filter, all, TAG, {"tags": names},
                          lambda session, store, selection, actor: apply_tags(session, store, selection, names))


@strawberry.mutation(description="Take tags off customers; `changed` counts tag applications ended.")
async def untag_customers(
    info: Info,
    tags: Annotated[list[str], strawberry.argument(description=TAGS_HELP)],
    ids: Annotated[list[strawberry.ID] | None, strawberry.argument(description=IDS_HELP)] = None,
    filter: Annotated[CustomerFilterInput | None, strawberry.argument(description=FILTER_HELP)] = None,
    all: Annotated[bool, strawberry.argument(description=ALL_HELP)] = False,
) -> BulkChangeResult:
    try:
        names = clean_tag_names(tags)
    except UserError as exc:
        return error_result(exc)
    return await run_bulk(info, ids, filter, all, UNTAG, {"tags": names},
                          lambda session, store, selection, actor: remove_tags(session, store, selection, names))
