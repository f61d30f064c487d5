"""The SQL helpers every analytics and lifecycle statement shares, for SQLite and PostgreSQL alike.

One place for what used to be copied: the session tuning of heavy statements, the counted order
statuses and the identified-customer condition, money read back from SQL, local days and months of
UTC instants, and the bucket index of an instant among the ends of a series' periods.

Local days. Timestamps are stored in UTC; metrics are about the store's local days. Two ways:
- `local_day_number` (SQLAlchemy Core): applies the timezone's UTC offset from a short CASE over
  its transitions inside the interval the query reads (a 10-year range has at most ~21 of them),
  so SQLite needs no functions of its own.
- `local_day_sql` / `local_month_sql` (text SQL): ``AT TIME ZONE`` on PostgreSQL and, on SQLite,
  two functions `prepare` registers on the connection.
Days and months are numbered (days since 1970-01-01, months since year 0), so that differences are
plain integer arithmetic on both databases.

Instants are bound through `UTCDateTime` (`SqlQuery.instant`, `sql_text`), so comparisons work on
both databases (SQLite stores naive UTC text).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, TextClause, bindparam, case, literal, text
from sqlalchemy.engine import Result
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session

from crm_graph.models.enums import CONSENT_BUCKET_OF_STATE, COUNTED_ORDER_STATUSES, ConsentBucket
from crm_graph.models.types import UTCDateTime

# --- Session tuning --------------------------------------------------------------------------------

#: Memory PostgreSQL may use per sort or hash of an analytics statement. The default 4 MB makes the
#: sorts and hashes over a million customers spill to disk many times over.
ANALYTICS_WORK_MEM = "256MB"

#: The `SET LOCAL` statements of `tune_for_analytics` (this transaction only), for callers that run
#: SQL on the driver connection directly (the bulk CSV loader).
TUNING_STATEMENTS = (f"SET LOCAL work_mem = '{ANALYTICS_WORK_MEM}'", "SET LOCAL jit = off")


def tune_for_analytics(session: Session) -> None:
    """On PostgreSQL, give this transaction's heavy statements room in memory and skip JIT.

    `SET LOCAL` ends with the transaction, so other work on the connection is unaffected. JIT
    compilation of these wide statements costs more (0.5 s to seconds) than it saves on their simple
    expressions. Nothing on SQLite.
    """
    if session.get_bind().dialect.name == "postgresql":
        for statement in TUNING_STATEMENTS:
            session.execute(text(statement))


# --- Shared conditions -----------------------------------------------------------------------------

#: ``'PAID', 'COMPLETED', 'REFUNDED'``: the statuses of counted orders (docs/metrics.md, “Who is counted”), as an SQL list.
COUNTED_SQL = ", ".join(f"'{status}'" for status in COUNTED_ORDER_STATUSES)

#: A customer is identified when it has an email, a phone or a store account (docs/metrics.md, “Who is counted”).
IDENTIFIED_SQL = (
    "((c.email IS NOT NULL AND c.email <> '') OR (c.phone IS NOT NULL AND c.phone <> '') OR c.has_account)"
)


def states_of(bucket: ConsentBucket) -> str:
    """The consent states of a dashboard bucket, as an SQL list."""
    return ", ".join(f"'{state.value}'" for state, b in CONSENT_BUCKET_OF_STATE.items() if b is bucket)


def refunds_by_order_sql(until_param: str | None = ":until") -> str:
    """A subquery of (order_id, refunded): each order's refunds issued before `until_param`."""
    until = f" AND refunded_at < {until_param}" if until_param else ""
    return (
        "(SELECT order_id, SUM(amount) AS refunded FROM refund "
        f"WHERE store_id = :store_id{until} GROUP BY order_id)"
    )


# --- Money -----------------------------------------------------------------------------------------

CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    """A money amount read from SQL as a Decimal with two places (SQLite returns floats; 0 for NULL)."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(CENT)


def money_up(value: Any) -> Decimal:
    """A threshold rounded up to the cent: for amounts in whole cents, `v >= t` iff `v >= money_up(t)`."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_CEILING)


# --- Text statements -------------------------------------------------------------------------------


def sql_text(sql: str, *instant_params: str) -> TextClause:
    """`text(sql)` whose parameters named in `instant_params` are bound as UTC instants."""
    return text(sql).bindparams(*(bindparam(name, type_=UTCDateTime) for name in instant_params))


def greatest_sql(dialect: str, *expressions: str) -> str:
    """The largest of the expressions (GREATEST on PostgreSQL, scalar MAX on SQLite)."""
    name = "GREATEST" if dialect == "postgresql" else "MAX"
    return f"{name}({', '.join(expressions)})"


