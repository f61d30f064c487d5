"""Extreme values in arguments are BAD_USER_INPUT naming the argument, never a masked internal error.

Dates far outside any store's life (0001-01-01, 9999-12-31) used to overflow day arithmetic or the
conversion to UTC; amounts such as 1e999999 or 1e-999999 overflowed PostgreSQL's numeric. Every
filter date and amount is now checked where the filter is parsed, for queries and mutations alike.
"""

from __future__ import annotations

import pytest

from tests.factories import StoreBuilder, utc

LIST = "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }"
TYPED = "__typename ... on UserError { code field message }"
TAG = "mutation($f: CustomerFilter) { customersTag(tags: [\"x\"], filter: $f) { %s } }" % TYPED
CONSENT = ("mutation($f: CustomerFilter) { customersConsentSet(channel: EMAIL, state: SUBSCRIBED, filter: $f) "
           "{ %s } }" % TYPED)
EXPORT = "mutation($f: CustomerFilter) { customersExport(filter: $f) { %s } }" % TYPED

EXTREMES = [
    ("customerSinceFrom", "0001-01-01"), ("customerSinceTo", "9999-12-31"), ("lastActivityFrom", "0001-01-01"),
    ("lastActivityTo", "9999-12-31"), ("spenderSegmentsAsOf", "0001-01-01"), ("spentMin", "1e999999"),
    ("spentMax", "-1e999999"), ("predictedValueMin", "1e999999"),
    ("predictedValueMax", "99999999999999999"),
]


@pytest.fixture
def warsaw(make_store, engine):
    """A store east of UTC with a customer and an order: local midnights of year 1 would overflow."""
    from sqlmodel import Session

    store = make_store(timezone="Europe/Warsaw")
    with Session(engine, expire_on_commit=False) as session:
        builder = StoreBuilder(session, store)
        builder.order(builder.customer(email="a@example.com"), "12.00", utc(2026, 1, 1))
        builder.commit()
    return store


@pytest.mark.parametrize(("name", "value"), EXTREMES, ids=[f"{n}={v}" for n, v in EXTREMES])
def test_extreme_filter_values_are_bad_user_input(api, warsaw, name, value):
    key = api.key(warsaw)
    for document in (LIST, TAG, CONSENT, EXPORT):
        body = api.post(document, {"f": {name: value}}, key=key)
        errors = body.get("errors") or []
        if not errors:  # a mutation answers a typed error instead, naming the input field by its path
            result = next(iter(body["data"].values()))
            assert (result["__typename"], result["code"], result["field"]) == (
                "ValidationError", "BAD_USER_INPUT", ["filter", name]), (document, result)
            assert f"`filter.{name}`" in result["message"]
            continue
        assert [error["extensions"]["code"] for error in errors] == ["BAD_USER_INPUT"], errors
        assert f"`filter.{name}`" in errors[0]["message"], errors[0]["message"]


def test_extreme_literal_is_bad_user_input(api, warsaw):
    body = api.post('{ customers(filter: { spentMin: "1e999999", customerSinceFrom: "2026-01-01" }) { totalCount } }',
                    key=api.key(warsaw))
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
    assert "`filter.spentMin`" in body["errors"][0]["message"]


def test_sane_values_still_filter(api, warsaw):
    key = api.key(warsaw)
    data = api.data(LIST, {"f": {"customerSinceFrom": "1900-01-01", "customerSinceTo": "2999-12-31",
                                 "spentMin": "12.004", "spentMax": "9999999999999999.99"}}, key=key)
    assert data["customers"]["totalCount"] == 1
    tiny = api.data(LIST, {"f": {"spentMin": "1e-999999"}}, key=key)  # rounds to 0.00, as amounts are stored
    assert tiny["customers"]["totalCount"] == 1
