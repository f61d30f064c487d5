"""customerCreate and customerUpdate: normalisation, typed errors, nothing changed on error."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from crm_graph.graphql.relay import global_id
from crm_graph.models import Customer
from tests.factories import StoreBuilder

CREATE = """mutation($input: CustomerInput!) { customerCreate(input: $input) {
  __typename ... on Customer { id email phone firstName country gender }
  ... on UserError { code message field } } }"""
UPDATE = """mutation($id: ID!, $input: CustomerInput!) { customerUpdate(id: $id, input: $input) {
  __typename ... on Customer { id email phone firstName lastName city }
  ... on UserError { code message field } } }"""


def count(engine, store):
    with Session(engine) as session:
        return len(session.exec(select(Customer).where(Customer.store_id == store.id)).all())


def test_create_normalises_email_and_phone(api, store):
    result = api.data(CREATE, {"input": {"email": "  Anna.K@Example.COM ", "phone": "601 234 567", "country": "pl",
                                         "firstName": " Anna ", "gender": "FEMALE"}},
                      key=api.key(store, "write"))["customerCreate"]
    assert result["__typename"] == "Customer"
    assert result["email"] == "anna.k@example.com"
    assert result["phone"] == "+48601234567"
    assert result["country"] == "PL" and result["firstName"] == "Anna" and result["gender"] == "FEMALE"


@pytest.mark.parametrize("phone, country, stored", [
    ("+1 (415) 555-2671", None, "+14155552671"),
    ("0048 601-234-567", "PL", "+48601234567"),
    ("12345", None, "12345"),  # cannot be parsed without a country: digits kept
])
def test_phone_is_e164_where_possible(api, store, phone, country, stored):
    result = api.data(CREATE, {"input": {"phone": phone, "country": country}}, key=api.key(store, "write"))
    assert result["customerCreate"]["phone"] == stored


@pytest.mark.parametrize("input, field", [
    ({"email": "not-an-email"}, ["input", "email"]),
    ({"email": "a@b@c.com"}, ["input", "email"]),
    ({"email": "x" * 330 + "@example.com"}, ["input", "email"]),
    ({"phone": "call me maybe"}, ["input", "phone"]),
    ({"phone": "12"}, ["input", "phone"]),
    ({"country": "Poland"}, ["input", "country"]),
    ({"firstName": "x" * 201}, ["input", "firstName"]),
])
def test_bad_input_is_a_validation_error_and_creates_nothing(api, store, engine, input, field):
    result = api.data(CREATE, {"input": input}, key=api.key(store, "write"))["customerCreate"]
    assert result["__typename"] == "ValidationError" and result["code"] == "BAD_USER_INPUT"
    assert result["field"] == field
    assert count(engine, store) == 0


def test_duplicate_email_in_the_store_is_a_conflict(api, store, make_store, engine):
    key = api.key(store, "write")
    assert api.data(CREATE, {"input": {"email": "dup@example.com"}}, key=key)["customerCreate"]["__typename"] == "Customer"
    again = api.data(CREATE, {"input": {"email": "DUP@example.com"}}, key=key)["customerCreate"]
    assert again["__typename"] == "ConflictError" and again["code"] == "CONFLICT" and again["field"] == ["input", "email"]
    other = make_store()
    assert api.data(CREATE, {"input": {"email": "dup@example.com"}}, key=api.key(other, "write"))["customerCreate"]["__typename"] == "Customer"
    assert count(engine, store) == 1


def test_update_changes_only_given_fields_and_null_clears(api, store, engine):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        anna = b.customer(email="anna@example.com", first_name="Anna", last_name="K", city="Kraków")
        b.customer(email="taken@example.com")
        b.commit()
    key = api.key(store, "write")
    result = api.data(UPDATE, {"id": global_id("Customer", anna.id), "input": {"lastName": "Kowalska", "city": None}},
                      key=key)["customerUpdate"]
    assert result == {"__typename": "Customer", "id": global_id("Customer", anna.id), "email": "anna@example.com", "phone": None,
                      "firstName": "Anna", "lastName": "Kowalska", "city": None}
    clash = api.data(UPDATE, {"id": global_id("Customer", anna.id), "input": {"email": "taken@example.com", "lastName": "X"}}, key=key)
    assert clash["customerUpdate"]["__typename"] == "ConflictError"
    with Session(engine) as session:
        assert session.get(Customer, anna.id).last_name == "Kowalska"  # nothing of the refused change stayed


def test_update_of_unknown_or_foreign_id_is_not_found(api, store, make_store, engine):
    other = make_store()
    with Session(engine, expire_on_commit=False) as session:
        foreign = StoreBuilder(session, other).customer(email="f@example.com")
        session.commit()
    key = api.key(store, "write")
    with Session(engine, expire_on_commit=False) as session:
        mine = StoreBuilder(session, store).customer(email="m@example.com")
        session.commit()
    for customer_id in (global_id("Customer", foreign.id), global_id("Customer", 999999999), str(mine.id),
                        global_id("Order", mine.id), "abc", "-1", ""):
        result = api.data(UPDATE, {"id": customer_id, "input": {"firstName": "X"}}, key=key)["customerUpdate"]
        assert (result["__typename"], result["code"], result["field"]) == ("NotFoundError", "NOT_FOUND", ["id"]), customer_id
    with Session(engine) as session:
        assert session.get(Customer, foreign.id).first_name is None
        assert session.get(Customer, mine.id).first_name is None


def test_read_key_cannot_mutate(api, store):
    assert api.error_codes(CREATE, {"input": {"email": "a@example.com"}}, key=api.key(store, "read")) == ["FORBIDDEN"]
