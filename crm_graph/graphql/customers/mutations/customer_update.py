"""`customerUpdate`: change a customer's own data."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.mutations.customer_create import CustomerInput, in_input
from crm_graph.graphql.customers.types import CustomerType
from crm_graph.graphql.mutation_errors import (
    ConflictErrorType, NotFoundErrorType, UserErrorCode, ValidationErrorType, error_result, is_user_error, run_mutation,
)
from crm_graph.graphql.relay import require_row_id
from crm_graph.models.enums import Role
from crm_graph.services.customers import editing

CustomerUpdateResult = Annotated[
    CustomerType | ValidationErrorType | NotFoundErrorType | ConflictErrorType,
    strawberry.union("CustomerUpdateResult", description="The changed customer, or why nothing was changed."),
]


@strawberry.mutation(description="Change the fields given in `input` (null clears one); returns the customer or a typed error.")
async def customer_update(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the customer.")],
    input: Annotated[CustomerInput, strawberry.argument(description="The fields to change.")],
) -> CustomerUpdateResult:
    info.context.require(Role.WRITE)  # the role first: a read key learns nothing from argument checks
    try:
        customer_id = require_row_id(id, "Customer", "id")
    except UserError as exc:
        return error_result(exc)
    result = await run_mutation(info, editing.update_customer, customer_id, input.changes())
    if isinstance(result, NotFoundErrorType):  # the id was well formed but names no live customer of the store
        return NotFoundErrorType(message=f"`id`: there is no customer {str(id)[:60]!r} in this store.",
                                 code=UserErrorCode.NOT_FOUND, field=["id"])
    return in_input(result) if is_user_error(result) else CustomerType.from_model(result)
