"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, DateTime, Integer, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

#: Primary and foreign keys: BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")

#: Free-form JSON: JSONB on PostgreSQL.
JsonType = JSON().with_variant(JSONB(), "postgresql")

#: Money: exact decimals with two places, returned as `Decimal`.
Money = Numeric(18, 2, asdecimal=True)

ZERO = Decimal("0.00")


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database.

    PostgreSQL stores ``timestamptz``; SQLite stores no zone, so values are converted to naive UTC on
    the way in and get UTC attached on the way out. Naive datetimes are refused: every timestamp in
    crm-graph is an instant.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: crm-graph stores only timezone-aware instants")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(timezone.utc)
