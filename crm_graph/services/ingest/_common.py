"""Helpers the ingestion steps share: batch counters, chunked IN look-ups, dialect inserts, COPY."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from crm_graph.connectors.records import RecordError

T = TypeVar("T")

#: Keys of an IN (...) list per statement; well under SQLite's limit on bound parameters.
IN_CHUNK = 2000


@dataclass
class StepResult:
    """What one ingestion step did: counts by outcome, rejected records, customers whose figures moved."""

    counts: Counter = field(default_factory=Counter)
    errors: list[RecordError] = field(default_factory=list)
    touched_customers: set[int] = field(default_factory=set)
    activity_customers: set[int] = field(default_factory=set)

    def reject(self, record: str, reason: str, line: int | None = None) -> None:
        """Count a record as rejected and keep the reason."""
        self.counts["rejected"] += 1
        self.errors.append(RecordError(line=line, record=record, reason=reason))

    def merge(self, other: "StepResult") -> None:
        """Add another step's outcome to this one."""
        self.counts.update(other.counts)
        self.errors.extend(other.errors)
        self.touched_customers |= other.touched_customers
        self.activity_customers |= other.activity_customers


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fetch_in(session: Session, build, keys: Iterable[Any]) -> list:
    """Rows of ``build(chunk)`` for every chunk of the distinct `keys` (the statement takes an IN list)."""
    distinct = list(dict.fromkeys(key for key in keys if key is not None))
    rows: list = []
    for chunk in chunks(distinct):
        rows.extend(session.execute(build(chunk)).all())
    return rows


def insert_for(session: Session, table: Table):
    """An INSERT of the session's dialect, which has `on_conflict_do_nothing` / `..._do_update`."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    """Insert many rows that need no ids back: COPY on PostgreSQL (fastest), executemany elsewhere."""
    if not rows:
        return
    if is_postgres(session) and len(rows) >= 50:
        driver = session.connection().connection.driver_connection
        names = ", ".join(columns)
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[column] for column in columns])
        return
    session.execute(table.insert(), rows)
