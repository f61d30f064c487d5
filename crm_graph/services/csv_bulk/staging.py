"""Stream a CSV file into a temporary staging table with COPY, one text column per column of the kind.

The kind's own row reader does the reading (BOM, `,` or `;`, quoting, header mapping, unreadable
rows), so the bulk import reads a file exactly as the record-by-record import does. Each row keeps
its line number; a row the reader could not read keeps its reason in `bad`. Phones are normalised
here (national numbers need the `phonenumbers` library, which SQL lacks) into `phone_norm`, on a
group's first row when the rows are grouped.

A `Layout` saves the database work that COPY can do while this process reads on:

- cells of a usual shape (`Typed`) are also sent to a typed column, which COPY reads in C, so SQL
  parses only the unusual ones;
- rows are grouped by a column (an order's rows by `order_id`): `run_pos` numbers the rows of a run
  of equal values, and the columns only a group's first row is read for are left empty on the
  run's other rows.

Memory stays flat: rows go to the server in blocks of about a megabyte.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from sqlmodel import Session

from crm_graph.connectors import normalise
from crm_graph.connectors.csv import CsvKind

STAGE = "csv_stage"

#: Bytes of COPY data sent per write.
_BLOCK = 1 << 20

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass(frozen=True)
class Typed:
    """Column `column` is also staged as `<column>_t` of `sql_type` when its cell fully matches `shape`
    (a shape COPY reads into that type without failing); otherwise `<column>_t` is NULL."""

    column: str
    sql_type: str
    shape: re.Pattern


@dataclass(frozen=True)
class Layout:
    """How a kind's rows are staged: typed columns, and the grouping of rows (see the module)."""

    typed: Sequence[Typed] = ()
    group: str | None = None
    group_fields: frozenset[str] = field(default_factory=frozenset)
    #: Columns that rows are grouped, sorted or joined by, compared byte by byte (``COLLATE "C"``):
    #: much cheaper than the database's linguistic order, and the same for equality.
    keys: frozenset[str] = field(default_factory=frozenset)


def create_stage(session: Session, columns: Sequence[str], layout: Layout = Layout()) -> None:
    """The staging table, dropped at the end of the transaction."""
    byte_order = ' COLLATE "C"'
    cells = ", ".join(f'"{name}" text{byte_order if name in layout.keys else ""} NOT NULL DEFAULT \'\''
                      for name in columns)
    typed = "".join(f', "{t.column}_t" {t.sql_type}' for t in layout.typed)
    session.connection().exec_driver_sql(
        f"CREATE TEMP TABLE {STAGE} (line bigint NOT NULL, run_pos int NOT NULL, bad text, phone_norm text, "
        f"{cells}{typed}) ON COMMIT DROP")


