"""Date ranges, presets, granularity buckets and comparisons (docs/metrics.md, “Dates”).

Every metric is asked about local days of the store's timezone. A range of local days
[first_day, last_day] (both inclusive) becomes the half-open UTC interval [start, end), where
`start` is the instant of local midnight at the beginning of `first_day` and `end` the instant of
local midnight after `last_day`. Because the instants are computed per day, a local day can last
23 or 25 hours across a DST change, and the metrics stay right.

"As of the end of day D" means: the state at the instant `day_end(D, tz)` (exclusive), i.e. every
event that occurred strictly before local midnight after D.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from crm_graph.errors import UserError

#: The most points a time series may have; over it the caller must choose a coarser granularity.
MAX_POINTS = 1000

#: The longest range (in years) a request may cover.
MAX_SPAN_YEARS = 10

#: Dates outside these years are refused (no real store has them, and day arithmetic stays safe).
MIN_YEAR, MAX_YEAR = 1900, 2999

#: KPI cards compare the end of the range with this many days earlier (edrone).
KPI_COMPARISON_DAYS = 30


class DatePreset(StrEnum):
    """A named range relative to the store's local today (docs/metrics.md, “Dates”)."""

    TODAY = "TODAY"
    YESTERDAY = "YESTERDAY"
    LAST_7_DAYS = "LAST_7_DAYS"
    PREVIOUS_WEEK = "PREVIOUS_WEEK"
    LAST_30_DAYS = "LAST_30_DAYS"
    LAST_MONTH = "LAST_MONTH"
    LAST_90_DAYS = "LAST_90_DAYS"
    LAST_365_DAYS = "LAST_365_DAYS"
    YEAR_TO_DATE = "YEAR_TO_DATE"


#: The preset used when a request gives neither a range nor a preset.
DEFAULT_PRESET = DatePreset.LAST_30_DAYS


class Granularity(StrEnum):
    """The width of the periods of a time series; WEEK is the ISO week (Monday to Sunday)."""

    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


class _HasTimezone(Protocol):
    timezone: str


@dataclass(frozen=True)
class DateRange:
    """An explicit range of local days, both inclusive (what a client sends as `range`)."""

    first_day: date
    last_day: date


@dataclass(frozen=True)
class ResolvedRange:
    """A validated range: local days [first_day, last_day] and UTC instants [start, end).

    `preset` is the preset it came from (None for an explicit range); `today` is the store's local
    today the range was resolved against.
    """

    first_day: date
    last_day: date
    start: datetime
    end: datetime
    tz: ZoneInfo
    preset: DatePreset | None = None
    today: date | None = None

    @property
    def days(self) -> int:
        """The number of local days in the range."""
        return (self.last_day - self.first_day).days + 1

    def day_end(self, day: date) -> datetime:
        """The UTC instant at which local `day` of this range's timezone ends."""
        return day_end(day, self.tz)


