"""The customer list: filtered, sorted, paged by keyset cursors both ways, with its total count.

Sorting is stable: every sort ends with the customer id. Empty values (no name, no order yet) come
last in both directions. Every row has a cursor holding the sort it was made for and the row's
sort-key values, so a page starts right after (or ends right before) it however many rows are
inserted meanwhile; a cursor of another sort is refused. Paging backward reads the same order
reversed in SQL (the index serves both) and turns the page round, so a backward page is exactly
the forward page that ends before its cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.models import Customer, CustomerClv, Store
from crm_graph.services.filters import CustomerFilter, customer_conditions


class CustomerSort(StrEnum):
    """What the customer list is ordered by."""

    NAME = "NAME"
    CREATED = "CREATED"
    LAST_ORDER = "LAST_ORDER"
    TOTAL_SPENT = "TOTAL_SPENT"
    PREDICTED_VALUE = "PREDICTED_VALUE"
    P_ALIVE = "P_ALIVE"
    ID = "ID"


class SortDirection(StrEnum):
    """Ascending or descending; empty values come last either way."""

    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True)
class _Key:
    expression: Any
    kind: str  # "str" | "datetime" | "decimal" | "int"
    nullable: bool


def _keys(sort: CustomerSort) -> list[_Key]:
    last = _Key(Customer.id, "int", False)
    if sort is CustomerSort.NAME:
        return [
            _Key(func.lower(Customer.last_name), "str", True),
            _Key(func.lower(Customer.first_name), "str", True),
            last,
        ]
    if sort is CustomerSort.CREATED:
        return [_Key(Customer.created_at, "datetime", False), last]
    if sort is CustomerSort.LAST_ORDER:
        return [_Key(Customer.last_order_at, "datetime", True), last]
    if sort is CustomerSort.TOTAL_SPENT:
        return [_Key(Customer.total_spent, "decimal", False), last]
    if sort is CustomerSort.PREDICTED_VALUE:
        return [_Key(_clv_column(CustomerClv.predicted_value), "decimal", True), last]
    if sort is CustomerSort.P_ALIVE:
        return [_Key(_clv_column(CustomerClv.p_alive), "float", True), last]
    return [last]


def _clv_column(column):
    """The customer's value of a `CustomerClv` column (null without a prediction), for sorting."""
    return select(column).where(CustomerClv.customer_id == Customer.id).correlate(Customer).scalar_subquery()


@dataclass
class CustomerPage:
    """One page of the list, in list order, each row with its cursor.

    Within the direction asked for, whether more rows follow is exact (one row more is read); the
    other direction only says whether a cursor was given, as the Relay specification allows.
    """

    customers: list[Customer]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def customers_page(
    session: Session,
    store: Store,
    filter: CustomerFilter,
    *,
    sort: CustomerSort = CustomerSort.CREATED,
    direction: SortDirection = SortDirection.DESC,
    size: int = 50,
    backward: bool = False,
    cursor: str | None = None,
    max_page_size: int = 200,
) -> CustomerPage:
    """`size` customers matching `filter` in `sort` order: after `cursor`, or before it when `backward`."""
    if not 1 <= size <= max_page_size:
        raise UserError(f"`{'last' if backward else 'first'}` must be between 1 and {max_page_size}.")
    keys = _keys(sort)
    conditions = customer_conditions(store, filter, session=session)
    if cursor is not None:
        values = decode_cursor(cursor, sort, direction, keys, argument="before" if backward else "after")
        conditions.append(_beyond(keys, direction, values, backward=backward))
    ordering = [_order(key, direction, backward=backward) for key in keys]
    labels = [key.expression.label(f"k{index}") for index, key in enumerate(keys)]
    rows = session.exec(select(Customer, *labels).where(*conditions).order_by(*ordering).limit(size + 1)).all()
    more = len(rows) > size
    page = list(rows[:size])
    if backward:
        page.reverse()
    cursors = [encode_cursor(sort, direction, list(row[1:])) for row in page]
    return CustomerPage(
        [row[0] for row in page], cursors,
        has_next_page=cursor is not None if backward else more,
        has_previous_page=more if backward else cursor is not None,
    )


