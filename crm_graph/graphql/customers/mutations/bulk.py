"""What the bulk mutations share: the selection arguments, the result type, sync-or-job running."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput, to_filter
from crm_graph.graphql.jobs.types import JobType
from crm_graph.graphql.mutation_errors import FieldNotFound, error_result, is_user_error, run_mutation
from crm_graph.graphql.relay import global_id, require_row_id
from crm_graph.models.enums import Role
from crm_graph.services.customers.background import create_customer_job
from crm_graph.services.customers.selection import MAX_IDS, MissingCustomers, Selection, make_selection

IDS_HELP = f"Global ids of the customers to act on, at most {MAX_IDS}; every id must be a customer of the store."
FILTER_HELP = "Act on every customer matching this filter, as a background job."
ALL_HELP = "Must be true to act on every customer with an empty (or missing) filter."


@strawberry.type(name="BulkChange", description="What a bulk change did, or the job doing it when it acts by filter.")
class BulkChangeType:
    changed: int | None = strawberry.field(description="How many were changed (by ids); null while a job runs.")
    job: JobType | None = strawberry.field(description="The background job doing a change by filter; follow it with `job(id:)`.")


def selection_of(ids: list[strawberry.ID] | None, filter: CustomerFilterInput | None, all: bool) -> Selection:
    """The checked selection of a bulk mutation's arguments; an id that is not a customer's names its place."""
    parsed = None if ids is None else [require_row_id(value, "Customer", f"ids.{index}") for index, value in enumerate(ids)]
    return make_selection(parsed, None if filter is None else to_filter(filter), all)


def _naming_ids(run: Callable[..., Any], ids: list[strawberry.ID] | None) -> Callable[..., Any]:
    """`run`, with customers missing from the store reported by the global ids the client sent."""

    def checked(session, store, *args: Any) -> Any:
        try:
            return run(session, store, *args)
        except MissingCustomers as exc:
            sent = [str(value) for value in ids or []]
            wanted = {customer_id: index for index, customer_id in reversed(list(enumerate(
                require_row_id(value, "Customer") for value in sent)))}
            shown = ", ".join(str(global_id("Customer", customer_id)) for customer_id in exc.missing[:10])
            more = f" and {len(exc.missing) - 10} more" if len(exc.missing) > 10 else ""
            raise FieldNotFound(f"`ids`: the store has no customer {shown}{more}; nothing was changed.",
                                field=f"ids.{wanted.get(exc.missing[0], 0)}") from None

    return checked


async def run_bulk(
    info: Info,
    ids: list[strawberry.ID] | None,
    filter: CustomerFilterInput | None,
    all: bool,
    kind: str,
    params: dict[str, Any],
    run_now: Callable[..., int],
) -> Any:
    """By ids: run `run_now(session, store, selection)` in this request. By filter: start a job."""
    info.context.require(Role.WRITE)  # the role first: a read key learns nothing from argument checks
    try:
        selection = selection_of(ids, filter, all)
    except UserError as exc:
        return error_result(exc)
    actor = f"api-key:{info.context.api_key_id}" if info.context.api_key_id else "api"
    if not selection.by_filter:
        changed = await run_mutation(info, _naming_ids(run_now, ids), selection, actor)
        return changed if is_user_error(changed) else BulkChangeType(changed=changed, job=None)
    params = {**params, "selection": selection.to_json(), "actor": actor}
    job = await run_mutation(info, _create_checked_job, kind, params, selection)
    if is_user_error(job):
        return job
    return BulkChangeType(changed=None, job=JobType.from_model(job))


def _create_checked_job(session, store, kind: str, params: dict[str, Any], selection: Selection):
    from crm_graph.services.customers.selection import selected_ids

    selected_ids(session, store, selection)  # compiles the filter: unknown segments fail now, not in the job
    return create_customer_job(session, store, kind, params)


__all__ = ["ALL_HELP", "FILTER_HELP", "IDS_HELP", "BulkChangeType", "Role", "run_bulk"]
