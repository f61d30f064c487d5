"""Converters shared by connectors: emails, phones, instants, money."""

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm_graph.connectors import normalise as n
from tests.factories import utc


def test_email_and_phone():
    assert n.email("  Ann@Example.COM ") == "ann@example.com" and n.email("") is None
    with pytest.raises(ValueError):
        n.email("ann(at)example.com")
    assert n.phone("+48 600-100-200") == "+48600100200" and n.phone("0048600100200") == "+48600100200"
    assert n.phone("600 100 200", "PL") == "+48600100200" and n.phone("(555) 555-5555", "US") == "+15555555555"
    assert n.phone("600100200") == "600100200" and n.phone(" ") is None


def test_instants_are_utc():
    assert n.instant("2024-04-02T08:59:11-05:00") == utc(2024, 4, 2, 13, 59, 11)
    assert n.instant("2017-03-22T19:28:02") == utc(2017, 3, 22, 19, 28, 2)  # WooCommerce *_gmt: UTC
    assert n.instant("2026-03-29T02:30:00", assume=ZoneInfo("Europe/Warsaw")) == utc(2026, 3, 29, 1, 30)
    assert n.instant("2026-01-01T00:00:00Z") == utc(2026, 1, 1)
    with pytest.raises(ValueError):
        n.instant("yesterday")


def test_money_is_decimal_with_cents():
    assert n.money("29.35") == Decimal("29.35") and n.money(3) == Decimal("3.00") and n.money(0.1) == Decimal("0.10")
    assert n.money("12,50") == Decimal("12.50") and n.money(None) == Decimal("0.00")
    with pytest.raises(ValueError):
        n.money("NaN")
    assert n.gid_tail("gid://shopify/Customer/706405506930370084") == "706405506930370084"
