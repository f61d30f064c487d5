"""Keyset paging of a store's short lists (jobs, segments, API keys), forward and backward.

A list has a fixed order of non-null columns ending with a unique one (the id). A cursor holds the
list's name and the order values of one row, so the page after (or before) it starts right next to
that row however many rows are added or removed meanwhile, and a cursor of another list is refused.
Each page is one indexed query: the keyset condition, the order (reversed when paging backward)
and a limit of one row more than the page, which tells exactly whether more rows follow in the
direction of paging.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlmodel import Session

from crm_graph.errors import UserError

T = TypeVar("T")

#: The longest cursor accepted (a cursor holds a few short values).
MAX_CURSOR = 1000
_MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class Order:
    """One column of a list's order: the column, its Python type (`int` or `str`) and its direction."""

    column: Any
    kind: type
    descending: bool = False


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """The rows of one page in list order, each row's cursor, and whether rows follow and precede."""

    rows: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def encode_cursor(list_name: str, values: Sequence[Any]) -> str:
    """The opaque cursor of the row with order values `values` in the list `list_name`."""
    raw = json.dumps([list_name, list(values)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, list_name: str, order: Sequence[Order], argument: str) -> list[Any]:
    """The order values in `cursor`, or a `UserError` naming `argument` when it is not a cursor of this list."""
    bad = UserError(f"`{argument}` is not a cursor this list returned.")
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR:
        raise bad
    try:
        name, values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise bad from None
    if name != list_name or not isinstance(values, list) or len(values) != len(order):
        raise bad
    for value, key in zip(values, order):
        if type(value) is not key.kind or (key.kind is int and abs(value) > _MAX_INT):
            raise bad
    return values


def _beyond(order: Sequence[Order], values: Sequence[Any], backward: bool) -> ColumnElement[bool]:
    """Rows strictly after the row `values` in the list order (before it when `backward`)."""
    alternatives = []
    for index, key in enumerate(order):
        later = key.descending == backward  # ascending forward, or descending backward: greater values
        step = key.column > values[index] if later else key.column < values[index]
        alternatives.append(and_(*[order[i].column == values[i] for i in range(index)], step))
    return or_(*alternatives)


def keyset_page(
    session: Session, query: Select, list_name: str, order: Sequence[Order], row_values: Callable[[Any], Sequence[Any]],
    *, size: int, backward: bool = False, cursor: str | None = None,
) -> KeysetPage[Any]:
    """A page of `size` rows of `query` in `order`, after `cursor` (before it when `backward`).

    `row_values(row)` gives a row's order values (for its cursor). Paging forward, rows precede the
    page when a cursor was given; paging backward, rows follow it when a cursor was given (the
    Relay cursor specification allows both), and the other flag is exact.
    """
    if cursor is not None:
        values = decode_cursor(cursor, list_name, order, "before" if backward else "after")
        query = query.where(_beyond(order, values, backward))
    query = query.order_by(*[
        key.column.desc() if key.descending != backward else key.column.asc() for key in order
    ]).limit(size + 1)
    rows = list(session.exec(query).scalars())
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
    cursors = [encode_cursor(list_name, row_values(row)) for row in rows]
    return KeysetPage(
        rows=rows, cursors=cursors,
        has_next_page=cursor is not None if backward else more,
        has_previous_page=more if backward else cursor is not None,
    )


def total_count(session: Session, query: Select) -> int:
    """How many rows `query` selects (without its order and limit)."""
    return session.exec(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()


__all__ = ["KeysetPage", "Order", "decode_cursor", "encode_cursor", "keyset_page", "total_count"]