class SqlQuery:
    """One text statement under construction: its typed bind parameters and dialect."""

    def __init__(self, session: Session, store_id: int) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self._binds: dict[str, Any] = {}
        self.value("store_id", store_id)

    @property
    def postgres(self) -> bool:
        """Whether the statement runs on PostgreSQL (else SQLite)."""
        return self.dialect == "postgresql"

    def value(self, name: str, value: Any) -> str:
        """Bind a plain value; returns its placeholder."""
        self._binds[name] = bindparam(name, value)
        return f":{name}"

    def instant(self, name: str, value: datetime) -> str:
        """Bind a UTC instant; returns its placeholder."""
        self._binds[name] = bindparam(name, value, type_=UTCDateTime)
        return f":{name}"

    def bucket_index(self, column: str, ends: Sequence[datetime], name: str = "ends") -> str:
        """SQL for the number of `ends` (ascending instants) that are <= `column`.

        A value counts "as of" the j-th end (1-based) exactly when this index is below j. PostgreSQL
        uses `width_bucket` over an array (a binary search); SQLite a CASE over the ends.
        """
        if self.postgres:
            self._binds[name] = bindparam(name, list(ends))
            return f"width_bucket({column}, CAST(:{name} AS timestamptz[]))"
        whens = " ".join(
            f"WHEN {column} < {self.instant(f'{name}_{i}', end)} THEN {i}" for i, end in enumerate(ends)
        )
        return f"(CASE WHEN {column} IS NULL THEN NULL {whens} ELSE {len(ends)} END)"

    def execute(self, sql: str) -> Result:
        """Run the statement with the parameters bound so far (in a tuned transaction)."""
        tune_for_analytics(self.session)
        return self.session.execute(text(sql).bindparams(*self._binds.values()))


def cumulate(deltas: dict[int, int], points: int) -> list[int]:
    """Counts as of each of `points` ends from deltas keyed by bucket index (see `SqlQuery.bucket_index`)."""
    counts, running = [], 0
    for j in range(points):
        running += deltas.get(j, 0)
        counts.append(running)
    return counts


# --- Day and month numbers -------------------------------------------------------------------------

EPOCH = date(1970, 1, 1)
_EPOCH_ORDINAL = EPOCH.toordinal()
_SECONDS_PER_DAY = 86400


def day_number(day: date) -> int:
    """Days since 1970-01-01 of a local day (what `local_day_number` and `local_day_sql` yield)."""
    return day.toordinal() - _EPOCH_ORDINAL


def day_from_number(number: int) -> date:
    """The local day of a day number."""
    return date.fromordinal(int(number) + _EPOCH_ORDINAL)


def month_number(day: date) -> int:
    """Months since January of year 0 of a day's month (what `local_month_sql` yields)."""
    return day.year * 12 + day.month - 1


def month_from_number(number: int) -> date:
    """The first day of a month number."""
    return date(int(number) // 12, int(number) % 12 + 1, 1)


# --- Local days in SQLAlchemy Core (no database functions needed) ----------------------------------


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


# --- Local days in text SQL (SQLite functions registered by `prepare`) -----------------------------


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(value: str | None, tz: str) -> date | None:
    if value is None:
        return None
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(_zone(tz)).date()


def _sqlite_day(value: str | None, tz: str) -> int | None:
    local = _local(value, tz)
    return None if local is None else local.toordinal() - _EPOCH_ORDINAL


def _sqlite_month(value: str | None, tz: str) -> int | None:
    local = _local(value, tz)
    return None if local is None else local.year * 12 + local.month - 1


def _safe_ln(value: float | None) -> float | None:
    return None if value is None or value <= 0 else math.log(value)


def _safe_exp(value: float | None) -> float | None:
    return None if value is None else math.exp(min(value, 700.0))


def prepare(session: Session) -> str:
    """Ready the session's connection for text SQL with local days; return the dialect name.

    SQLite gets the local-day functions (and `ln`/`exp` on builds without the math functions);
    PostgreSQL gets `tune_for_analytics`.
    """
    dialect = session.get_bind().dialect.name
    tune_for_analytics(session)
    if dialect == "sqlite":
        raw = session.connection().connection.driver_connection
        raw.create_function("crm_day_number", 2, _sqlite_day, deterministic=True)
        raw.create_function("crm_month_number", 2, _sqlite_month, deterministic=True)
        try:
            raw.execute("SELECT ln(1.0), exp(0.0)").fetchall()
        except sqlite3.OperationalError:
            raw.create_function("ln", 1, _safe_ln, deterministic=True)
            raw.create_function("exp", 1, _safe_exp, deterministic=True)
    return dialect


def local_day_sql(dialect: str, column: str, tz_param: str = ":tz") -> str:
    """SQL for the local day number of the instant `column` in the timezone bound to `tz_param`."""
    if dialect == "postgresql":
        return f"((({column}) AT TIME ZONE {tz_param})::date - DATE '1970-01-01')"
    return f"crm_day_number({column}, {tz_param})"


def local_month_sql(dialect: str, column: str, tz_param: str = ":tz") -> str:
    """SQL for the local month number of the instant `column` in the timezone bound to `tz_param`."""
    if dialect == "postgresql":
        local = f"(({column}) AT TIME ZONE {tz_param})"
        return f"(CAST(EXTRACT(YEAR FROM {local}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM {local}) AS INTEGER) - 1)"
    return f"crm_month_number({column}, {tz_param})"
