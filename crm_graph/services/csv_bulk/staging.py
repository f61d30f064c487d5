"""Stream a CSV file into a temporary staging table with COPY, one text column per column of the kind.

The kind's own row reader does the reading (BOM, `,` or `;`, quoting, header mapping, unreadable
rows), so the bulk import reads a file exactly as the record-by-record import does. Each row keeps
its line number; a row the reader could not read keeps its reason in `bad`. Phones are normalised
here (national numbers need the `phonenumbers` library, which SQL lacks) into `phone_norm`.
Memory stays flat: rows go to the server in blocks of about a megabyte.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import BinaryIO

from sqlmodel import Session

from crm_graph.connectors import normalise
from crm_graph.connectors.csv import CsvKind

STAGE = "csv_stage"

#: Bytes of COPY data sent per write.
_BLOCK = 1 << 20

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def create_stage(session: Session, columns: Sequence[str]) -> None:
    """The staging table, dropped at the end of the transaction."""
    cells = ", ".join(f'"{name}" text NOT NULL DEFAULT \'\'' for name in columns)
    session.connection().exec_driver_sql(
        f"CREATE TEMP TABLE {STAGE} (line bigint NOT NULL, bad text, phone_norm text, {cells}) ON COMMIT DROP")


def copy_rows(session: Session, kind: CsvKind, stream: BinaryIO, mapping: dict[str, str],
              progress: Callable[[], None] | None = None) -> int:
    """COPY every row the kind's reader yields into the staging table; returns the number of rows."""
    names = [column.name for column in kind.columns]
    i_phone = names.index("phone") if "phone" in names else None
    i_country = names.index("country") if "country" in names else None
    empty = "\t".join("" for _ in names)
    driver = session.connection().connection.driver_connection
    statement = f"COPY {STAGE} (line, bad, phone_norm, {', '.join(chr(34) + n + chr(34) for n in names)}) FROM STDIN"
    count = 0
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        block: list[str] = []
        size = 0
        for line, values in kind.rows(stream, mapping):
            if isinstance(values, ValueError):
                text = f"{line}\t{_escape(str(values))}\t\\N\t{empty}\n"
            else:
                phone = "\\N"
                if i_phone is not None and values[i_phone]:
                    phone = _phone(values[i_phone], values[i_country] if i_country is not None else "")
                joined = "\x00".join(values)
                if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
                    joined = joined.translate(_ESCAPES)
                text = f"{line}\t\\N\t{phone}\t{joined.replace(chr(0), chr(9))}\n"
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


def _escape(value: str) -> str:
    return value.translate(_ESCAPES)


def _phone(value: str, country: str) -> str:
    """The phone in E.164 where possible (as the record import stores it), or NULL when it is not one."""
    try:
        return _escape(normalise.phone(value, normalise.country(country)) or "") or "\\N"
    except ValueError:
        return "\\N"
