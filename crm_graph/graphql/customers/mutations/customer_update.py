"""`updateCustomer`: change a customer's own data."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.mutations.customer_create import CustomerInput, CustomerResult
from crm_graph.graphql.customers.types import CustomerType
from crm_graph.graphql.mutation_errors import UserErrorType, error_result, parse_id, run_mutation
from crm_graph.services.customers import editing


@strawberry.mutation(description="Change the fields given in `input` (null clears one); returns the customer or a typed error.")
async def update_customer(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Internal id of the customer.")],
    input: Annotated[CustomerInput, strawberry.argument(description="The fields to change.")],
) -> CustomerResult:
    try:
        customer_id = parse_id(id)
    except UserError as exc:
        return error_result(exc)
    result = await run_mutation(info, editing.update_customer, customer_id, input.changes())
    return result if isinstance(result, UserErrorType) else CustomerType.from_model(result)
