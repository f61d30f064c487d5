"""SQL expressions that parse CSV cell text as the CSV kinds' Python converters do (`crm_graph_csv.fields`).

Each builder takes the SQL of a text column and returns an expression whose value is the parsed cell,
or NULL when the converter would reject it; CASE keeps every cast behind the pattern that makes it
safe, so one bad cell never fails the statement. The reason text for a rejected cell comes from the
kind itself (`CsvKind.cell_error`), so both imports word it alike.
"""

from __future__ import annotations

import re

from crm_graph.connectors.normalise import MAX_EMAIL
from crm_graph.services.dates import MAX_YEAR, MIN_YEAR

#: ISO 8601 as `datetime.fromisoformat` reads it (date, or date and time with optional fraction and
#: offset); the day-of-month check against the month's length is separate.
_INSTANT = (r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
            r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.,][0-9]{1,6})?)?"
            r"([Zz]|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?)?$")
_OFFSET = r"[T ][0-9]{2}:[0-9:.,]*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"
#: The usual shapes of cells, which COPY can read into typed columns without failing: an instant in
#: seconds, UTC (``Z``) or wall-clock, of a year 1900-2099 and a day of the month every month has;
#: an amount without sign or exponent with at most two decimals; a whole number without sign.
COMMON_INSTANT = re.compile(r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])[T ]"
                            r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z?", re.ASCII)
PLAIN_AMOUNT = re.compile(r"[0-9]{1,13}(\.[0-9]{1,2})?", re.ASCII)
PLAIN_INTEGER = re.compile(r"[0-9]{1,9}", re.ASCII)
_AMOUNT = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,2})?$"
_INTEGER = r"^[+-]?[0-9]{1,9}(\.0*)?$"
#: `crm_graph.connectors.normalise.email`.
EMAIL = r"^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$"


def literal(value: str) -> str:
    """`value` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def local(timestamp: str, timezone: str) -> str:
    """The instant of a wall-clock `timestamp` in `timezone`. An hour that repeats when the clocks go
    back is its first occurrence, as Python reads it (``fold=0``); PostgreSQL alone takes the second."""
    zone = literal(timezone)
    later = f"({timestamp} AT TIME ZONE {zone})"
    return (f"CASE WHEN (({later} - interval '1 hour') AT TIME ZONE {zone}) = {timestamp} "
            f"THEN {later} - interval '1 hour' ELSE {later} END")


def instant(column: str, timezone: str, typed: str | None = None) -> str:
    """An aware instant; a value without offset (or a bare date: local midnight) is in `timezone`; NULL
    for a year outside `MIN_YEAR`..`MAX_YEAR`, as `normalise.instant`.

    `typed`, when given, is a ``timestamp`` column holding the cell already read by COPY when it has
    one of the usual shapes (`COMMON_INSTANT`); the full pattern and the day check serve the rest.
    """
    dotted = f"replace({column}, ',', '.')"
    fast = ""
    if typed:
        fast = (f"WHEN {typed} IS NOT NULL THEN CASE WHEN right({column}, 1) = 'Z' THEN {typed} AT TIME ZONE 'UTC' "
                f"ELSE {local(typed, timezone)} END ")
    return (
        f"CASE WHEN {column} = '' THEN NULL {fast}"
        f"WHEN {column} ~ '{_INSTANT}' AND substr({column}, 1, 4) BETWEEN '{MIN_YEAR}' AND '{MAX_YEAR}' THEN "
        f"CASE WHEN substr({column}, 9, 2)::int <= extract(day from (substr({column}, 1, 8) || '01')::date "
        f"+ interval '1 month - 1 day') THEN "
        f"CASE WHEN {column} ~ '{_OFFSET}' THEN replace({dotted}, ' ', 'T')::timestamptz "
        f"ELSE {local(dotted + '::timestamp', timezone)} END END END"
    )


def amount(column: str, typed: str | None = None) -> str:
    """A numeric(18,2) amount (``12.50`` or ``12,50``; empty is 0.00), rounded half-even like Decimal.

    `typed`, when given, is a numeric column holding the cell already read by COPY when it is a plain
    amount (`PLAIN_AMOUNT`); the full pattern serves the rest.
    """
    x = f"replace({column}, ',', '.')::numeric"
    cents = f"({x} * 100)"
    fast = f"WHEN {typed} IS NOT NULL THEN {typed} " if typed else ""
    return (
        f"CASE {fast}WHEN {column} = '' THEN 0.00 "
        f"WHEN replace({column}, ',', '.') ~ '{_AMOUNT}' THEN "
        f"CASE WHEN abs({x}) >= 1e16 THEN NULL WHEN scale({x}) <= 2 THEN {x}::numeric(18,2) "
        f"WHEN abs({cents} - trunc({cents})) = 0.5 AND mod(trunc({cents}), 2) = 0 "
        f"THEN (trunc({cents}) / 100)::numeric(18,2) ELSE round({x}, 2)::numeric(18,2) END END"
    )


def integer(column: str, default: int, typed: str | None = None) -> str:
    """A whole number (``3`` or ``3.0``); empty is `default`. `typed`: as for `amount` (`PLAIN_INTEGER`)."""
    fast = f"WHEN {typed} IS NOT NULL THEN {typed} " if typed else ""
    return (f"CASE {fast}WHEN {column} = '' THEN {int(default)} "
            f"WHEN {column} ~ '{_INTEGER}' THEN split_part({column}, '.', 1)::int END")


def text(column: str, limit: int) -> str:
    """Trimmed text cut to `limit`, NULL when empty (`normalise.text`; the reader trimmed already)."""
    return f"NULLIF(left({column}, {int(limit)}), '')"


def country(column: str) -> str:
    """An ISO 3166 alpha-2 code upper-cased, NULL when it is not one (`normalise.country`)."""
    return f"CASE WHEN {column} = '' THEN NULL WHEN upper({column}) ~ '^[[:alpha:]]{{2}}$' THEN upper({column}) END"


def email(column: str) -> str:
    """The address lower-cased, NULL when empty or not an address."""
    return (f"CASE WHEN {column} <> '' AND length({column}) <= {MAX_EMAIL} AND lower({column}) ~ '{EMAIL}' "
            f"THEN lower({column}) END")


def external_id(column: str) -> str:
    """An id without the apostrophe spreadsheet exports put in front; NULL when empty."""
    return f"NULLIF(CASE WHEN left({column}, 1) = '''' THEN substr({column}, 2) ELSE {column} END, '')"


def choice(column: str, table: dict) -> str:
    """The value `table` maps the lower-cased cell to, NULL when it maps nothing."""
    pairs = " ".join(f"WHEN {literal(key)} THEN {literal(str(value))}" for key, value in table.items())
    return f"CASE lower({column}) {pairs} END"
