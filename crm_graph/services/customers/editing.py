"""Creating and updating a customer through the API, with the same normalisation connectors apply.

- Email: syntax checked (no DNS look-up), stored lower-cased; another customer of the store with the
  same email is a `Conflict` (erased customers hold no email, so they never conflict).
- Phone: parsed with the `phonenumbers` library and stored in E.164. A number without `+` is read in
  the customer's country (the `country` given in the same input, or the one on record); when it
  still cannot be parsed, the digits are kept as given (with a leading `+` if there was one), so a
  phone is never refused only for being foreign. Letters or fewer than 5 digits are refused.
- Country: ISO 3166-1 alpha-2, upper-cased.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlmodel import Session

from crm_graph.errors import NotFound
from crm_graph.models import Customer, Store
from crm_graph.models.enums import Gender
from crm_graph.models.types import utcnow
from crm_graph.services.customers.errors import Conflict, FieldError

#: Fields a client may set; values are already parsed by the caller (GraphQL input types).
EDITABLE = ("email", "phone", "first_name", "last_name", "gender", "country", "city")
_MAX_LENGTH = {"first_name": 200, "last_name": 200, "city": 200}


def normalise_email(value: str | None, field: str = "email") -> str | None:
    """`value` lower-cased after a syntax check, None for empty, or a `FieldError`."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > 320:
        raise FieldError(field, f"`{field}` is longer than 320 characters.")
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise FieldError(field, f"`{field}` {value!r} is not an email address: {exc}") from None
    return checked.normalized.lower()


def normalise_phone(value: str | None, country: str | None = None, field: str = "phone") -> str | None:
    """`value` in E.164 where it can be parsed (in `country` when it has no `+`), else its digits."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > 40 or not re.fullmatch(r"\+?[\d\s().\-/]+", value):
        raise FieldError(field, f"`{field}` {value!r} is not a phone number: use digits, optionally starting with +.")
    digits = re.sub(r"\D", "", value)
    if not 5 <= len(digits) <= 15:
        raise FieldError(field, f"`{field}` {value!r} must have 5 to 15 digits.")
    try:
        parsed = phonenumbers.parse(value, country if not value.startswith("+") else None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return ("+" if value.startswith("+") else "") + digits


def create_customer(session: Session, store: Store, values: dict[str, Any]) -> Customer:
    """Create a customer of `store` from `values` (keys of `EDITABLE`); it is first seen now."""
    customer = Customer(store_id=store.id, created_at=utcnow(), updated_at=utcnow())
    _apply(session, store, customer, values)
    session.add(customer)
    session.flush()
    return customer


def update_customer(session: Session, store: Store, customer_id: int, changes: dict[str, Any]) -> Customer:
    """Change the fields in `changes` (a None value clears the field) of the store's customer."""
    customer = session.exec(
        select(Customer).where(Customer.store_id == store.id, Customer.id == customer_id, Customer.erased_at.is_(None))
        .with_for_update()
    ).scalars().first()
    if customer is None:
        raise NotFound(f"`id`: the store has no customer {customer_id}.")
    _apply(session, store, customer, changes)
    customer.updated_at = utcnow()
    session.add(customer)
    session.flush()
    return customer


def _apply(session: Session, store: Store, customer: Customer, values: dict[str, Any]) -> None:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise FieldError(sorted(unknown)[0], f"`{sorted(unknown)[0]}` cannot be set.")
    if "country" in values:
        country = (values["country"] or "").strip().upper() or None
        if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
            raise FieldError("country", f"`country` {values['country']!r} is not a two-letter ISO 3166-1 code.")
        customer.country = country
    if "email" in values:
        email = normalise_email(values["email"])
        if email is not None and email != customer.email:
            clash = session.exec(
                select(func.count()).select_from(Customer)
                .where(Customer.store_id == store.id, Customer.email == email, Customer.erased_at.is_(None))
            ).scalar_one()
            if clash:
                raise Conflict(f"`email`: another customer of the store already has {email!r}.", field="email")
        customer.email = email
    if "phone" in values:
        customer.phone = normalise_phone(values["phone"], customer.country)
    for name in ("first_name", "last_name", "city"):
        if name in values:
            text = (values[name] or "").strip() or None
            if text is not None and len(text) > _MAX_LENGTH[name]:
                raise FieldError(name, f"`{_camel(name)}` is longer than {_MAX_LENGTH[name]} characters.")
            setattr(customer, name, text)
    if "gender" in values:
        customer.gender = Gender(values["gender"] or Gender.UNKNOWN).value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
