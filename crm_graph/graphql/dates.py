"""The date arguments every analytics field takes: `range`, `preset` and `granularity` (docs/metrics.md, “Dates”).

Declare the range argument as ``Annotated[DateRangeInput | None, strawberry.argument(name="range")]``
(a Python parameter called `range` would shadow the builtin), then turn the arguments into a
`ResolvedRange` with `resolve_range_arguments`.
"""

from __future__ import annotations

from datetime import date

import strawberry

from crm_graph.models import Store
from crm_graph.services import dates

DatePreset = strawberry.enum(
    dates.DatePreset,
    description=(
        "A range relative to the store's local today. LAST_N_DAYS = the N days ending today, today "
        "included; PREVIOUS_WEEK = the last full Monday–Sunday week; LAST_MONTH = the previous calendar "
        "month; YEAR_TO_DATE = 1 January to today. LAST_30_DAYS is the default."
    ),
)

Granularity = strawberry.enum(
    dates.Granularity,
    description="Period of a time series: DAY, WEEK (ISO, Monday to Sunday), MONTH or YEAR.",
)


@strawberry.input(
    name="DateRange",
    description=(
        "A range of local days of the store's timezone, both ends inclusive. At most "
        f"{dates.MAX_SPAN_YEARS} years; give either `range` or `preset`, not both."
    ),
)
class DateRangeInput:
    from_: date = strawberry.field(name="from", description="First day of the range (inclusive).")
    to: date = strawberry.field(description="Last day of the range (inclusive).")


RANGE_DESCRIPTION = "Explicit range of local days; exclusive with `preset`."
PRESET_DESCRIPTION = "A preset range; exclusive with `range`. Neither given: LAST_30_DAYS."
GRANULARITY_DESCRIPTION = f"Period of each point; at most {dates.MAX_POINTS} points per series."


def resolve_range_arguments(
    store: Store,
    date_range: DateRangeInput | None,
    preset: dates.DatePreset | None,
    *,
    today: date | None = None,
) -> dates.ResolvedRange:
    """Turn a field's `range` and `preset` arguments into a validated `ResolvedRange`.

    Raises `UserError` (a GraphQL error with code BAD_USER_INPUT naming the argument) on bad input.
    """
    explicit = None if date_range is None else dates.DateRange(date_range.from_, date_range.to)
    return dates.resolve_range(store, explicit, preset, today=today)
