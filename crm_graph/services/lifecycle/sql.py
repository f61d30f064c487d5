"""SQL building blocks shared by the lifecycle metrics, for SQLite and PostgreSQL alike.

Lifecycle metrics work on the store's local days and months, so the SQL needs the local day of an
instant. PostgreSQL converts with ``AT TIME ZONE``; SQLite has no time zones, so `prepare`
registers two small functions on the SQLite connection that do the same conversion with
`zoneinfo`. Days and months are numbered (days since 1970-01-01, months since year 0) so that
differences are plain integer arithmetic on both databases.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import TextClause, bindparam, text
from sqlmodel import Session

from crm_graph.models.enums import COUNTED_ORDER_STATUSES
from crm_graph.models.types import UTCDateTime

EPOCH = date(1970, 1, 1)
_EPOCH_ORDINAL = EPOCH.toordinal()

#: `status IN (...)` of counted orders (SPEC §2), safe to inline: the values are our own constants.
COUNTED = ", ".join(f"'{status}'" for status in COUNTED_ORDER_STATUSES)


def day_number(day: date) -> int:
    """Days since 1970-01-01 of a local day (what `local_day_sql` yields)."""
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
    """Ready the session's connection for lifecycle SQL; return the dialect name.

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


#: Memory PostgreSQL may use per sort or hash of one heavy lifecycle query (the default 4 MB makes
#: grouping a million customers spill to disk many times over).
ANALYTICS_WORK_MEM = "256MB"


def tune_for_analytics(session: Session) -> None:
    """On PostgreSQL, give this transaction's heavy aggregations room in memory and skip JIT.

    `SET LOCAL` ends with the transaction, so other work on the connection is unaffected. JIT
    compilation costs seconds on these queries and gains nothing on their simple expressions.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{ANALYTICS_WORK_MEM}'"))
        session.execute(text("SET LOCAL jit = off"))


def greatest_sql(dialect: str, *expressions: str) -> str:
    """The largest of the expressions (GREATEST on PostgreSQL, scalar MAX on SQLite)."""
    name = "GREATEST" if dialect == "postgresql" else "MAX"
    return f"{name}({', '.join(expressions)})"


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


def refunds_by_order_sql(until_param: str | None = ":until") -> str:
    """A subquery of (order_id, refunded): each order's refunds issued before `until_param`."""
    until = f" AND refunded_at < {until_param}" if until_param else ""
    return (
        "(SELECT order_id, SUM(amount) AS refunded FROM refund "
        f"WHERE store_id = :store_id{until} GROUP BY order_id)"
    )


def sql_text(sql: str, *instant_params: str) -> TextClause:
    """`text(sql)` whose parameters named in `instant_params` are bound as UTC instants.

    SQLite stores instants as naive UTC text; binding through `UTCDateTime` converts aware values the
    same way the columns were written, so comparisons are right on both databases.
    """
    return text(sql).bindparams(*(bindparam(name, type_=UTCDateTime) for name in instant_params))


def money(value) -> Decimal:
    """A database sum as money: Decimal with two places (SQLite returns floats; 0 for NULL)."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"))
