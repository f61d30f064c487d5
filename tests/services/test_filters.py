"""The customer filter model: JSON round trip for saved segments, validation messages, escaping."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.services.filters import CustomerFilter, escape_like, filtered_customer_ids, parse_filter
from tests.factories import StoreBuilder


def test_json_round_trip_keeps_only_set_conditions():
    original = CustomerFilter(countries=["pl"], spent_min=Decimal("10.50"), customer_since_from=date(2025, 1, 1),
                              email_consent=["SUBSCRIBED"], segment_id=4)
    stored = original.to_json()
    assert stored == {"countries": ["PL"], "spent_min": "10.50", "customer_since_from": "2025-01-01",
                      "email_consent": ["SUBSCRIBED"], "segment_id": 4}
    assert CustomerFilter.model_validate(stored) == original
    assert CustomerFilter().is_empty() and not original.is_empty()
    assert CustomerFilter(search="   ").is_empty()


@pytest.mark.parametrize("data, words", [
    ({"countries": ["Poland"]}, "`filter.countries`"),
    ({"orders_min": 5, "orders_max": 2}, "ordersMin must not be greater than ordersMax"),
    ({"colour": "red"}, "`filter.colour`"),
    ({"email_consent": ["MAYBE"]}, "`filter.emailConsent.0`"),
])
def test_parse_errors_name_the_field(data, words):
    with pytest.raises(UserError) as error:
        parse_filter(data)
    assert words in str(error.value)


def test_escape_like():
    assert escape_like("50%_off\\") == "50\\%\\_off\\\\"


def test_filtered_ids_is_a_select_usable_as_subquery(engine, store):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        keep = b.customer(email="a@example.com", country="PL")
        b.customer(email="b@example.com", country="DE")
        b.commit()
        query = filtered_customer_ids(store, CustomerFilter(countries=["PL"]))
        assert session.exec(query).scalars().all() == [keep.id]
    with pytest.raises(UserError):
        filtered_customer_ids(store, CustomerFilter(segment_id=1))  # a saved segment needs a session
