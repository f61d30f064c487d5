"""The GraphQL input of the one customer filter, and the sort options of the list."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import strawberry

from crm_graph.graphql.enums import ConsentBucket, Gender
from crm_graph.graphql.mutation_errors import parse_id
from crm_graph.services.customers.listing import CustomerSort as CustomerSortEnum
from crm_graph.services.customers.listing import SortDirection as SortDirectionEnum
from crm_graph.services.filters import CustomerFilter, RevenueBand as RevenueBandEnum
from crm_graph.services.filters import parse_filter

CustomerSort = strawberry.enum(
    CustomerSortEnum,
    description="Order of the customer list: NAME (last, first), CREATED (first seen), LAST_ORDER, TOTAL_SPENT, ID.",
)
SortDirection = strawberry.enum(SortDirectionEnum, description="ASC or DESC; empty values come last either way.")
RevenueBand = strawberry.enum(
    RevenueBandEnum,
    description=(
        "Place in the store's revenue, customers ranked by lifetime net revenue: TOP bring the first 80%, "
        "MIDDLE the next 15%, BOTTOM the last 5%, NONE have no revenue."
    ),
)


@strawberry.input(
    name="CustomerFilter",
    description=(
        "Which customers: every condition set must hold; a list inside a condition means any of its values. "
        "Used by the customer list, facets, segments, bulk changes and exports. Dates are local days of the "
        "store, both bounds inclusive. Erased customers never match."
    ),
)
class CustomerFilterInput:
    search: str | None = strawberry.field(
        default=None,
        description="Case-insensitive prefix of an email, phone, first or last name, 'first last', an external id "
        "or CRM ID (source:id); or an exact internal id. `%` and `_` match themselves.",
    )
    countries: list[str] | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2 codes.")
    cities: list[str] | None = strawberry.field(default=None, description="City names, case-insensitive.")
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Bought any of these products in a counted order."
    )
    tags: list[str] | None = strawberry.field(default=None, description="Carries any of these tags now.")
    email_consent: list[ConsentBucket] | None = strawberry.field(default=None, description="Current EMAIL consent bucket.")
    sms_consent: list[ConsentBucket] | None = strawberry.field(default=None, description="Current SMS consent bucket.")
    genders: list[Gender] | None = strawberry.field(default=None, description="Any of these genders.")
    identified: bool | None = strawberry.field(
        default=None, description="True: has an email, phone or account; false: anonymous visitors."
    )
    spent_min: Decimal | None = strawberry.field(default=None, description="Lifetime net revenue at least this.")
    spent_max: Decimal | None = strawberry.field(default=None, description="Lifetime net revenue at most this.")
    orders_min: int | None = strawberry.field(default=None, description="At least this many counted orders.")
    orders_max: int | None = strawberry.field(default=None, description="At most this many counted orders.")
    customer_since_from: datetime.date | None = strawberry.field(default=None, description="First seen on or after this day.")
    customer_since_to: datetime.date | None = strawberry.field(default=None, description="First seen on or before this day.")
    last_activity_from: datetime.date | None = strawberry.field(default=None, description="Last activity on or after this day.")
    last_activity_to: datetime.date | None = strawberry.field(default=None, description="Last activity on or before this day.")
    never_active: bool | None = strawberry.field(
        default=None, description="True: no activity ever recorded; false: some activity."
    )
    revenue_bands: list[RevenueBand] | None = strawberry.field(default=None, description="Any of these revenue bands.")
    segment_id: strawberry.ID | None = strawberry.field(default=None, description="Also a member of this saved segment.")

    def to_filter(self) -> CustomerFilter:
        """The service-side filter; a `UserError` names the input field that is wrong."""
        return parse_filter(filter_input_dict(self))


def filter_input_dict(value: CustomerFilterInput | None) -> dict[str, Any]:
    """The set fields of a filter input as the service's JSON (snake_case keys)."""
    if value is None:
        return {}
    data: dict[str, Any] = {}
    for name in CustomerFilter.model_fields:
        item = getattr(value, name, None)
        if item is None:
            continue
        if name == "product_ids":
            item = [parse_id(product_id, "filter.productIds") for product_id in item]
        elif name == "segment_id":
            item = parse_id(item, "filter.segmentId")
        data[name] = item
    return data


def to_filter(value: CustomerFilterInput | None) -> CustomerFilter:
    """The service filter of an optional input (none = every customer)."""
    return parse_filter(filter_input_dict(value))


def filter_as_input_json(filter: CustomerFilter) -> dict[str, Any]:
    """A saved filter in the shape of `CustomerFilter` input (camelCase keys), for clients to reuse."""
    out = {}
    for key, value in filter.to_json().items():
        head, *rest = key.split("_")
        out[head + "".join(part.title() for part in rest)] = [str(v) for v in value] if key == "product_ids" else (
            str(value) if key == "segment_id" else value
        )
    return out
