"""The NumPy COPY text encoder writes what Python's own formatting would."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from crm_graph.generator import copytext
from crm_graph.generator.loaders import NULL_TS, Chunk, copy_payload


def test_rows_match_python_formatting():
    rng = np.random.default_rng(3)
    n = 5_000
    ints = np.concatenate([[0, 9, 10, 99, 100, 10**12], rng.integers(0, 10**9, n - 6)])
    cents = np.concatenate([[0, 1, 9, 10, 99, 100, 101, 123456789], rng.integers(0, 10**8, n - 8)])
    seconds = np.concatenate([
        [0, 951782400, 951868799, 1709164800, 4102444799, NULL_TS],  # epoch, leap days, 2099-12-31
        rng.integers(0, 4_102_444_800, n - 6),
    ])
    days = seconds[seconds != NULL_TS][:100] // 86400
    words = ["VISIT", None, "Łódź"]
    index = rng.integers(0, 3, n)
    names = [None if i % 7 == 0 else f"name-{i}-ż" for i in range(n)]
    flags = rng.random(n) < 0.5
    chunk = Chunk("t", n, [("a", "int", ints), ("b", "const", 42), ("c", "money", cents), ("d", "ts", seconds),
                           ("e", "cat", (words, index)), ("f", "str", np.array(names, dtype=object)),
                           ("g", "bool", flags)])
    lines = copy_payload(chunk).decode().split("\n")
    assert lines[-1] == "" and len(lines) == n + 1
    for i, line in enumerate(lines[:-1]):
        stamp = "\\N" if seconds[i] == NULL_TS else datetime.fromtimestamp(int(seconds[i]), timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S")
        expected = [str(ints[i]), "42", "%d.%02d" % divmod(int(cents[i]), 100), stamp,
                    words[index[i]] or "\\N", names[i] or "\\N", "t" if flags[i] else "f"]
        assert line.split("\t") == expected, i
    stamps = copytext.dates(days).view("S10").ravel()
    assert [s.decode() for s in stamps] == [
        datetime.fromtimestamp(int(d) * 86400, timezone.utc).strftime("%Y-%m-%d") for d in days
    ]


def test_empty_chunk_is_empty():
    assert copy_payload(Chunk("t", 0, [("a", "int", np.zeros(0, dtype=np.int64))])) == b""