@dataclass(frozen=True)
class Bucket:
    """One period of a time series, clipped to the range it was cut from.

    `label` names the whole period (``2026-03-29``, ``2026-W13``, ``2026-03``, ``2026``);
    `first_day`/`last_day` are the local days of the period inside the range; `start`/`end` the UTC
    instants [start, end) of those days. Values "as of the end of the period" are taken at `end`.
    """

    label: str
    first_day: date
    last_day: date
    start: datetime
    end: datetime


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant of local midnight at the beginning of `day` in `tz`.

    When a DST jump skips midnight, the day starts at the jump (the first instant of the day).
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def day_end(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which local `day` ends (= the start of the next day), exclusive."""
    return day_start(day + timedelta(days=1), tz)


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    """The local day of `tz` that contains the instant."""
    return instant.astimezone(tz).date()


def store_today(store: _HasTimezone, now: datetime | None = None) -> date:
    """The store's local today (at `now`, default the current instant)."""
    tz = ZoneInfo(store.timezone)
    return (now or datetime.now(timezone.utc)).astimezone(tz).date()


def make_range(first_day: date, last_day: date, tz: ZoneInfo, *, preset: DatePreset | None = None,
               today: date | None = None) -> ResolvedRange:
    """A `ResolvedRange` of already valid days (no validation; see `resolve_range`)."""
    return ResolvedRange(first_day=first_day, last_day=last_day, start=day_start(first_day, tz),
                         end=day_end(last_day, tz), tz=tz, preset=preset, today=today)


def preset_days(preset: DatePreset, today: date) -> tuple[date, date]:
    """The first and last local day of `preset` on local `today`."""
    match preset:
        case DatePreset.TODAY:
            return today, today
        case DatePreset.YESTERDAY:
            day = today - timedelta(days=1)
            return day, day
        case DatePreset.LAST_7_DAYS:
            return today - timedelta(days=6), today
        case DatePreset.PREVIOUS_WEEK:
            this_monday = today - timedelta(days=today.weekday())
            return this_monday - timedelta(days=7), this_monday - timedelta(days=1)
        case DatePreset.LAST_30_DAYS:
            return today - timedelta(days=29), today
        case DatePreset.LAST_MONTH:
            last_day = today.replace(day=1) - timedelta(days=1)
            return last_day.replace(day=1), last_day
        case DatePreset.LAST_90_DAYS:
            return today - timedelta(days=89), today
        case DatePreset.LAST_365_DAYS:
            return today - timedelta(days=364), today
        case DatePreset.YEAR_TO_DATE:
            return today.replace(month=1, day=1), today
    raise AssertionError(f"unhandled preset {preset!r}")  # pragma: no cover


def _parse_preset(preset: DatePreset | str) -> DatePreset:
    try:
        return DatePreset(preset)
    except ValueError:
        names = ", ".join(p.value for p in DatePreset)
        raise UserError(f"`preset` {str(preset)!r} is not a known preset; use one of {names}.") from None


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, month=3, day=1)


def _as_range(date_range: DateRange | tuple[date, date]) -> DateRange:
    if isinstance(date_range, DateRange):
        return date_range
    first_day, last_day = date_range
    return DateRange(first_day, last_day)


def resolve_range(
    store: _HasTimezone,
    date_range: DateRange | tuple[date, date] | None = None,
    preset: DatePreset | str | None = None,
    today: date | None = None,
) -> ResolvedRange:
    """Validate a request's range or preset and turn it into local days and UTC instants.

    Neither given: the default preset (LAST_30_DAYS). Both given, `from` after `to`, a span over
    `MAX_SPAN_YEARS` years, a date outside the years 1900–2999 or an unknown preset raise a
    `UserError` naming the argument. `today` defaults to the store's local today.
    """
    tz = ZoneInfo(store.timezone)
    today = today or store_today(store)
    if date_range is not None and preset is not None:
        raise UserError("Give either `range` or `preset`, not both.")
    if date_range is None:
        chosen = _parse_preset(preset) if preset is not None else DEFAULT_PRESET
        first_day, last_day = preset_days(chosen, today)
        return make_range(first_day, last_day, tz, preset=chosen, today=today)
    date_range = _as_range(date_range)
    first_day, last_day = date_range.first_day, date_range.last_day
    for name, day in (("from", first_day), ("to", last_day)):
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise UserError(f"`range.{name}` {day.isoformat()} is outside the years {MIN_YEAR}–{MAX_YEAR}.")
    if first_day > last_day:
        raise UserError(
            f"`range.from` {first_day.isoformat()} is after `range.to` {last_day.isoformat()}; "
            "`from` must be on or before `to`."
        )
    if last_day >= _add_years(first_day, MAX_SPAN_YEARS):
        raise UserError(
            f"`range` from {first_day.isoformat()} to {last_day.isoformat()} spans more than "
            f"{MAX_SPAN_YEARS} years; ask for at most {MAX_SPAN_YEARS} years at a time."
        )
    return make_range(first_day, last_day, tz, today=today)


