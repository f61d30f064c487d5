"""Turning the `ID` strings clients send into database ids, safely.

`str.isdigit()` is not enough: it accepts non-ASCII digits ("²", "١") and numbers past the 64-bit
range of the id columns, which the database driver then refuses with an internal error. Every
resolver that takes an ID goes through `parse_id`.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,19}")
_MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """The id `value` names, or None when it cannot be an id of ours (then nothing has that id)."""
    text = str(value)
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if number <= _MAX_ID else None
