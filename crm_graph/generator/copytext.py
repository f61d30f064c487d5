"""PostgreSQL COPY text built with NumPy, without a Python object per value.

Every column becomes a fixed-width block of bytes per row, padded with NUL bytes: the digits of an
integer, a timestamp, a vocabulary word, an encoded string, or `\\N`. `encode_rows` lays the blocks
side by side with the separators and drops the padding in one pass, so formatting a million rows
takes well under a second and the database, not Python, limits a bulk load. Strings must contain
no NUL, tab, newline or backslash (COPY would need escapes); the generator's vocabularies contain none.
"""

from __future__ import annotations

import numpy as np

TAB, NEWLINE, ZERO, DOT = 9, 10, 48, 46
NULL = b"\\N"


def _digits(values: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Right-aligned ASCII digits of non-negative integers, padded on the left with NUL bytes."""
    values = values.astype(np.int64)
    largest = int(values.max()) if len(values) else 0
    width = max(len(str(largest)), minimum)
    matrix = np.empty((len(values), width), dtype=np.uint8)
    rest = values
    for column in range(width - 1, -1, -1):
        significant = (rest > 0) | (column >= width - minimum)
        rest, digit = np.divmod(rest, 10)
        matrix[:, column] = (digit + ZERO) * significant
    return matrix


def integers(values: np.ndarray) -> np.ndarray:
    """Non-negative integers in decimal."""
    return _digits(values)


def money(cents: np.ndarray) -> np.ndarray:
    """Non-negative amounts in cents as ``units.cc``."""
    matrix = _digits(cents, minimum=3)
    return np.concatenate([matrix[:, :-2], np.full((len(cents), 1), DOT, dtype=np.uint8), matrix[:, -2:]], axis=1)


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of days since 1970-01-01 (proleptic Gregorian calendar)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def _put(matrix: np.ndarray, column: int, values: np.ndarray, width: int) -> None:
    """Write `values` as zero-padded decimals into `width` columns from `column`."""
    for offset in range(width - 1, -1, -1):
        values, digit = np.divmod(values, 10)
        matrix[:, column + offset] = digit + ZERO


def dates(days: np.ndarray) -> np.ndarray:
    """Days since the epoch as ``YYYY-MM-DD``."""
    year, month, day = _civil(days.astype(np.int64))
    matrix = np.full((len(days), 10), ord("-"), dtype=np.uint8)
    _put(matrix, 0, year, 4)
    _put(matrix, 5, month, 2)
    _put(matrix, 8, day, 2)
    return matrix


def timestamps(seconds: np.ndarray, null: int) -> np.ndarray:
    """Epoch seconds as ``YYYY-MM-DD HH:MM:SS`` (UTC); the value `null` is ``\\N``."""
    missing = seconds == null
    seconds = np.where(missing, 0, seconds).astype(np.int64)
    days, clock = np.divmod(seconds, 86400)
    matrix = np.concatenate([dates(days), np.full((len(seconds), 9), ord(":"), dtype=np.uint8)], axis=1)
    matrix[:, 10] = ord(" ")
    _put(matrix, 11, clock // 3600, 2)
    _put(matrix, 14, clock // 60 % 60, 2)
    _put(matrix, 17, clock % 60, 2)
    if missing.any():
        matrix[missing] = 0
        matrix[missing, :2] = np.frombuffer(NULL, dtype=np.uint8)
    return matrix


def vocabulary(words: list[str | None], index: np.ndarray) -> np.ndarray:
    """Words chosen by `index` from a small vocabulary (None is ``\\N``)."""
    encoded = [NULL if word is None else word.encode() for word in words]
    table = np.array(encoded, dtype=f"S{max(map(len, encoded))}")
    return table.view(np.uint8).reshape(len(encoded), -1)[index]


def strings(values: list[str | None]) -> np.ndarray:
    """Any strings (None is ``\\N``)."""
    encoded = [NULL if value is None else value.encode() for value in values]
    width = max(map(len, encoded)) if encoded else 1
    return np.array(encoded, dtype=f"S{width}").view(np.uint8).reshape(len(encoded), -1)


def constant(value: str | None, rows: int) -> np.ndarray:
    """The same value on every row (broadcast, not copied)."""
    word = NULL if value is None else value.encode()
    return np.broadcast_to(np.frombuffer(word, dtype=np.uint8), (rows, len(word)))


def encode_rows(columns: list[np.ndarray], rows: int) -> bytes:
    """The COPY text of `rows` rows whose columns are NUL-padded byte blocks."""
    if rows == 0:
        return b""
    width = sum(block.shape[1] + 1 for block in columns)
    table = np.empty((rows, width), dtype=np.uint8)
    at = 0
    for j, block in enumerate(columns):
        table[:, at : at + block.shape[1]] = block
        at += block.shape[1]
        table[:, at] = TAB if j < len(columns) - 1 else NEWLINE
        at += 1
    flat = table.reshape(-1)
    return flat[flat != 0].tobytes()