def _order(key: _Key, direction: SortDirection, *, backward: bool = False):
    """ORDER BY term (reversed, nulls first, when paging backward); NULLS LAST/FIRST only where the key
    can be null, so indexes serve the other sorts."""
    descending = (direction is SortDirection.DESC) != backward
    term = key.expression.desc() if descending else key.expression.asc()
    if not key.nullable:
        return term
    return term.nulls_first() if backward else term.nulls_last()


def count_customers(session: Session, store: Store, filter: CustomerFilter) -> int:
    """How many customers match `filter` (over all pages)."""
    query = select(func.count()).select_from(Customer).where(*customer_conditions(store, filter, session=session))
    return session.exec(query).scalar_one()


def _beyond(keys: list[_Key], direction: SortDirection, values: list[Any], *, backward: bool) -> ColumnElement[bool]:
    """Rows strictly after `values` in the list order of `keys` (nulls last), or strictly before them
    when `backward`: the same lexicographic comparison read from the other end."""
    descending = (direction is SortDirection.DESC) != backward
    branches = []
    for index, (key, value) in enumerate(zip(keys, values)):
        equal_before = [
            (k.expression.is_(None) if v is None else k.expression == v) for k, v in zip(keys[:index], values[:index])
        ]
        if value is None:
            if backward:  # every value comes before the nulls
                branches.append(and_(*equal_before, key.expression.is_not(None)))
            continue  # forward, nothing follows a null of the same key except through later keys
        beyond = key.expression < value if descending else key.expression > value
        if key.nullable and not backward:
            beyond = or_(beyond, key.expression.is_(None))
        branches.append(and_(*equal_before, beyond))
    condition = or_(*branches) if branches else false()
    first, value = keys[0], values[0]
    if not first.nullable:  # a plain bound lets the index start at the cursor
        bound = first.expression <= value if descending else first.expression >= value
        condition = and_(bound, condition)
    elif value is None and not backward:
        condition = and_(first.expression.is_(None), condition)
    elif value is not None and backward:
        bound = first.expression <= value if descending else first.expression >= value
        condition = and_(first.expression.is_not(None), bound, condition)
    return condition


def encode_cursor(sort: CustomerSort, direction: SortDirection, values: list[Any]) -> str:
    """An opaque cursor for the row whose sort-key values are `values`."""
    plain = [_plain(value) for value in values]
    raw = json.dumps([sort.value, direction.value, plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: CustomerSort, direction: SortDirection, keys: list[_Key], *,
                  argument: str = "after") -> list[Any]:
    """The sort-key values in `cursor`, or a `UserError` naming `argument` when it is not a cursor of this sort."""
    bad = UserError(f"`{argument}` is not a cursor this list returned for the same sort and direction.")
    if len(cursor) > 2000:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, cursor_direction, values = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise bad from None
    if cursor_sort != sort.value or cursor_direction != direction.value or not isinstance(values, list):
        raise bad
    if len(values) != len(keys):
        raise bad
    try:
        return [_typed(value, key) for value, key in zip(values, keys)]
    except (ValueError, TypeError, InvalidOperation):
        raise bad from None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is not None and not isinstance(value, (int, str)):
        return str(value)  # SQLite may hand back floats for numerics
    return value


def _typed(value: Any, key: _Key) -> Any:
    if value is None:
        if not key.nullable:
            raise ValueError("null")
        return None
    if key.kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("int")
        return value
    if not isinstance(value, str):
        raise TypeError("str")
    if key.kind == "datetime":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed
    if key.kind == "decimal":
        return Decimal(value)
    if key.kind == "float":
        return float(value)
    return value
