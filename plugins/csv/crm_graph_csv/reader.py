"""Streaming CSV rows in constant memory: UTF-8, UTF-16 or UTF-32 (`crm_graph.connectors.csv_text`),
`,` or `;`, quoted fields.

`rows(stream, mapping, columns)` reads the header, maps foreign names onto the kind's columns,
checks that required columns are present, and yields ``(line_number, values)`` where `values` is a
tuple indexed like the kind's columns ("" for a column the file lacks). Bytes that do not decode,
NUL bytes, fields over the size limit and cells longer than their column's `max_length` (an id the
database could not store) make only their row bad, not the file.
"""

from __future__ import annotations

import csv
import operator
from collections.abc import Iterator, Mapping, Sequence
from typing import BinaryIO

from crm_graph.connectors.csv import CsvColumn
from crm_graph.connectors.csv_text import normal_name, open_text
from crm_graph.errors import UserError

csv.field_size_limit(10 * 1024 * 1024)


class BadRow(ValueError):
    """A row that cannot be read (wrong encoding); carries the reason."""


def rows(stream: BinaryIO, mapping: Mapping[str, str], columns: Sequence[CsvColumn],
         present: set[str] | None = None) -> Iterator[tuple[int, tuple[str, ...] | BadRow]]:
    """Yield (line, values) for every data row, or (line, BadRow) for a row that is not UTF-8.

    `present`, when given, is filled with the kind's columns the header has, before the first row.
    """
    opened = open_text(stream)
    text, header, delimiter, encoding = opened.text, opened.header, opened.delimiter, opened.encoding
    renames = {normal_name(foreign): ours for foreign, ours in mapping.items()}
    names = [renames.get(normal_name(name), normal_name(name)) for name in header]
    wanted = [column.name for column in columns]
    index = {name: position for position, name in reversed(list(enumerate(names)))}
    transform = mapping.transform() if getattr(mapping, "transform", None) else None
    filled = set(getattr(mapping, "fills", ())) if transform else set()
    missing = [column.name for column in columns
               if column.required and column.name not in index and column.name not in filled]
    if missing:
        raise UserError(
            f"file: the header lacks the required column(s) {', '.join(missing)}; it has {', '.join(header)}. "
            "Rename the columns or pass a mapping."
        )
    width = len(names)
    # Cells are picked with one itemgetter from the row padded with "" up to one past the header, so
    # that a column the file lacks (or a short row) reads as "".
    pick = operator.itemgetter(*[index.get(name, width) for name in wanted])
    if len(wanted) == 1:
        pick = (lambda get: lambda row: (get(row),))(pick)
    strip = str.strip
    limited = [(position, column.name, column.max_length) for position, column in enumerate(columns)
               if column.max_length and column.name in index]
    if present is not None:
        present.update(name for name in wanted if name in index or name in filled)
    if transform is not None:  # a mapping that changes values: each row becomes the kind's rows
        limits = [(column.name, column.max_length) for column in columns if column.max_length]
        pick = _transformed(transform, names, wanted, limits)
    reader = csv.reader(text, delimiter=delimiter)
    line = 1  # the last line read so far (the header is line 1)
    while True:
        try:
            for row in reader:
                start, line = line + 1, reader.line_num + 1
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                joined = "".join(row)
                if not joined.isascii():
                    try:
                        joined.encode("utf-8")  # bytes that did not decode are lone surrogates here
                    except UnicodeEncodeError:
                        yield start, BadRow(f"the row is not valid {encoding} text")
                        continue
                if "\x00" in joined:  # binary data; no database text column can hold it
                    yield start, BadRow("the row contains NUL bytes (binary data, not text)")
                    continue
                size = len(row)
                if size == width:
                    row.append("")
                elif size < width:
                    row += [""] * (width + 1 - size)
                elif any(cell.strip() for cell in row[width:]):
                    yield start, BadRow(f"the row has {size} fields but the header has {width}")
                    continue
                if transform is not None:
                    for values in pick(list(map(strip, row))):
                        yield start, values
                    continue
                values = pick(list(map(strip, row)))
                too_long = next((f"{name} is longer than {limit} characters" for position, name, limit in limited
                                 if len(values[position]) > limit), None)
                yield start, (BadRow(too_long) if too_long else values)
            return
        except csv.Error as exc:  # e.g. a field over the size limit: that row is bad, reading goes on
            start, line = line + 1, reader.line_num + 1
            yield start, BadRow(f"the row cannot be read as CSV: {exc}")


def _transformed(transform, names: list[str], wanted: list[str], limits: list[tuple[str, int]]):
    """Rows through a mapping's transform: each raw row to the (values or BadRow) it stands for."""

    def convert(row: list[str]) -> Iterator[tuple[str, ...] | BadRow]:
        cells = {}
        for name, value in zip(names, row):
            cells.setdefault(name, value)  # the first of two same-named columns, as without a transform
        try:
            produced = list(transform(cells))
        except ValueError as exc:
            yield BadRow(str(exc))
            return
        for out in produced:
            too_long = next((f"{name} is longer than {limit} characters" for name, limit in limits
                             if len(out.get(name) or "") > limit), None)
            yield BadRow(too_long) if too_long else tuple((out.get(name) or "").strip() for name in wanted)

    return convert
