"""The contract of a CSV kind: a documented header and a reader that yields records or row errors.

Plugins register kinds with `register_csv_kinds` and ready-made header mappings (for a platform's
export) with `register_csv_mappings`; `crm_graph.services.csv_import.import_csv` batches what a kind
reads into the ingestion pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
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


#: A row transform: given one row as a dict (our column names after renaming, other columns by their
#: lower-cased header), return the rows of our kind it stands for (dicts of our column names).
RowTransform = Callable[[dict[str, str]], Iterable[Mapping[str, str]]]


@dataclass(frozen=True)
class CsvMapping(Mapping[str, str]):
    """A ready mapping for a foreign export: `columns` maps their header to ours (case-insensitively).

    The mapping is itself the Mapping of those renames, so a kind's reader takes it where it takes a
    plain dict. A mapping may also change values: `transform`, when set, is called once per file and
    returns the `RowTransform` applied to every row (one row may become several, e.g. an order's
    packed line items; state may carry from row to row, e.g. order fields given on the first row only);
    `fills` names the kind's columns the transform sets although the header lacks them. `signature`
    lists the foreign columns that tell this export apart (``--mapping auto`` scores headers by them,
    and a file with them imported without a mapping is refused with the mapping's name).
    """

    name: str
    kind: str
    description: str
    columns: Mapping[str, str]
    transform: Callable[[], RowTransform] | None = field(default=None, repr=False)
    fills: tuple[str, ...] = ()
    signature: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> str:
        return self.columns[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __hash__(self) -> int:
        return hash(self.name)

    def score(self, header: Iterable[str]) -> float:
        """The share of this mapping's `signature` columns that `header` has (0 without a signature)."""
        names = {name.strip().strip("\ufeff").strip().lower() for name in header}
        if not self.signature:
            return 0.0
        return sum(1 for column in self.signature if column.lower() in names) / len(self.signature)
