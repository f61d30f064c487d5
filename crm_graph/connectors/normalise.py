"""Small, strict converters connectors share: emails, phones, instants, money, countries.

Each raises `ValueError` with a readable reason on bad input, so that a connector can turn it into a
`RecordError` for that record instead of dropping the record silently.
"""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

_CENT = Decimal("0.01")
#: Amounts are stored as numeric(18, 2): at most 16 digits before the point.
MAX_AMOUNT = Decimal("1e16")
#: The longest email address (RFC 5321) and phone number the customer and order columns hold.
MAX_EMAIL, MAX_PHONE = 320, 32
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NOT_DIGITS = re.compile(r"[^\d]")


class OutOfRange(ValueError):
    """A well-formed value outside what the database holds (a year 0001, an amount of 1e999999)."""


def email(value: str | None) -> str | None:
    """The address lower-cased and trimmed, None when empty; ValueError when it is not an address."""
    if value is None:
        return None
    value = value.strip().lower()
    if not value:
        return None
    if len(value) > MAX_EMAIL or not _EMAIL.match(value):
        raise ValueError(f"{short(value)!r} is not an email address")
    return value


def phone(value: str | None, country: str | None = None) -> str | None:
    """The number in E.164 (``+48600100200``) where that is possible, else its digits; None when empty.

    A number written with ``+`` or ``00`` is international already; a national number becomes E.164
    when `country` (ISO 3166 alpha-2) is known and `phonenumbers` parses it.
    """
    if value is None:
        return None
    raw = value.strip()
    if not raw:
        return None
    digits = _NOT_DIGITS.sub("", raw)
    if not digits or len(digits) >= MAX_PHONE:
        raise ValueError(f"{short(value)!r} is not a phone number")
    if raw.startswith("+"):
        return "+" + digits
    if raw.startswith("00") and len(digits) > 4:
        return "+" + digits[2:]
    if country:
        national = _national(raw, country.upper())
        if national:
            return national
    return digits[:32]


@lru_cache(maxsize=65536)
def _national(raw: str, country: str) -> str | None:
    """A national number in E.164 via `phonenumbers` (cached: shops repeat numbers and parsing is slow)."""
    try:
        import phonenumbers

        parsed = phonenumbers.parse(raw, country)
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except Exception:  # noqa: BLE001  (an unparseable national number keeps its digits)
        pass
    return None


def instant(value: str | datetime | None, *, assume: ZoneInfo | timezone = timezone.utc) -> datetime | None:
    """An ISO 8601 text or datetime as an aware UTC instant; a value without offset is in `assume`.

    ``Z`` and offsets such as ``-05:00`` are honoured; WooCommerce's ``*_gmt`` fields have no offset and
    are UTC, which is the default of `assume`. A year outside `MIN_YEAR`..`MAX_YEAR` is refused (it is
    a placeholder such as 0001-01-01, and the conversion to UTC could overflow).
    """
    from crm_graph.services.dates import MAX_YEAR, MIN_YEAR

    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = value.strip()
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{short(value)!r} is not an ISO 8601 date-time") from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise OutOfRange(f"{short(str(value))!r} is outside the years {MIN_YEAR}–{MAX_YEAR}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=assume)
    return moment.astimezone(timezone.utc)


def money(value: str | int | float | Decimal | None, *, default: Decimal | None = Decimal("0.00")) -> Decimal:
    """An amount as a Decimal with two places; floats go through `str` so that 0.1 stays 0.10."""
    if value is None or value == "":
        if default is None:
            raise ValueError("an amount is required")
        return default
    try:
        amount = Decimal(str(value).strip().replace(",", ".")) if isinstance(value, str) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{short(str(value))!r} is not an amount")
    if abs(amount) >= MAX_AMOUNT:
        raise OutOfRange(f"{short(str(value))!r} is too large an amount (at most 16 digits before the point)")
    return amount.quantize(_CENT)


def country(value: str | None) -> str | None:
    """An ISO 3166 alpha-2 code upper-cased, None when empty or not a two-letter code."""
    if not value:
        return None
    value = value.strip().upper()
    return value if len(value) == 2 and value.isalpha() else None


#: Names people write for a country that ISO 3166 spells otherwise (compared lower-cased).
_COUNTRY_ALIASES = {
    "uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "russia": "RU", "holland": "NL",
}


@lru_cache(maxsize=4096)
def iso_country(value: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country written as its alpha-2, alpha-3 or numeric code or its
    English name ("Poland", "POL", "pl", "616" → "PL"), None when empty; `ValueError` when it names no
    country. The names and codes are `pycountry`'s (ISO's own data, kept up to date)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    alias = _COUNTRY_ALIASES.get(value.lower())
    if alias:
        return alias
    import pycountry  # loaded on first use: its database is read then

    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        raise ValueError(f"{value[:40]!r} is not a country (an ISO 3166 code such as PL or POL, or a name "
                         "such as Poland)") from None


def text(value: object, limit: int) -> str | None:
    """`value` as trimmed text cut to the column's `limit`, None when empty."""
    if value is None:
        return None
    out = str(value).strip()
    return out[:limit] if out else None


def gid_tail(value: str | int | None) -> str | None:
    """The numeric id at the end of a Shopify GID (``gid://shopify/Customer/123`` -> ``123``), as text."""
    if value is None:
        return None
    value = str(value)
    return value.rsplit("/", 1)[-1] if value.startswith("gid://") else value


def short(value: str, limit: int = 60) -> str:
    """`value` cut for an error message (a reason must not repeat a 10 KB cell)."""
    return value if len(value) <= limit else value[:limit] + "…"
