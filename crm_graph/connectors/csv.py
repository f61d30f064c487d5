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
    """

    name: str
    description: str
    columns: tuple[CsvColumn, ...]
    read: Callable[[BinaryIO, Mapping[str, str], CsvContext], Iterator[Record | RecordError]] = field(repr=False)


@dataclass(frozen=True)
class CsvMapping:
    """A ready header mapping for a foreign export: `columns` maps their header to ours."""

    name: str
    kind: str
    description: str
    columns: Mapping[str, str]
