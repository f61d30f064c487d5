"""`customersConsentSet`: record a consent change for one customer, a list, or a filter."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput
from crm_graph.graphql.customers.mutations.bulk import ALL_HELP, FILTER_HELP, IDS_HELP, BulkChangeType, run_bulk
from crm_graph.graphql.enums import Channel, ConsentState, OptInLevel
from crm_graph.graphql.mutation_errors import NotFoundErrorType, UserErrorCode, ValidationErrorType
from crm_graph.models.enums import Role
from crm_graph.services.customers.background import CONSENT
from crm_graph.services.customers.consent import set_consent as record

CustomersConsentSetResult = Annotated[
    BulkChangeType | ValidationErrorType | NotFoundErrorType,
    strawberry.union("CustomersConsentSetResult", description="The consent change, or why nothing was changed."),
]

#: The longest `reason` kept with a consent event.
MAX_REASON = 500


@strawberry.mutation(
    description="Set the consent on a channel: each customer whose state changes gets a consent event with source "
    "`api` and the API key as actor. Customers already in that state are left alone."
)
async def customers_consent_set(
    info: Info,
    channel: Annotated[Channel, strawberry.argument(description="EMAIL or SMS.")],
    state: Annotated[ConsentState, strawberry.argument(description="The new state (not REDACTED).")],
    opt_in_level: Annotated[OptInLevel, strawberry.argument(description="How it was confirmed.")] = OptInLevel.UNKNOWN,
    reason: Annotated[str | None, strawberry.argument(description=f"Why, e.g. 'asked by phone' (at most {MAX_REASON} characters).")] = None,
    ids: Annotated[list[strawberry.ID] | None, strawberry.argument(description=IDS_HELP)] = None,
    filter: Annotated[CustomerFilterInput | None, strawberry.argument(description=FILTER_HELP)] = None,
    all: Annotated[bool, strawberry.argument(description=ALL_HELP)] = False,
) -> CustomersConsentSetResult:
    def now(session, store, selection, actor):
        return record(session, store, selection, channel, state, opt_in_level=opt_in_level, reason=reason, actor=actor)

    info.context.require(Role.WRITE)  # the role first: a read key learns nothing from argument checks
    if state is ConsentState.REDACTED:
        return ValidationErrorType(message="`state` REDACTED is set by erasure, not by hand.",
                                   code=UserErrorCode.BAD_USER_INPUT, field=["state"])
    if reason is not None and len(reason) > MAX_REASON:
        return ValidationErrorType(message=f"`reason` is longer than {MAX_REASON} characters.",
                                   code=UserErrorCode.BAD_USER_INPUT, field=["reason"])
    params = {"channel": channel.value, "state": state.value, "opt_in_level": opt_in_level.value, "reason": reason}
    return await run_bulk(info, ids, filter, all, CONSENT, params, now)
