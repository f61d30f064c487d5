"""`customersExport`: write the customers of a filter or saved segment to CSV in the background."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info, app_settings
from crm_graph.graphql.customers.filters import CustomerFilterInput, filter_input_dict
from crm_graph.graphql.jobs.types import JobType
from crm_graph.graphql.mutation_errors import (
    NotFoundErrorType, ValidationErrorType, error_result, is_user_error, run_mutation,
)
from crm_graph.graphql.relay import require_row_id
from crm_graph.models.enums import Role
from crm_graph.services.customers.background import EXPORT, create_customer_job
from crm_graph.services.filters import customer_conditions, parse_filter

CustomersExportResult = Annotated[
    JobType | ValidationErrorType | NotFoundErrorType,
    strawberry.union("CustomersExportResult", description="The started export job, or why none was started."),
]


def _start_export(session, store, filter_json: dict, export_dir: str):
    customer_conditions(store, parse_filter(filter_json), session=session)  # unknown segment: fail now
    return create_customer_job(session, store, EXPORT, {"filter": filter_json, "export_dir": export_dir})


@strawberry.mutation(
    description="Export the customers of `filter` (or of saved segment `segmentId`) as CSV in a background job; "
    "follow it with `job(id:)`; once it has SUCCEEDED, its `download` links to the file. Without both, every customer."
)
async def customers_export(
    info: Info,
    filter: Annotated[CustomerFilterInput | None, strawberry.argument(description="Which customers.")] = None,
    segment_id: Annotated[strawberry.ID | None, strawberry.argument(description="Or: the members of this segment (its global id).")] = None,
) -> CustomersExportResult:
    info.context.require(Role.WRITE)  # the role first: a read key learns nothing from argument checks
    try:
        data = filter_input_dict(filter)
        if segment_id is not None:
            if data:
                raise UserError("Give either `filter` or `segmentId`, not both.")
            data = {"segment_id": require_row_id(segment_id, "Segment", "segmentId")}
        filter_json = parse_filter(data).to_json()
    except UserError as exc:
        return error_result(exc)
    job = await run_mutation(info, _start_export, filter_json, app_settings(info).export_dir)
    if is_user_error(job):
        if segment_id is not None and job.field == ["filter", "segmentId"]:  # it came from `segmentId`
            job.field, job.message = ["segmentId"], f"`segmentId`: there is no segment {str(segment_id)[:60]!r} in this store."
        return job
    return JobType.from_model(job)
