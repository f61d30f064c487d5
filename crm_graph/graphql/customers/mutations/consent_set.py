"""`setConsent`: record a consent change for one customer, a list, or a filter."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput
from crm_graph.graphql.customers.mutations.bulk import ALL_HELP, FILTER_HELP, IDS_HELP, BulkChangeResult, run_bulk
from crm_graph.graphql.enums import Channel, ConsentState, OptInLevel
from crm_graph.services.customers.background import CONSENT
from crm_graph.services.customers.consent import set_consent as record


@strawberry.mutation(
    description="Set the consent on a channel: each customer whose state changes gets a consent event with source "
    "`api` and the API key as actor. Customers already in that state are left alone."
)
async def set_consent(
    info: Info,
    channel: Annotated[Channel, strawberry.argument(description="EMAIL or SMS.")],
    state: Annotated[ConsentState, strawberry.argument(description="The new state (not REDACTED).")],
    opt_in_level: Annotated[OptInLevel, strawberry.argument(description="How it was confirmed.")] = OptInLevel.UNKNOWN,
    reason: Annotated[str | None, strawberry.argument(description="Why, e.g. 'asked by phone' (at most 500 characters).")] = None,
    ids: Annotated[list[strawberry.ID] | None, strawberry.argument(description=IDS_HELP)] = None,
    filter: Annotated[CustomerFilterInput | None, strawberry.argument(description=FILTER_HELP)] = None,
    all: Annotated[bool, strawberry.argument(description=ALL_HELP)] = False,
) -> BulkChangeResult:
    def now(session, store, selection, actor):
        return record(session, store, selection, channel, state, opt_in_level=opt_in_level, reason=reason, actor=actor)

    if state is ConsentState.REDACTED or (reason is not None and len(reason) > 500):
        from crm_graph.graphql.mutation_errors import ValidationErrorType

        return ValidationErrorType(
            message="`state` REDACTED is set by erasure, not by hand." if state is ConsentState.REDACTED
            else "`reason` is longer than 500 characters.", code="BAD_USER_INPUT",
            field="state" if state is ConsentState.REDACTED else "reason",
        )
    params = {"channel": channel.value, "state": state.value, "opt_in_level": opt_in_level.value, "reason": reason}
    return await run_bulk(info, ids, filter, all, CONSENT, params, now)
