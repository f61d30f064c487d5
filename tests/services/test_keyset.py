"""Keyset cursors: opaque, bound to their list, and refused (as the caller's mistake) when forged."""

from __future__ import annotations

import base64
import json

import pytest

from crm_graph.errors import UserError
from crm_graph.models import Segment
from crm_graph.services.keyset import Order, decode_cursor, encode_cursor

ORDER = (Order(Segment.name, str), Order(Segment.id, int))


def _raw(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_cursor_reads_back_its_values():
    cursor = encode_cursor("segments", ["Żółw ", 7])
    assert decode_cursor(cursor, "segments", ORDER, "after") == ["Żółw ", 7]


@pytest.mark.parametrize("cursor", [
    encode_cursor("jobs", ["a", 1]),            # another list's
    _raw(["segments", [1, 1]]),                 # a number where the name goes
    _raw(["segments", ["a", "1"]]),             # a string where the id goes
    _raw(["segments", ["a", True]]),            # a boolean is not an id
    _raw(["segments", ["a", 2**63]]),           # past the id columns
    _raw(["segments", ["a"]]),                  # too few values
    _raw({"segments": ["a", 1]}),
    "not base64 at all!", "", "x" * 2000,
])
def test_forged_cursors_are_the_callers_mistake(cursor):
    with pytest.raises(UserError, match="`before`"):
        decode_cursor(cursor, "segments", ORDER, "before")
