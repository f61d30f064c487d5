"""The text of a CSV file: its encoding recognised from the first bytes, and its header read.

Spreadsheets save CSV as UTF-8 (with or without a byte order mark) and, on Windows "Unicode text",
as UTF-16; a few tools write UTF-32. `open_text` recognises each by its byte order mark (UTF-16 and
UTF-32 also without one, from the zero bytes of an ASCII header) and decodes it; a file in an encoding
that is recognised but not read (UTF-7, UTF-EBCDIC, GB 18030...) or that is not text at all is
refused by name, as a `UserError`, instead of having each row rejected as binary data.

Bytes that do not decode become lone surrogates (the ``surrogateescape`` idea for every codec), so the
CSV reader can reject only their row and say which encoding it expected.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from typing import BinaryIO

from crm_graph.errors import UserError

#: Byte order marks, longest first (UTF-32 LE starts like UTF-16 LE): (mark, Python codec, name).
_READ = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE"),
)
#: Marks of encodings Python cannot read or that no spreadsheet means for a CSV: refused by name.
_REFUSED = (
    (b"\x84\x31\x95\x33", "GB 18030"),
    (b"\xdd\x73\x66\x73", "UTF-EBCDIC"),
    (b"\x2b\x2f\x76", "UTF-7"),
    (b"\xf7\x64\x4c", "UTF-1"),
    (b"\x0e\xfe\xff", "SCSU"),
    (b"\xfb\xee\x28", "BOCU-1"),
)

_ERRORS = "crm_graph.csv_bad_bytes"


def _bad_bytes(exc: UnicodeDecodeError) -> tuple[str, int]:
    """Each undecodable byte as a lone surrogate U+DC80..U+DCFF, whatever the codec."""
    return "".join(chr(0xDC00 + (byte | 0x80)) for byte in exc.object[exc.start:exc.end]), exc.end


codecs.register_error(_ERRORS, _bad_bytes)


@dataclass(frozen=True)
class CsvText:
    """A CSV file opened as text: the stream, the encoding's name, the header's cells and delimiter."""

    text: io.TextIOWrapper
    encoding: str
    header: list[str]
    delimiter: str


def _head(stream: BinaryIO, size: int = 4) -> tuple[bytes, BinaryIO]:
    """The first bytes of `stream` without consuming them (the stream may be wrapped to allow it)."""
    if hasattr(stream, "peek"):
        try:
            return stream.peek(size)[:size], stream
        except (AttributeError, ValueError, OSError):
            pass
    if stream.seekable():
        position = stream.tell()
        head = stream.read(size)
        stream.seek(position)
        return head, stream
    buffered = io.BufferedReader(stream)  # needs readinto, as every binary file has
    return buffered.peek(size)[:size], buffered


def sniff(head: bytes) -> tuple[str, str]:
    """(Python codec, name) of a file starting with `head`; `UserError` for an encoding not read."""
    for mark, name in _REFUSED:
        if head.startswith(mark):
            raise UserError(f"file: the file is encoded as {name} (by its byte order mark), which is not read; "
                            "save it as UTF-8 (or UTF-16) and import it again.")
    for mark, codec, name in _READ:
        if head.startswith(mark):
            return codec, name
    if len(head) >= 4:  # no mark: an ASCII header tells UTF-16/32 by where its zero bytes are
        if head[0] and not head[1] and not head[2] and not head[3]:
            return "utf-32-le", "UTF-32 LE"
        if not head[0] and not head[1] and not head[2] and head[3]:
            return "utf-32-be", "UTF-32 BE"
        if head[0] and not head[1] and head[2] and not head[3]:
            return "utf-16-le", "UTF-16 LE"
        if not head[0] and head[1] and not head[2] and head[3]:
            return "utf-16-be", "UTF-16 BE"
    return "utf-8", "UTF-8"


def delimiter(header_line: str) -> str:
    """`;` when the header has more unquoted semicolons than commas, else `,`."""
    counts = {sep: 0 for sep in ",;"}
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return ";" if counts[";"] > counts[","] else ","


def normal_name(name: str) -> str:
    """A header cell as it is compared with a kind's column names: trimmed, lower-cased, without BOM."""
    return name.strip().strip("\ufeff").strip().lower()


def open_text(stream: BinaryIO) -> CsvText:
    """Open the binary CSV `stream` as text and read its header line.

    `UserError` when the file is empty, in an encoding that is not read, or its header is not text.
    """
    head, stream = _head(stream)
    codec, name = sniff(head)
    text = io.TextIOWrapper(stream, encoding=codec, errors=_ERRORS, newline="")
    header_line = text.readline()
    if not header_line.strip():
        raise UserError("file: the file is empty; the first line must be the header.")
    if "\x00" in header_line:
        raise UserError("file: the header contains NUL bytes: this is not a text (CSV) file.")
    try:
        header_line.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"file: the header is not {name} text; save the file as UTF-8 and import it again.") from None
    separator = delimiter(header_line)
    header = next(csv.reader([header_line], delimiter=separator))
    return CsvText(text=text, encoding=name, header=header, delimiter=separator)


def ignored_columns(header: list[str], mapping: dict[str, str], wanted: set[str]) -> list[str]:
    """The header's columns (as the file names them) that a kind with the columns `wanted` does not
    read, after renaming by `mapping`; a column named twice is read once, so its repeats count too."""
    renames = {normal_name(foreign): ours for foreign, ours in mapping.items()}
    seen: set[str] = set()
    ignored = []
    for cell in header:
        name = renames.get(normal_name(cell), normal_name(cell))
        if not name:
            if cell.strip():
                ignored.append(cell.strip())
            continue
        if name not in wanted or name in seen:
            ignored.append(cell.strip().strip("\ufeff") or name)
        seen.add(name)
    return ignored
