"""The GraphQL input of the one customer filter, and the sort options of the list."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import strawberry

from crm_graph.graphql.dates import DateRangeInput, DatePreset
from crm_graph.graphql.enums import ConsentBucket, Gender, RfmScheme
from crm_graph.graphql.rfm.types import RfmSegment
from crm_graph.graphql.ids import parse_id
from crm_graph.graphql.mutation_errors import FieldNotFound
from crm_graph.graphql.relay import global_id, node_row_id, require_row_id
from crm_graph.services.customers.listing import CustomerSort as CustomerSortEnum
from crm_graph.services.customers.listing import SortDirection as SortDirectionEnum
from crm_graph.services.filters import CustomerFilter, RevenueBand as RevenueBandEnum
from crm_graph.services.filters import FrequencySegment as FrequencySegmentEnum
from crm_graph.services.filters import ValueSegment as ValueSegmentEnum
from crm_graph.services.filters import parse_filter

CustomerSort = strawberry.enum(
    CustomerSortEnum,
    description=(
        "Order of the customer list: NAME (last, first), CREATED (first seen), LAST_ORDER, TOTAL_SPENT, "
        "PREDICTED_VALUE and P_ALIVE (from the latest CLV fit; customers without one come last), ID."
    ),
)
SortDirection = strawberry.enum(SortDirectionEnum, description="ASC or DESC; empty values come last either way.")
RevenueBand = strawberry.enum(
    RevenueBandEnum,
    description=(
        "Place in the store's revenue, customers ranked by lifetime net revenue: TOP bring the first 80%, "
        "MIDDLE the next 15%, BOTTOM the last 5%, NONE have no revenue."
    ),
)

ValueSegment = strawberry.enum(
    ValueSegmentEnum, description="Spender value segment: SMALL below the low percentile, MEDIUM to the high one, BIG from it."
)
FrequencySegment = strawberry.enum(
    FrequencySegmentEnum,
    description="Spender frequency segment: ONE_TIME (1 order), REPEAT (2 to below the threshold), FREQUENT.",
)


@strawberry.input(name="RfmCellInput", description="One cell of the RFM grid.")
class RfmCellInput:
    r: int = strawberry.field(description="Recency score, 1 to 5 (1 to 4 in the EDRONE scheme).")
    fm: int = strawberry.field(description="FM score, 1 to 5 (1 to 4 in the EDRONE scheme).")


@strawberry.input(
    name="RfmFilter",
    description="Customers of the RFM grid over a range, scored as `rfmGrid` scores them: in any of `segments` and/or any of `cells`. "
    "Clicking a grid cell is this filter, so a cell can be listed, exported and saved as a segment.",
)
class RfmFilterInput:
    date_range: DateRangeInput | None = strawberry.field(
        default=None, name="range", description="Range the grid is computed over; exclusive with `preset`."
    )
    preset: DatePreset | None = strawberry.field(
        default=None, description="Preset range (kept relative in saved segments); neither: LAST_30_DAYS."
    )
    scheme: RfmScheme | None = strawberry.field(default=None, description="Scoring scheme; default: the store's.")
    segments: list[RfmSegment] | None = strawberry.field(default=None, description="Any of these segments.")
    cells: list[RfmCellInput] | None = strawberry.field(default=None, description="Any of these (r, fm) cells.")

    def to_json(self) -> dict[str, Any]:
        """The service-side RFM filter as JSON."""
        data: dict[str, Any] = {}
        if self.date_range is not None:
            data["first_day"], data["last_day"] = self.date_range.from_, self.date_range.to
        if self.preset is not None:
            data["preset"] = self.preset.value
        if self.scheme is not None:
            data["scheme"] = self.scheme.value
        if self.segments is not None:
            data["segments"] = [segment.value for segment in self.segments]
        if self.cells is not None:
            data["cells"] = [{"r": cell.r, "fm": cell.fm} for cell in self.cells]
        return data


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
        "or CRM ID (source:id); or a customer's exact global id. `%` and `_` match themselves.",
    )
    countries: list[str] | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2 codes.")
    cities: list[str] | None = strawberry.field(default=None, description="City names, case-insensitive.")
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Bought any of these products in a counted order (product ids, as the products facet gives them)."
    )
    tags: list[str] | None = strawberry.field(default=None, description="Carries any of these tags now.")
    email_consent: list[ConsentBucket] | None = strawberry.field(default=None, description="Current EMAIL consent bucket.")
    sms_consent: list[ConsentBucket] | None = strawberry.field(default=None, description="Current SMS consent bucket.")
    genders: list[Gender] | None = strawberry.field(default=None, description="Any of these genders.")
    identified: bool | None = strawberry.field(
        default=None, description="True: has an email, phone or account; false: anonymous visitors."
    )
    spent_min: Decimal | None = strawberry.field(
        default=None, description="Lifetime net revenue at least this, in the store currency.")
    spent_max: Decimal | None = strawberry.field(
        default=None, description="Lifetime net revenue at most this, in the store currency.")
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
    p_alive_min: float | None = strawberry.field(
        default=None, description="P(alive) from the latest CLV fit at least this (0–1); customers without a prediction never match."
    )
    p_alive_max: float | None = strawberry.field(
        default=None, description="P(alive) at most this (0–1), e.g. 0.3 for 'likely to churn'."
    )
    predicted_value_min: Decimal | None = strawberry.field(
        default=None, description="Predicted 12-month value at least this, in the store currency.")
    predicted_value_max: Decimal | None = strawberry.field(
        default=None, description="Predicted 12-month value at most this, in the store currency.")
    segment_id: strawberry.ID | None = strawberry.field(
        default=None, description="Also a member of this saved segment (its global id).")
    value_segments: list[ValueSegment] | None = strawberry.field(
        default=None, description="Spenders in any of these value segments (lifetime net revenue against the store's percentile thresholds, as `spenderSegments` counts them)."
    )
    frequency_segments: list[FrequencySegment] | None = strawberry.field(
        default=None, description="Spenders in any of these frequency segments (counted orders: one, repeat, frequent, as `spenderSegments` counts them)."
    )
    spender_segments_as_of: datetime.date | None = strawberry.field(
        default=None, description="Day the spender segments are computed at (default: the store's today)."
    )
    rfm: RfmFilterInput | None = strawberry.field(default=None, description="RFM segments or cells over a range.")

    def to_filter(self) -> CustomerFilter:
        """The service-side filter; a `UserError` names the input field that is wrong."""
        return parse_filter(filter_input_dict(self))


def _product_id(value: Any, field: str) -> int:
    number = parse_id(value)
    if number is None:
        raise FieldNotFound(f"`{field.split('.')[-2]}`: there is no product {str(value)[:40]!r} in this store.", field=field)
    return number


def filter_input_dict(value: CustomerFilterInput | None, argument: str = "filter") -> dict[str, Any]:
    """The set fields of a filter input as the service's JSON (snake_case keys).

    Ids are checked here: `segmentId` must be a segment's global id, `productIds` product ids (the
    values of the products facet); a `NotFound` names the input field by its path under `argument`.
    """
    if value is None:
        return {}
    data: dict[str, Any] = {}
    for name in CustomerFilter.model_fields:
        item = getattr(value, name, None)
        if item is None:
            continue
        if name == "search" and node_row_id(item, "Customer") is not None:
            item = str(node_row_id(item, "Customer"))  # the service finds a customer by its row id
        elif name == "product_ids":
            item = [_product_id(product_id, f"{argument}.productIds.{index}") for index, product_id in enumerate(item)]
        elif name == "segment_id":
            item = require_row_id(item, "Segment", f"{argument}.segmentId")
        elif name == "rfm":
            item = item.to_json()
        data[name] = item
    return data


def to_filter(value: CustomerFilterInput | None, argument: str = "filter") -> CustomerFilter:
    """The service filter of an optional input (none = every customer)."""
    return parse_filter(filter_input_dict(value, argument), argument)


def filter_as_input_json(filter: CustomerFilter) -> dict[str, Any]:
    """A saved filter in the shape of `CustomerFilter` input (camelCase keys), for clients to reuse."""
    out = {}
    for key, value in filter.to_json().items():
        if key == "rfm":
            rfm = dict(value)
            if "first_day" in rfm:
                rfm["range"] = {"from": rfm.pop("first_day"), "to": rfm.pop("last_day")}
            out["rfm"] = rfm
            continue
        head, *rest = key.split("_")
        out[head + "".join(part.title() for part in rest)] = [str(v) for v in value] if key == "product_ids" else (
            global_id("Segment", value) if key == "segment_id" else value
        )
    return out
