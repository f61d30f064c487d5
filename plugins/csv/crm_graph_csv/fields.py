"""Converters from CSV cell text to record values; each raises ValueError naming the column."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from crm_graph.connectors import normalise
from crm_graph.connectors.normalise import short
from crm_graph.services.dates import MAX_YEAR, MIN_YEAR
from crm_graph.models.enums import Channel, ConsentState, Gender, OptInLevel, OrderStatus

#: Whole numbers are stored in 32-bit integer columns.
MAX_INTEGER = 2**31

#: Order statuses as written by us and by the platforms, to the normalised status.
ORDER_STATUSES: dict[str, OrderStatus] = {
    **{status.value.lower(): status for status in OrderStatus},
    "processing": OrderStatus.PAID, "paid": OrderStatus.PAID, "partially_paid": OrderStatus.PAID,
    "authorized": OrderStatus.PENDING, "on-hold": OrderStatus.PENDING, "on_hold": OrderStatus.PENDING,
    "checkout-draft": OrderStatus.PENDING, "complete": OrderStatus.COMPLETED, "fulfilled": OrderStatus.COMPLETED,
    "partially_refunded": OrderStatus.REFUNDED, "canceled": OrderStatus.CANCELLED, "voided": OrderStatus.CANCELLED,
    "trash": OrderStatus.CANCELLED,
}

CONSENT_STATES: dict[str, ConsentState] = {
    **{state.value.lower(): state for state in ConsentState},
    "yes": ConsentState.SUBSCRIBED, "true": ConsentState.SUBSCRIBED, "1": ConsentState.SUBSCRIBED,
    "no": ConsentState.NOT_SUBSCRIBED, "false": ConsentState.NOT_SUBSCRIBED, "0": ConsentState.NOT_SUBSCRIBED,
    "opted_out": ConsentState.UNSUBSCRIBED, "unsubscribed": ConsentState.UNSUBSCRIBED,
}

GENDERS: dict[str, Gender] = {
    **{gender.value.lower(): gender for gender in Gender},
    "f": Gender.FEMALE, "female": Gender.FEMALE, "woman": Gender.FEMALE,
    "m": Gender.MALE, "male": Gender.MALE, "man": Gender.MALE, "": Gender.UNKNOWN,
}


def instant(value: str, column: str, tz: ZoneInfo, *, required: bool = False) -> datetime | None:
    """An ISO date-time (an offset is honoured, none means the store's timezone) or a date (local midnight)."""
    if not value:
        if required:
            raise ValueError(f"{column} is required")
        return None
    try:
        if len(value) == 10:
            return normalise.instant(datetime.combine(date.fromisoformat(value), time(), tz))
        return normalise.instant(value.replace(" ", "T", 1) if "T" not in value else value, assume=tz)
    except normalise.OutOfRange:
        raise ValueError(f"{column} {short(value)!r} is outside the years {MIN_YEAR}–{MAX_YEAR}") from None
    except ValueError:
        raise ValueError(f"{column} {short(value)!r} is not a date-time such as 2026-03-01T14:30:00+01:00") from None


def day(value: str, column: str) -> date:
    """A YYYY-MM-DD date of the years `MIN_YEAR`..`MAX_YEAR`."""
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{column} {short(value)!r} is not a date such as 2026-03-01") from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(f"{column} {value!r} is outside the years {MIN_YEAR}–{MAX_YEAR}")
    return parsed


def amount(value: str, column: str, *, required: bool = False) -> Decimal:
    """A decimal amount (``12.50`` or ``12,50``) that fits the amount columns (under 10^16)."""
    if not value and required:
        raise ValueError(f"{column} is required")
    try:
        return normalise.money(value)
    except normalise.OutOfRange as exc:
        raise ValueError(f"{column} {exc}") from None
    except ValueError:
        raise ValueError(f"{column} {short(value)!r} is not an amount such as 12.50") from None


def integer(value: str, column: str, default: int) -> int:
    """A whole number that fits the integer columns (below 2^31 in size)."""
    if not value:
        return default
    try:
        number = Decimal(value)
    except ArithmeticError:  # InvalidOperation: not a number
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"{column} {short(value)!r} is not a whole number")
    if abs(number) >= MAX_INTEGER:
        raise ValueError(f"{column} {short(value)!r} is too large (below {MAX_INTEGER:,})")
    return int(number)


def email(value: str) -> str | None:
    """A lower-cased email address."""
    try:
        return normalise.email(value)
    except ValueError:
        raise ValueError(f"email {short(value)!r} is not an email address") from None


def phone(value: str, country: str | None) -> str | None:
    """A phone number, in E.164 when possible."""
    try:
        return normalise.phone(value, country)
    except ValueError:
        raise ValueError(f"phone {short(value)!r} is not a phone number") from None


def choice(value: str, column: str, table: dict, default=None):
    """One of the values of `table` (case-insensitive)."""
    if not value:
        if default is None:
            raise ValueError(f"{column} is required")
        return default
    try:
        return table[value.strip().lower()]
    except KeyError:
        known = ", ".join(sorted({str(v) for v in table.values()}))
        raise ValueError(f"{column} {short(value)!r} is not one of {known}") from None


def channel(value: str) -> Channel:
    """EMAIL or SMS."""
    return choice(value, "channel", {"email": Channel.EMAIL, "sms": Channel.SMS})


#: The opt-in levels by lower-cased name.
OPT_IN_LEVELS: dict[str, OptInLevel] = {level.value.lower(): level for level in OptInLevel}


def opt_in(value: str) -> OptInLevel:
    """SINGLE_OPT_IN, CONFIRMED_OPT_IN or UNKNOWN (the default)."""
    return choice(value, "opt_in_level", OPT_IN_LEVELS, OptInLevel.UNKNOWN)


#: The words a true/false column accepts.
BOOLEANS: dict[str, bool] = {"true": True, "yes": True, "1": True, "y": True, "t": True,
                             "false": False, "no": False, "0": False, "n": False, "f": False}


def boolean(value: str, column: str) -> bool | None:
    """true/false (also yes/no, 1/0); None when empty."""
    if not value:
        return None
    return choice(value, column, BOOLEANS)


def external_id(value: str) -> str:
    """An id as text; the leading apostrophe spreadsheet exports add (Shopify's ``'123``) is dropped."""
    return value[1:] if value.startswith("'") else value


def country(value: str) -> str | None:
    """An ISO 3166-1 alpha-2 code from a code or an English name ("Poland", "POL", "pl" → "PL")."""
    try:
        return normalise.iso_country(value)
    except ValueError as exc:
        raise ValueError(f"country {exc}") from None
