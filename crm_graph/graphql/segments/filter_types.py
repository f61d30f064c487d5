"""The saved filter of a segment as GraphQL output: the `CustomerFilter` input's fields, typed.

A client reads `Segment.filter` and can send the same values back as a `CustomerFilter` input
(to list the members with more conditions, or to save a changed copy): every input field has an
output field of the same name and value, except that amount bounds are `Money` in the store's
currency (send their `amount`) and a saved range of the RFM filter is a `SavedDateRange`.
Conditions that are not set are null.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

import strawberry

from crm_graph.graphql.customers.filters import FrequencySegment, RevenueBand, ValueSegment
from crm_graph.graphql.dates import DatePreset
from crm_graph.graphql.enums import ConsentBucket, Gender, RfmScheme
from crm_graph.graphql.relay import global_id
from crm_graph.graphql.rfm.types import RfmCellPositionType, RfmSegment
from crm_graph.graphql.values import MoneyType, optional_money
from crm_graph.services.filters import MAX_LIST, CustomerFilter, RfmFilter

_LIST = f"(at most {MAX_LIST:,})"


@strawberry.type(name="SavedDateRange", description="A range of local days of the store, both ends inclusive.")
class SavedDateRangeType:
    from_: datetime.date = strawberry.field(name="from", description="First day of the range (inclusive).")
    to: datetime.date = strawberry.field(description="Last day of the range (inclusive).")


@strawberry.type(name="SavedRfmFilter", description="The RFM condition of a saved filter, as the `RfmFilter` input has it.")
class SavedRfmFilterType:
    date_range: SavedDateRangeType | None = strawberry.field(
        name="range", description="Range the grid is computed over; null when `preset` is used.")
    preset: DatePreset | None = strawberry.field(
        description="Preset range, kept relative (the segment moves with the days); null when `range` is used. "
        "Both null: LAST_30_DAYS.")
    scheme: RfmScheme | None = strawberry.field(description="Scoring scheme; null: the store's.")
    segments: list[RfmSegment] | None = strawberry.field(
        description=f"Any of these segments, each once (at most {len(RfmSegment)}); null: no segment condition.")
    cells: list[RfmCellPositionType] | None = strawberry.field(
        description="Any of these (r, fm) cells (at most 25); null: no cell condition.")

    @classmethod
    def from_model(cls, rfm: RfmFilter) -> SavedRfmFilterType:
        """The GraphQL view of a saved RFM condition."""
        date_range = None
        if rfm.first_day is not None and rfm.last_day is not None:
            date_range = SavedDateRangeType(from_=rfm.first_day, to=rfm.last_day)
        return cls(
            date_range=date_range,
            preset=DatePreset(rfm.preset) if rfm.preset is not None else None,
            scheme=RfmScheme(rfm.scheme) if rfm.scheme is not None else None,
            segments=None if rfm.segments is None else [RfmSegment(name) for name in _once(rfm.segments)],
            cells=None if rfm.cells is None else [RfmCellPositionType(r=cell.r, fm=cell.fm) for cell in rfm.cells],
        )


@strawberry.type(
    name="SavedCustomerFilter",
    description="A saved customer filter, field for field as the `CustomerFilter` input that made it; a condition "
    "that is not set is null. Amount bounds are money in the store's currency.",
)
class SavedCustomerFilterType:
    search: str | None = strawberry.field(description="Prefix of an email, phone, name or id.")
    countries: list[str] | None = strawberry.field(description=f"ISO 3166-1 alpha-2 codes {_LIST}.")
    cities: list[str] | None = strawberry.field(description=f"City names, case-insensitive {_LIST}.")
    product_ids: list[strawberry.ID] | None = strawberry.field(
        description=f"Bought any of these products in a counted order {_LIST}.")
    tags: list[str] | None = strawberry.field(description=f"Carries any of these tags now {_LIST}.")
    email_consent: list[ConsentBucket] | None = strawberry.field(description=f"Current EMAIL consent bucket {_LIST}.")
    sms_consent: list[ConsentBucket] | None = strawberry.field(description=f"Current SMS consent bucket {_LIST}.")
    genders: list[Gender] | None = strawberry.field(description=f"Any of these genders {_LIST}.")
    identified: bool | None = strawberry.field(
        description="True: has an email, phone or account; false: anonymous visitors.")
    spent_min: MoneyType | None = strawberry.field(description="Lifetime net revenue at least this (store currency).")
    spent_max: MoneyType | None = strawberry.field(description="Lifetime net revenue at most this (store currency).")
    orders_min: int | None = strawberry.field(description="At least this many counted orders.")
    orders_max: int | None = strawberry.field(description="At most this many counted orders.")
    customer_since_from: datetime.date | None = strawberry.field(description="First seen on or after this day.")
    customer_since_to: datetime.date | None = strawberry.field(description="First seen on or before this day.")
    last_activity_from: datetime.date | None = strawberry.field(description="Last activity on or after this day.")
    last_activity_to: datetime.date | None = strawberry.field(description="Last activity on or before this day.")
    never_active: bool | None = strawberry.field(description="True: no activity ever recorded; false: some activity.")
    revenue_bands: list[RevenueBand] | None = strawberry.field(description=f"Any of these revenue bands {_LIST}.")
    p_alive_min: float | None = strawberry.field(description="P(alive) from the latest CLV fit at least this (0–1).")
    p_alive_max: float | None = strawberry.field(description="P(alive) from the latest CLV fit at most this (0–1).")
    predicted_value_min: MoneyType | None = strawberry.field(
        description="Predicted 12-month value at least this (store currency).")
    predicted_value_max: MoneyType | None = strawberry.field(
        description="Predicted 12-month value at most this (store currency).")
    segment_id: strawberry.ID | None = strawberry.field(description="Also a member of this saved segment (its global id).")
    value_segments: list[ValueSegment] | None = strawberry.field(description=f"Spenders in any of these value segments {_LIST}.")
    frequency_segments: list[FrequencySegment] | None = strawberry.field(
        description=f"Spenders in any of these frequency segments {_LIST}.")
    spender_segments_as_of: datetime.date | None = strawberry.field(
        description="Day the spender segments are computed at; null: the store's today.")
    rfm: SavedRfmFilterType | None = strawberry.field(description="RFM segments or cells over a range.")

    @classmethod
    def from_model(cls, filter: CustomerFilter, currency: str) -> SavedCustomerFilterType:
        """The GraphQL view of a saved filter; amounts are in `currency` (the store's)."""
        f = filter
        return cls(
            search=f.search, countries=f.countries, cities=f.cities,
            product_ids=None if f.product_ids is None else [strawberry.ID(str(value)) for value in f.product_ids],
            tags=f.tags,
            email_consent=_enums(ConsentBucket, f.email_consent), sms_consent=_enums(ConsentBucket, f.sms_consent),
            genders=_enums(Gender, f.genders), identified=f.identified,
            spent_min=optional_money(f.spent_min, currency), spent_max=optional_money(f.spent_max, currency),
            orders_min=f.orders_min, orders_max=f.orders_max,
            customer_since_from=f.customer_since_from, customer_since_to=f.customer_since_to,
            last_activity_from=f.last_activity_from, last_activity_to=f.last_activity_to,
            never_active=f.never_active, revenue_bands=_enums(RevenueBand, f.revenue_bands),
            p_alive_min=f.p_alive_min, p_alive_max=f.p_alive_max,
            predicted_value_min=optional_money(f.predicted_value_min, currency),
            predicted_value_max=optional_money(f.predicted_value_max, currency),
            segment_id=None if f.segment_id is None else global_id("Segment", f.segment_id),
            value_segments=_enums(ValueSegment, f.value_segments),
            frequency_segments=_enums(FrequencySegment, f.frequency_segments),
            spender_segments_as_of=f.spender_segments_as_of,
            rfm=None if f.rfm is None else SavedRfmFilterType.from_model(f.rfm),
        )


def _enums(kind: Any, values: Iterable[Any] | None) -> list[Any] | None:
    return None if values is None else [kind(str(getattr(value, "value", value))) for value in values]


def _once(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