def copy_rows(session: Session, kind: CsvKind, stream: BinaryIO, mapping: dict[str, str],
              progress: Callable[[], None] | None = None, layout: Layout = Layout()) -> int:
    """COPY every row the kind's reader yields into the staging table; returns the number of rows.

    Only the columns the file has are sent: the others keep their defaults ('' and NULL).
    """
    present: set[str] = set()
    rows = kind.rows(stream, mapping, present)
    first = next(rows, None)  # reads the header, which fills `present`
    names = [column.name for column in kind.columns]
    heads = [i for i, name in enumerate(names) if name in layout.group_fields and name in present]
    plain = [i for i, name in enumerate(names) if name not in layout.group_fields and name in present]
    row_typed = [(names.index(t.column), t.shape) for t in layout.typed
                 if t.column not in layout.group_fields and t.column in present]
    head_typed = [(names.index(t.column), t.shape) for t in layout.typed
                  if t.column in layout.group_fields and t.column in present]
    row_text = _cells_text(plain, row_typed)
    head_text = _cells_text(heads, head_typed)
    i_group = names.index(layout.group) if layout.group else None
    i_phone = names.index("phone") if "phone" in present else None
    i_country = names.index("country") if "country" in present else None
    # The COPY column order: the columns every row carries (typed ones first), then phone_norm and the
    # group's columns.
    columns = ["line", "run_pos", "bad", *(f"{names[i]}_t" for i, _ in row_typed), *(names[i] for i in plain),
               "phone_norm", *(f"{names[i]}_t" for i, _ in head_typed), *(names[i] for i in heads)]
    blank_head = "\t\\N" + "\t\\N" * len(head_typed) + "\t" * len(heads)
    blank_row = "\t".join(["\\N"] * len(row_typed) + [""] * len(plain)) + blank_head
    with_head = bool(heads or head_typed)
    driver = session.connection().connection.driver_connection
    statement = f"COPY {STAGE} ({', '.join(chr(34) + n + chr(34) for n in columns)}) FROM STDIN"
    count = 0
    previous: str | None = None
    run_pos = 0
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        block: list[str] = []
        size = 0
        for line, values in itertools.chain(() if first is None else (first,), rows):
            if isinstance(values, ValueError):
                text = f"{line}\t1\t{_escape(str(values))}\t{blank_row}\n"
                previous = None
            else:
                key = values[i_group] if i_group is not None else None
                if key is not None and key == previous:
                    run_pos += 1
                    text = f"{line}\t{run_pos}\t\\N\t{row_text(values)}{blank_head}\n"
                else:
                    run_pos, previous = 1, key
                    phone = "\\N"
                    if i_phone is not None and values[i_phone]:
                        phone = _phone(values[i_phone], values[i_country] if i_country is not None else "")
                    head = f"\t{phone}\t{head_text(values)}" if with_head else f"\t{phone}"
                    text = f"{line}\t1\t\\N\t{row_text(values)}{head}\n"
            block.append(text)
            size += len(text)
            count += 1
            if size >= _BLOCK:
                copy.write("".join(block))
                block, size = [], 0
                if progress:
                    progress()
        if block:
            copy.write("".join(block))
    return count


def _picker(indexes: list[int]) -> Callable[[tuple], tuple]:
    if not indexes:
        return lambda values: ()
    if len(indexes) == 1:
        only = indexes[0]
        return lambda values: (values[only],)
    return operator.itemgetter(*indexes)


def _cells_text(cells: list[int], typed: list[tuple[int, re.Pattern]]) -> Callable[[tuple], str]:
    """A function giving the COPY text of a row's `typed` cells, each where it has its column's shape
    and NULL where it does not, followed by its `cells` as text. A usual row (every typed cell in
    shape or empty, nothing to escape) is checked in one go: a pattern over the typed cells at the
    start, then a search for characters to escape; only a row that fails is built cell by cell."""
    if not cells and not typed:
        return lambda values: ""
    width = len(typed)
    tabs = width + len(cells) - 1
    pick = _picker([*(index for index, _ in typed), *cells])
    ends = "\t" if cells else r"\Z"  # where a typed cell must end
    usual = re.compile("\t".join(f"(?:{shape.pattern})?" for _, shape in typed) + ends, re.ASCII).match
    each = [shape.fullmatch for _, shape in typed]

    def text(values: tuple) -> str:
        picked = pick(values)
        joined = "\t".join(picked)
        if (usual(joined) and joined.count("\t") == tabs
                and "\\" not in joined and "\n" not in joined and "\r" not in joined):
            if not typed or "" not in picked[:width]:
                return joined
            return "\t".join([*[cell or "\\N" for cell in picked[:width]], *picked[width:]])
        return "\t".join([*[cell if match(cell) else "\\N" for cell, match in zip(picked, each)],
                          *[cell.translate(_ESCAPES) for cell in picked[width:]]])

    return text


def _escape(value: str) -> str:
    return value.translate(_ESCAPES)


def _phone(value: str, country: str) -> str:
    """The phone in E.164 where possible (as the record import stores it), or NULL when it is not one."""
    try:
        return _escape(normalise.phone(value, _region(country)) or "") or "\\N"
    except ValueError:
        return "\\N"


def _region(country: str) -> str | None:
    """The ISO code of a country cell for reading national phone numbers (None when it names none)."""
    try:
        return normalise.iso_country(country)
    except ValueError:
        return None
