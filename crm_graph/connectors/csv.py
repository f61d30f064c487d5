"""The contract of a CSV kind: a documented header and a reader that yields records or row errors.

Plugins register kinds with `register_csv_kinds` and ready-made header mappings (for a platform's
export) with `register_csv_mappings`; `crm_graph.services.csv_import.import_csv` batches what a kind
reads into the ingestion pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from crm_graph.connectors.records import Record, RecordError


@dataclass(frozen=True, slots=True)
class CsvColumn:
    """One column of a kind's header."""

    name: str
    required: bool
    description: str
    #: The longest cell the database column behind it holds (ids, emails); a longer one rejects the row.
    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class CsvContext:
    """What a CSV reader needs to know about the import: the store's timezone and currency."""

    timezone: str
    currency: str
    source: str = "csv"


@dataclass(frozen=True)
class CsvKind:
    """A CSV file format (customers, orders...): its columns and the function that reads a file.

    `read(stream, mapping, context)` reads the binary file `stream` and yields, lazily and in constant
    memory, a `Record` for each good row (or group of rows) and a `RecordError` with the line number
    for each bad row. `mapping` renames foreign header names to the kind's columns.

    A kind may also offer what a bulk (set-based, in the database) import needs: `rows(stream, mapping,
    present)` yields ``(line, values)`` with `values` a tuple indexed like `columns` (or a `ValueError`
    subclass for a row that cannot be read) and fills the set `present` with the columns the header has
    before it yields the first row (a column the file lacks reads as ""), and `cell_error(column, value,
    context)` gives the reason the kind's reader would reject that cell with (None when the cell is
    fine), so that both imports report a bad row alike; `choices` gives, per column with a fixed
    vocabulary, the lower-cased words it accepts and the value each stands for.
    """

    name: str
    description: str
    columns: tuple[CsvColumn, ...]
    read: Callable[[BinaryIO, Mapping[str, str], CsvContext], Iterator[Record | RecordError]] = field(repr=False)
    rows: Callable[[BinaryIO, Mapping[str, str], set[str]],
                   Iterator[tuple[int, tuple[str, ...] | ValueError]]] | None = field(default=None, repr=False)
    cell_error: Callable[[str, str, CsvContext], str | None] | None = field(default=None, repr=False)
    choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class CsvMapping:
    """A ready header mapping for a foreign export: `columns` maps their header to ours."""

    name: str
    kind: str
    description: str
    columns: Mapping[str, str]
