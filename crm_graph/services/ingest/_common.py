"""Helpers the ingestion steps share: batch counters, chunked IN look-ups, dialect inserts, COPY."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import JSON, BigInteger, Integer, Table, Text, any_, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import Boolean
from sqlmodel import Session

from crm_graph.connectors.records import RecordError

T = TypeVar("T")

#: Keys of an IN (...) list per statement; well under SQLite's limit on bound parameters.
IN_CHUNK = 2000


class InValues(ColumnElement):
    """``column IN (values)``; on PostgreSQL ``column = ANY(:array)``, one parameter however many values.

    Thousands of separate parameters cost more to send and to parse than the query itself; an array
    is one parameter.
    """

    inherit_cache = False
    type = Boolean()

    def __init__(self, column, values) -> None:
        self.column = column
        self.values = list(values)


@compiles(InValues)
def _in_values_default(element, compiler, **kw):
    return compiler.process(element.column.in_(element.values), **kw)


@compiles(InValues, "postgresql")
def _in_values_postgresql(element, compiler, **kw):
    item = BigInteger() if isinstance(element.column.type, Integer) else Text()
    array = bindparam(None, value=element.values, type_=postgresql.ARRAY(item))
    return compiler.process(element.column == any_(array), **kw)


def in_values(column, values) -> InValues:
    """`column` is one of `values` (see `InValues`)."""
    return InValues(column, values)


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


#: From this many rows on, PostgreSQL gets COPY instead of a multi-row INSERT.
COPY_FROM = 50


def _copy(session: Session, table: Table, rows: list[dict[str, Any]], columns: Sequence[str], *,
          into: str | None = None) -> None:
    """COPY `rows` into `table` (or into the table named `into`, with `table`'s column types)."""
    from psycopg.types.json import Jsonb

    driver = session.connection().connection.driver_connection
    names = ", ".join(columns)
    json_columns = [column for column in columns if isinstance(table.c[column].type, JSON)]
    with driver.cursor() as cursor:
        with cursor.copy(f"COPY {into or table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                if json_columns:
                    row = {**row, **{c: Jsonb(row[c]) for c in json_columns if row[c] is not None}}
                copy.write_row([row[column] for column in columns])


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]], columns: Sequence[str] | None = None
                ) -> None:
    """Insert many rows that need no ids back: COPY on PostgreSQL (fastest), executemany elsewhere."""
    if not rows:
        return
    if is_postgres(session) and len(rows) >= COPY_FROM:
        _copy(session, table, rows, columns or list(rows[0]))
        return
    session.execute(table.insert(), rows)


_column_types: dict[str, dict[str, str]] = {}


def insert_many(session: Session, table: Table, rows: list[dict[str, Any]], *, skip_conflicts: bool = False,
                returning: Sequence[str] = ()) -> list | None:
    """Insert rows (skipping those that conflict with a unique key, when asked) in ONE statement on PostgreSQL.

    An executemany is one statement per row there, and the statement-level triggers of the event
    tables (current consent states, stale stored figures) then run once per row: most of an import's
    time. Here the rows go as one array per column into ``INSERT ... SELECT * FROM unnest(...)``, or
    from `COPY_FROM` rows on by COPY into a temporary table (`_insert_staged`), so the triggers run once
    per batch. Elsewhere (SQLite, row-level triggers) an executemany.

    `returning` (PostgreSQL only) names columns of the rows actually inserted to return.
    """
    if not rows:
        return [] if returning else None
    if returning and not is_postgres(session):
        raise ValueError("insert_many: returning is for PostgreSQL only")
    if not is_postgres(session):
        statement = insert_for(session, table)
        session.execute(statement.on_conflict_do_nothing() if skip_conflicts else statement, rows)
        return
    types = _column_types.get(table.name)
    if types is None:
        types = _column_types[table.name] = dict(session.execute(text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"),
            {"table": table.name}).all())
    columns = list(rows[0])
    if len(rows) >= COPY_FROM:
        return _insert_staged(session, table, rows, columns, types, skip_conflicts, returning)
    arrays = ", ".join(f"CAST(:c{i} AS {types[column]}[])" for i, column in enumerate(columns))
    statement = (f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
                 + (" ON CONFLICT DO NOTHING" if skip_conflicts else "")
                 + (f" RETURNING {', '.join(returning)}" if returning else ""))
    result = session.execute(text(statement), {f"c{i}": [row[column] for row in rows]
                                               for i, column in enumerate(columns)})
    return result.all() if returning else None


def _insert_staged(session: Session, table: Table, rows: list[dict[str, Any]], columns: list[str],
                   types: dict[str, str], skip_conflicts: bool, returning: Sequence[str]) -> list | None:
    """`insert_many` of many rows on PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT.

    Still one statement on the target table (its statement-level triggers run once), but the rows
    travel by COPY, which psycopg formats in C: sending them as one array parameter per column
    formats every value in Python, which cost more than the database's whole work for the batch.
    """
    names = ", ".join(columns)
    stage = f"insert_stage_{table.name}_{zlib.crc32(names.encode()):08x}"
    session.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ("
                         + ", ".join(f"{column} {types[column]}" for column in columns) + ") ON COMMIT DROP"))
    _copy(session, table, rows, columns, into=stage)
    result = session.execute(text(
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage}"
        + (" ON CONFLICT DO NOTHING" if skip_conflicts else "")
        + (f" RETURNING {', '.join(returning)}" if returning else "")))
    inserted = result.all() if returning else None
    session.execute(text(f"TRUNCATE {stage}"))  # a second insert in the same transaction starts empty
    return inserted


_sequences: dict[str, str] = {}


def insert_returning_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows and return their new ids in the rows' order.

    On PostgreSQL the ids are drawn from the table's sequence first and the rows COPYed with them;
    elsewhere an INSERT ... RETURNING keeps the parameters' order.
    """
    if not rows:
        return []
    if is_postgres(session) and len(rows) >= COPY_FROM:
        sequence = _sequences.get(table.name)
        if sequence is None:
            sequence = _sequences[table.name] = session.execute(
                text(f"SELECT pg_get_serial_sequence('{table.name}', 'id')")).scalar_one()
        ids = session.execute(text("SELECT nextval(CAST(:sequence AS regclass)) FROM generate_series(1, :n)"),
                              {"sequence": sequence, "n": len(rows)}).scalars().all()
        for row, new_id in zip(rows, ids):
            row["id"] = new_id
        _copy(session, table, rows, list(rows[0]))
        return list(ids)
    return list(session.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows)
                .scalars().all())