def previous_period(r: ResolvedRange) -> ResolvedRange:
    """The period of the same number of days immediately before `r` (Putler's comparison)."""
    last_day = r.first_day - timedelta(days=1)
    first_day = last_day - timedelta(days=r.days - 1)
    return make_range(first_day, last_day, r.tz, today=r.today)


def kpi_comparison_day(r: ResolvedRange) -> date:
    """The local day whose end KPI cards compare with: 30 days before the range's last day (edrone)."""
    return r.last_day - timedelta(days=KPI_COMPARISON_DAYS)


def _period_start(day: date, granularity: Granularity) -> date:
    match granularity:
        case Granularity.DAY:
            return day
        case Granularity.WEEK:
            return day - timedelta(days=day.weekday())
        case Granularity.MONTH:
            return day.replace(day=1)
        case Granularity.YEAR:
            return day.replace(month=1, day=1)
    raise AssertionError(f"unhandled granularity {granularity!r}")  # pragma: no cover


def _next_period_start(start: date, granularity: Granularity) -> date:
    match granularity:
        case Granularity.DAY:
            return start + timedelta(days=1)
        case Granularity.WEEK:
            return start + timedelta(days=7)
        case Granularity.MONTH:
            return date(start.year + start.month // 12, start.month % 12 + 1, 1)
        case Granularity.YEAR:
            return date(start.year + 1, 1, 1)
    raise AssertionError(f"unhandled granularity {granularity!r}")  # pragma: no cover


def _label(start: date, granularity: Granularity) -> str:
    match granularity:
        case Granularity.DAY:
            return start.isoformat()
        case Granularity.WEEK:
            year, week, _ = start.isocalendar()
            return f"{year}-W{week:02d}"
        case Granularity.MONTH:
            return f"{start.year}-{start.month:02d}"
        case Granularity.YEAR:
            return str(start.year)
    raise AssertionError(f"unhandled granularity {granularity!r}")  # pragma: no cover


def bucket_count(r: ResolvedRange, granularity: Granularity) -> int:
    """How many periods of `granularity` the range touches (without building them)."""
    first, last = r.first_day, r.last_day
    match Granularity(granularity):
        case Granularity.DAY:
            return r.days
        case Granularity.WEEK:
            return (_period_start(last, Granularity.WEEK) - _period_start(first, Granularity.WEEK)).days // 7 + 1
        case Granularity.MONTH:
            return (last.year - first.year) * 12 + last.month - first.month + 1
        case Granularity.YEAR:
            return last.year - first.year + 1
    raise AssertionError(f"unhandled granularity {granularity!r}")  # pragma: no cover


def buckets(r: ResolvedRange, granularity: Granularity | str = Granularity.DAY, *,
            max_points: int = MAX_POINTS) -> list[Bucket]:
    """The periods of `granularity` that cover the range, in order, clipped to the range.

    The first and last period may be partial (a range from a Wednesday in WEEK granularity starts
    with the days Wednesday–Sunday of that week). More than `max_points` periods raise a
    `UserError` naming `granularity` and the limit.
    """
    try:
        granularity = Granularity(granularity)
    except ValueError:
        names = ", ".join(g.value for g in Granularity)
        raise UserError(f"`granularity` {str(granularity)!r} is not one of {names}.") from None
    count = bucket_count(r, granularity)
    if count > max_points:
        raise UserError(
            f"`granularity` {granularity.value} over {r.days} days gives {count} points, more than the "
            f"limit of {max_points}; choose a coarser granularity or a shorter range."
        )
    result: list[Bucket] = []
    period = _period_start(r.first_day, granularity)
    start_instant = r.start
    while period <= r.last_day:
        following = _next_period_start(period, granularity)
        first_day = max(period, r.first_day)
        last_day = min(following - timedelta(days=1), r.last_day)
        end_instant = day_end(last_day, r.tz)
        result.append(Bucket(label=_label(period, granularity), first_day=first_day, last_day=last_day,
                             start=start_instant, end=end_instant))
        start_instant = end_instant
        period = following
    return result
