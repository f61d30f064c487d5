"""`customersImport`: import customers from CSV text in a background job."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info, app_settings
from crm_graph.graphql.jobs.types import JobType
from crm_graph.graphql.mutation_errors import NotFoundErrorType, ValidationErrorType, is_user_error, run_mutation
from crm_graph.services.customers.importing import start_customer_import

CustomersImportResult = Annotated[
    JobType | ValidationErrorType | NotFoundErrorType,
    strawberry.union("CustomersImportResult", description="The import job, or why none was started."),
]


@strawberry.mutation(
    description="Import customers from CSV (the customers format of docs/csv_formats.md, or a named mapping such as a "
    "Shopify export) in a background job; follow it with `job(id:)`: bad rows are reported with line numbers. "
    "The job SUCCEEDS when the file could be read; its counts say how many rows were `imported` and `rejected` and "
    "how many `ignored_columns` the file had, its result's `outcome` is IMPORTED (every row), PARTIAL (some rows "
    "rejected) or NOTHING_IMPORTED, with `warnings` and `ignored_columns` by name, and `download` fetches the "
    "rejects report."
)
async def customers_import(
    info: Info,
    csv: Annotated[str, strawberry.argument(description="The whole CSV file as text, UTF-8, at most 20 MB.")],
    mapping: Annotated[str | None, strawberry.argument(
        description="A customers mapping for another tool's export (`shopify-customers`, `woocommerce-customers`, "
        "`mailchimp-subscribed`, `mailchimp-unsubscribed`, `mailchimp-cleaned`, `crm-graph-export`...), or `auto` "
        "to pick it from the header. A known export sent without a mapping is refused with the mapping's name.")] = None,
) -> CustomersImportResult:
    result = await run_mutation(info, start_customer_import, csv, app_settings(info).import_dir, mapping)
    return result if is_user_error(result) else JobType.from_model(result)
