"""Writing generated rows fast: COPY on PostgreSQL, `executemany` of plain tuples on SQLite.

A `Chunk` is one table's rows as NumPy columns. Loaders turn columns into the database's text
format in bulk (no per-row model objects) and write them inside the caller's transaction, so a
failed generation leaves nothing behind. Primary keys are assigned by the generator: `IdAllocator`
hands out blocks of ids that no one else will get.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from crm_graph.generator import copytext

#: A missing timestamp in an int64 column of epoch seconds.
NULL_TS = np.iinfo(np.int64).min

#: Column kinds: how an array of values is stored.
KINDS = ("int", "const", "str", "cat", "ts", "money", "bool", "date")


@dataclass
class Chunk:
    """Rows of one table: `columns` are (name, kind, values).

    Values are NumPy arrays: int64 for ``int``, epoch seconds for ``ts`` (`NULL_TS` for null), cents
    for ``money``, days since the epoch for ``date``, objects (str or None) for ``str``; one scalar for
    ``const``; and a pair (list of words, array of indexes into it) for ``cat``.
    """

    table: str
    size: int
    columns: list[tuple[str, str, Any]]


#: Rows written between two progress reports: a block takes well under a second on either database.
BLOCK_ROWS = 20_000

#: `advance(rows)`: rows of a chunk written (or queued for COPY) since the last call.
Advance = Callable[[int], None]


def _blocks(chunk: Chunk) -> Iterator[Chunk]:
    """`chunk` in consecutive parts of at most `BLOCK_ROWS` rows (the chunk itself when it is small)."""
    if chunk.size <= BLOCK_ROWS:
        yield chunk
        return
    for start in range(0, chunk.size, BLOCK_ROWS):
        stop = min(chunk.size, start + BLOCK_ROWS)
        yield Chunk(chunk.table, stop - start, [(name, kind, _slice(kind, values, start, stop))
                                                for name, kind, values in chunk.columns])


def _slice(kind: str, values: Any, start: int, stop: int) -> Any:
    """Rows `start`..`stop` of one column (a constant stays as it is; a vocabulary keeps its words)."""
    if kind == "const":
        return values
    if kind == "cat":
        words, index = values
        return words, index[start:stop]
    return values[start:stop]


# --- PostgreSQL ---------------------------------------------------------------------------------

def _pg_block(kind: str, values: Any, size: int) -> np.ndarray:
    """One column as NUL-padded COPY text bytes (see `copytext`)."""
    if kind == "const":
        return copytext.constant(None if values is None else str(values), size)
    if kind == "int":
        return copytext.integers(values)
    if kind == "bool":
        return np.where(values, ord("t"), ord("f")).astype(np.uint8)[:, None]
    if kind == "str":
        return copytext.strings(values.tolist())
    if kind == "cat":
        words, index = values
        return copytext.vocabulary(words, index)
    if kind == "money":
        return copytext.money(values)
    if kind == "ts":
        return copytext.timestamps(values, NULL_TS)
    if kind == "date":
        return copytext.dates(values)
    raise ValueError(f"unknown column kind {kind!r}")


def copy_payload(chunk: Chunk) -> bytes:
    """The COPY text of `chunk`: tab-separated columns, one row per line."""
    return copytext.encode_rows([_pg_block(kind, values, chunk.size) for _, kind, values in chunk.columns], chunk.size)


class PostgresLoader:
    """COPYs chunks in a background thread while the caller generates the next ones.

    The COPY runs on the caller's connection and transaction; the thread overlaps the database's
    work with NumPy generation and text formatting on the other core.
    """

    def __init__(self, connection: Connection) -> None:
        self._driver = connection.connection.driver_connection
        # Timestamps are written without a zone and mean UTC.
        connection.execute(text("SET LOCAL TimeZone = 'UTC'"))
        connection.execute(text("SET LOCAL synchronous_commit = off"))
        self._queue: queue.Queue = queue.Queue(maxsize=3)
        self._error: BaseException | None = None
        #: Seconds the database spent on each table's COPYs.
        self.seconds: dict[str, float] = defaultdict(float)
        self._thread = threading.Thread(target=self._run, name="crm-graph-copy", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with self._driver.cursor() as cursor:
            while (item := self._queue.get()) is not None:
                if self._error is not None:
                    continue
                table, names, payload = item
                started = time.perf_counter()
                try:
                    with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                        for start in range(0, len(payload), 1 << 22):
                            copy.write(payload[start : start + (1 << 22)])
                except BaseException as exc:  # noqa: BLE001 - handed to the caller in `finish`
                    self._error = exc
                self.seconds[table] += time.perf_counter() - started

    def write(self, chunk: Chunk, advance: Advance | None = None) -> None:
        """Queue `chunk` for COPY (blocks while three chunks are already waiting); `advance(rows)` is
        called for each block of up to `BLOCK_ROWS` rows formatted and queued."""
        if self._error is not None:
            self.finish()
        if not chunk.size:
            return
        names = ", ".join(f'"{name}"' for name, _, _ in chunk.columns)
        for part in _blocks(chunk):
            self._queue.put((chunk.table, names, copy_payload(part)))
            if advance is not None:
                advance(part.size)

    def finish(self) -> None:
        """Wait until every queued chunk is written; re-raise the first failure."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


