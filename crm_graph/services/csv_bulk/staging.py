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
    """COPY every row the kind's reader yields into the staging table; returns the number of rows."""
    names = [column.name for column in kind.columns]
    heads = [i for i, name in enumerate(names) if name in layout.group_fields]
    plain = [i for i, name in enumerate(names) if name not in layout.group_fields]
    row_typed = [(names.index(t.column), t.shape) for t in layout.typed if t.column not in layout.group_fields]
    head_typed = [(names.index(t.column), t.shape) for t in layout.typed if t.column in layout.group_fields]
    row_typed_text = _typed_cells(row_typed)
    head_typed_text = _typed_cells(head_typed)
    i_group = names.index(layout.group) if layout.group else None
    i_phone = names.index("phone") if "phone" in names else None
    i_country = names.index("country") if "country" in names else None
    pick_plain = _picker(plain)
    pick_head = _picker(heads)
    # The COPY column order: the columns every row carries, then phone_norm and the group's columns.
    columns = ["line", "run_pos", "bad", *(names[i] for i in plain), *(f"{names[i]}_t" for i, _ in row_typed),
               "phone_norm", *(names[i] for i in heads), *(f"{names[i]}_t" for i, _ in head_typed)]
    blank_head = "\t\\N" + "\t" * len(heads) + "\t\\N" * len(head_typed)
    blank_row = "\t".join([""] * len(plain) + ["\\N"] * len(row_typed)) + blank_head
    driver = session.connection().connection.driver_connection
    statement = f"COPY {STAGE} ({', '.join(chr(34) + n + chr(34) for n in columns)}) FROM STDIN"
    count = 0
    previous: str | None = None
    run_pos = 0
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        block: list[str] = []
        size = 0
        for line, values in kind.rows(stream, mapping):
            if isinstance(values, ValueError):
                text = f"{line}\t1\t{_escape(str(values))}\t{blank_row}\n"
                previous = None
            else:
                key = values[i_group] if i_group is not None else None
                if key is not None and key == previous:
                    run_pos += 1
                    head = blank_head
                else:
                    run_pos, previous = 1, key
                    phone = "\\N"
                    if i_phone is not None and values[i_phone]:
                        phone = _phone(values[i_phone], values[i_country] if i_country is not None else "")
                    head = "\t" + phone
                    if heads:
                        head += "\t" + _join(pick_head(values))
                    if head_typed:
                        head += "\t" + head_typed_text(values)
                body = _join(pick_plain(values))
                if row_typed:
                    body += "\t" + row_typed_text(values)
                text = f"{line}\t{run_pos}\t\\N\t{body}{head}\n"
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


def _typed_cells(typed: list[tuple[int, re.Pattern]]) -> Callable[[tuple], str]:
    """A function giving the COPY text of a row's typed columns: the cell where it has the column's
    shape, NULL where it does not. One pattern tries the whole row first (the usual case), each cell
    is tried on its own only when that fails."""
    if not typed:
        return lambda values: ""
    pick = _picker([index for index, _ in typed])
    whole = re.compile("\t".join(f"(?:{shape.pattern})?" for _, shape in typed), re.ASCII).fullmatch
    each = [shape.fullmatch for _, shape in typed]

    def text(values: tuple) -> str:
        cells = pick(values)
        joined = "\t".join(cells)
        if whole(joined):
            return joined if "" not in cells else "\t".join([cell or "\\N" for cell in cells])
        return "\t".join([cell if match(cell) else "\\N" for cell, match in zip(cells, each)])

    return text


def _join(values: tuple[str, ...]) -> str:
    """Cells as COPY text: tab-separated, with backslashes, tabs and line breaks escaped."""
    joined = "\x00".join(values)  # the reader lets no NUL through
    if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
        joined = joined.translate(_ESCAPES)
    return joined.replace("\x00", "\t")


def _escape(value: str) -> str:
    return value.translate(_ESCAPES)


def _phone(value: str, country: str) -> str:
    """The phone in E.164 where possible (as the record import stores it), or NULL when it is not one."""
    try:
        return _escape(normalise.phone(value, normalise.country(country)) or "") or "\\N"
    except ValueError:
        return "\\N"
