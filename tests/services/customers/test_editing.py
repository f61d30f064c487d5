"""Email and phone normalisation."""

import pytest

from crm_graph.services.customers.editing import normalise_email, normalise_phone
from crm_graph.services.customers.errors import FieldError


@pytest.mark.parametrize("raw, country, expected", [
    ("+48 601 234 567", None, "+48601234567"),
    ("601234567", "PL", "+48601234567"),
    ("(030) 1234567", "DE", "+49301234567"),
    ("+44 20 7946 0958", "PL", "+442079460958"),  # a + number ignores the country
    ("0601234567", None, "0601234567"),  # no country to read it in: digits kept
    ("", None, None),
    (None, None, None),
])
def test_phone(raw, country, expected):
    assert normalise_phone(raw, country) == expected


@pytest.mark.parametrize("raw", ["abc", "12", "+" + "1" * 16, "601-234-567 ext. 5"])
def test_bad_phone(raw):
    with pytest.raises(FieldError):
        normalise_phone(raw)


def test_email():
    assert normalise_email(" Anna@EXAMPLE.com ") == "anna@example.com"
    assert normalise_email("") is None
    for bad in ("anna", "anna@", "@example.com", "a b@example.com"):
        with pytest.raises(FieldError):
            normalise_email(bad)
