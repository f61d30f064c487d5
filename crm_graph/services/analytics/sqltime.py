"""SQL expressions that put UTC instants on the store's local days, the same on SQLite and PostgreSQL.

Timestamps are stored in UTC; metrics are about local days of the store's timezone. SQLite knows
no timezones, so instead of ``AT TIME ZONE`` the offset is applied from a short CASE over the
timezone's transitions (DST changes) inside the interval the query looks at: a 10-year range has at
most ~21 of them. The day number of an instant is then ``(epoch seconds + offset) // 86400``.

Bucketing an instant into the periods of a time series compares it with the periods' UTC
boundaries through a balanced CASE tree (depth log2 of the number of periods).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from crm_graph.models.types import UTCDateTime

EPOCH_DAY = date(1970, 1, 1)
_SECONDS_PER_DAY = 86400


class epoch_seconds(FunctionElement):  # noqa: N801  (a SQL function reads best in lower case)
    """Whole seconds since 1970-01-01 UTC of a UTC timestamp column, as an integer."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "postgresql")
def _epoch_seconds_postgresql(element, compiler, **kw) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_seconds_sqlite(element, compiler, **kw) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def day_number(day: date) -> int:
    """Days since 1970-01-01 of a calendar day (what `local_day_number` yields for that local day)."""
    return (day - EPOCH_DAY).days


@lru_cache(maxsize=256)
def utc_offsets(tz_name: str, lo: datetime, hi: datetime) -> tuple[int, tuple[tuple[datetime, int], ...]]:
    """The UTC offset (seconds) of `tz_name` at `lo`, and each (instant, new offset) change in (lo, hi].

    Found by stepping a day at a time and bisecting to the second where the offset changed.
    """
    tz = ZoneInfo(tz_name)

    def offset(at: datetime) -> int:
        return int(at.astimezone(tz).utcoffset().total_seconds())

    first = offset(lo)
    changes: list[tuple[datetime, int]] = []
    current, at = first, lo
    while at < hi:
        step = min(at + timedelta(days=1), hi)
        if offset(step) != current:
            low, high = at, step  # offset(low) == current, offset(high) != current
            while (high - low) > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == current:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0) if offset(high.replace(microsecond=0)) != current else high
            current = offset(high)
            changes.append((high, current))
        at = step
    return first, tuple(changes)


def local_day_number(column: ColumnElement, tz_name: str, lo: datetime, hi: datetime) -> ColumnElement[int]:
    """The local day (days since 1970-01-01) in `tz_name` of the instants in `column`.

    Exact for instants in [lo, hi] (the interval the query reads); outside it the nearest known
    offset is used.
    """
    lo = lo.astimezone(timezone.utc) - timedelta(days=1)
    hi = hi.astimezone(timezone.utc) + timedelta(days=1)
    first, changes = utc_offsets(tz_name, lo, hi)
    if not changes:
        offset: ColumnElement = literal(first, Integer)
    else:
        # Latest change first: the first WHEN that holds gives the offset in force.
        whens = [(column >= literal(at, UTCDateTime), literal(value, Integer)) for at, value in reversed(changes)]
        offset = case(*whens, else_=literal(first, Integer))
    return (epoch_seconds(column) + offset) // _SECONDS_PER_DAY


def bucket_index(column: ColumnElement, boundaries: Sequence[datetime]) -> ColumnElement[int]:
    """The number of `boundaries` (sorted UTC instants) at or before each value of `column`.

    With the end instants of a time series' periods except the last, that is the index of the
    period an instant of the range falls in. A balanced CASE tree keeps it to log2(n) comparisons.
    """

    def tree(lo: int, hi: int) -> ColumnElement[int]:
        # Index in [lo, hi]: boundaries[lo:hi] decide it.
        if lo == hi:
            return literal(lo, Integer)
        middle = (lo + hi + 1) // 2  # value >= boundaries[middle - 1] means index >= middle
        return case(
            (column >= literal(boundaries[middle - 1], UTCDateTime), tree(middle, hi)),
            else_=tree(lo, middle - 1),
        )

    return tree(0, len(boundaries))
