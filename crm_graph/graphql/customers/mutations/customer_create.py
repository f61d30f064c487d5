"""`customerCreate`: add a customer by hand (or from an integration without a connector)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.types import CustomerType
from crm_graph.graphql.enums import Gender
from crm_graph.graphql.mutation_errors import (
    ConflictErrorType, NotFoundErrorType, ValidationErrorType, is_user_error, run_mutation,
)
from crm_graph.services.customers import editing

CustomerCreateResult = Annotated[
    CustomerType | ValidationErrorType | NotFoundErrorType | ConflictErrorType,
    strawberry.union("CustomerCreateResult", description="The created customer, or why nothing was created."),
]


@strawberry.input(name="CustomerInput", description="A customer's own data; fields left out are not changed.")
class CustomerInput:
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Email; checked and lower-cased; unique in the store.")
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Phone; stored in E.164 where it can be parsed (in the customer's country without +).")
    first_name: str | None = strawberry.field(default=strawberry.UNSET, description="Given name.")
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description="Family name.")
    gender: Gender | None = strawberry.field(default=strawberry.UNSET, description="Gender; null sets UNKNOWN.")
    country: str | None = strawberry.field(default=strawberry.UNSET, description="ISO 3166-1 alpha-2 code.")
    city: str | None = strawberry.field(default=strawberry.UNSET, description="City.")

    def changes(self) -> dict:
        """The fields the client set (null included, which clears a field)."""
        return {name: getattr(self, name) for name in editing.EDITABLE if getattr(self, name) is not strawberry.UNSET}


def in_input(result: Any) -> Any:
    """A typed error of the editing service with its `field` as a path under `input` (`["input", "firstName"]`)."""
    if is_user_error(result) and result.field:
        head, *rest = result.field[0].split("_")
        result.field = ["input", head + "".join(part.title() for part in rest), *result.field[1:]]
    return result


@strawberry.mutation(description="Create a customer; returns it, or a ValidationError / ConflictError (duplicate email).")
async def customer_create(
    info: Info, input: Annotated[CustomerInput, strawberry.argument(description="The new customer.")],
) -> CustomerCreateResult:
    result = await run_mutation(info, editing.create_customer, input.changes())
    return in_input(result) if is_user_error(result) else CustomerType.from_model(result)