class PostgresIds:
    """Reserves blocks of ids from each table's sequence on a separate autocommit connection.

    Sequences are not transactional, so a reserved block stays reserved even if the generation fails;
    other writers of the same tables keep getting ids outside the blocks. The largest existing ids are
    read once, on the load's own connection (the load may lock the tables against other sessions).
    """

    def __init__(self, engine: Engine, connection: Connection, tables: tuple[str, ...]) -> None:
        self._largest = {
            table: connection.execute(text(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')).scalar_one()
            for table in tables
        }
        self._connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def reserve(self, table: str, count: int) -> int:
        """The first of `count` consecutive new ids for `table`."""
        if count == 0:
            return 1
        last = self._connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST(nextval(pg_get_serial_sequence('{table}', 'id')), :largest + 1) + :count - 1)"
            ),
            {"count": count, "largest": self._largest[table]},
        ).scalar_one()
        return int(last) - count + 1

    def close(self) -> None:
        """Give the connection back to the pool."""
        self._connection.close()


# --- SQLite -------------------------------------------------------------------------------------

def _sqlite_values(kind: str, values: Any, size: int):
    """One column as the Python values SQLAlchemy would have bound on SQLite."""
    if kind == "const":
        return itertools.repeat(values, size)
    if kind == "int":
        return values.tolist()
    if kind == "bool":
        return values.astype(np.int64).tolist()
    if kind == "str":
        return values.tolist()
    if kind == "cat":
        words, index = values
        return np.asarray(words, dtype=object)[index].tolist()
    if kind == "money":
        return (values / 100).tolist()
    if kind == "ts":
        missing = values == NULL_TS
        strings = np.datetime_as_string(np.where(missing, 0, values).astype("datetime64[s]"))
        strings = np.strings.add(np.strings.replace(strings, "T", " "), ".000000").astype(object)
        strings[missing] = None
        return strings.tolist()
    if kind == "date":
        return np.datetime_as_string(values.astype("datetime64[D]")).tolist()
    raise ValueError(f"unknown column kind {kind!r}")


class SqliteLoader:
    """Inserts chunks with `executemany` inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._driver = connection.connection.driver_connection

    def write(self, chunk: Chunk, advance: Advance | None = None) -> None:
        """Insert `chunk` now, `BLOCK_ROWS` rows at a time; `advance(rows)` is called after each block."""
        if not chunk.size:
            return
        names = ", ".join(f'"{name}"' for name, _, _ in chunk.columns)
        marks = ", ".join("?" for _ in chunk.columns)
        for part in _blocks(chunk):
            columns = [_sqlite_values(kind, values, part.size) for _, kind, values in part.columns]
            self._driver.executemany(f'INSERT INTO "{chunk.table}" ({names}) VALUES ({marks})', zip(*columns))
            if advance is not None:
                advance(part.size)

    def finish(self) -> None:
        """Nothing is pending on SQLite."""


class SqliteIds:
    """Hands out ids after each table's largest; the open write transaction keeps others out."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._next: dict[str, int] = {}

    def reserve(self, table: str, count: int) -> int:
        """The first of `count` consecutive new ids for `table`."""
        if table not in self._next:
            self._next[table] = self._connection.execute(
                text(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"')
            ).scalar_one()
        first = self._next[table]
        self._next[table] += count
        return first

    def close(self) -> None:
        """Nothing to release."""
