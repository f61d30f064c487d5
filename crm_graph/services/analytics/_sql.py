"""Small helpers for the analytics SQL: typed parameters, bucket indexes, shared fragments.

The analytics run as hand-written SQL (one statement per widget) because they are aggregates over
whole stores and must be fast on PostgreSQL while still running on SQLite. Instants are bound
through `UTCDateTime`, so comparisons work on both databases (SQLite stores naive UTC text).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Result
from sqlmodel import Session

from crm_graph.models.enums import CONSENT_BUCKET_OF_STATE, COUNTED_ORDER_STATUSES, ConsentBucket
from crm_graph.models.types import UTCDateTime

#: ``'PAID', 'COMPLETED', 'REFUNDED'``: the statuses of counted orders, as an SQL list.
COUNTED_SQL = ", ".join(f"'{status}'" for status in COUNTED_ORDER_STATUSES)

#: A customer is identified when it has an email, a phone or a store account (SPEC §2).
IDENTIFIED_SQL = (
    "((c.email IS NOT NULL AND c.email <> '') OR (c.phone IS NOT NULL AND c.phone <> '') OR c.has_account)"
)

CENT = Decimal("0.01")

#: Memory PostgreSQL may use per sort or hash of an analytics statement (`SET LOCAL`, this transaction
#: only). The default 4MB makes the sorts and hashes over a million customers spill to disk.
ANALYTICS_WORK_MEM = "256MB"


def tune_for_analytics(session: Session) -> None:
    """Give this transaction's analytics statements enough memory (PostgreSQL; nothing on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{ANALYTICS_WORK_MEM}'"))


def states_of(bucket: ConsentBucket) -> str:
    """The consent states of a dashboard bucket, as an SQL list."""
    return ", ".join(f"'{state.value}'" for state, b in CONSENT_BUCKET_OF_STATE.items() if b is bucket)


def money(value: Any) -> Decimal:
    """A money amount read from SQL as a Decimal with two places (SQLite returns floats)."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(CENT)


def money_up(value: Any) -> Decimal:
    """A threshold rounded up to the cent: for amounts in whole cents, `v >= t` iff `v >= money_up(t)`."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_CEILING)


class SqlQuery:
    """One analytics statement under construction: its typed bind parameters and dialect."""

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
        """Run the statement with the parameters bound so far."""
        tune_for_analytics(self.session)
        return self.session.execute(text(sql).bindparams(*self._binds.values()))


def cumulate(deltas: dict[int, int], points: int) -> list[int]:
    """Counts as of each of `points` ends from deltas keyed by bucket index (see `bucket_index`)."""
    counts, running = [], 0
    for j in range(points):
        running += deltas.get(j, 0)
        counts.append(running)
    return counts
