"""Acquisition channels with spend, CAC, LTV/CAC and ROI on a hand-built store."""

from datetime import date
from decimal import Decimal


from crm_graph.models import MarketingSpend
from crm_graph.services.dates import make_range
from crm_graph.services.lifecycle.channels import acquisition_channels
from tests.factories import StoreBuilder, utc

ODD = "Ünïcode & <odd> 'chars' / \"q\""


def test_channels_by_hand(session, store):
    b = StoreBuilder(session, store)
    a = b.customer(email="a@example.com", acquisition_channel="google / cpc")
    b.order(a, "100.00", utc(2026, 4, 3, 10))
    b.order(a, "50.00", utc(2026, 5, 10, 10))  # after the range: revenue to date only
    bb = b.customer(email="b@example.com", acquisition_channel="google / cpc")
    refunded = b.order(bb, "40.00", utc(2026, 4, 20, 10))
    b.refund(refunded, "10.00", utc(2026, 4, 25))
    c = b.customer(email="c@example.com", acquisition_channel="newsletter")
    b.order(c, "60.00", utc(2026, 4, 10, 10))
    d = b.customer(email="d@example.com", acquisition_channel="google / cpc")
    b.order(d, "20.00", utc(2026, 3, 15, 10))  # acquired before the range
    b.order(d, "20.00", utc(2026, 4, 5, 10))
    e = b.customer(email="e@example.com")
    b.order(e, "25.00", utc(2026, 4, 12, 10))
    f = b.customer(email="f@example.com", acquisition_channel=ODD)
    b.order(f, "10.00", utc(2026, 4, 15, 10))
    g = b.customer(email="g@example.com", acquisition_channel="google / cpc")
    b.order(g, "500.00", utc(2026, 4, 2, 10))
    g.erased_at = utc(2026, 4, 28)
    for channel, day, amount in (("google / cpc", date(2026, 4, 1), "50.00"), ("google / cpc", date(2026, 4, 30), "30.00"),
                                 ("google / cpc", date(2026, 5, 1), "1000.00"), ("newsletter", date(2026, 4, 5), "0.00"),
                                 ("facebook", date(2026, 4, 10), "20.00")):
        session.add(MarketingSpend(store_id=store.id, channel=channel, day=day, amount=Decimal(amount)))
    b.commit()

    rows = acquisition_channels(session, store, make_range(date(2026, 4, 1), date(2026, 4, 30), store.tz))

    assert [r.channel for r in rows] == ["google / cpc", "newsletter", ODD, None, "facebook"]
    google, newsletter, odd, unknown, facebook = rows
    # a and b: in range 100 + (40 − 10); to date 150 + 30; a is a repeat buyer.
    assert (google.new_customers, google.revenue_in_range, google.revenue_to_date) == (2, Decimal("130.00"), Decimal("180.00"))
    assert (google.repeat_customers, google.repeat_rate, google.average_ltv) == (1, 0.5, Decimal("90.00"))
    # Spend 50 + 30 = 80 → CAC 40; LTV/CAC 90/40; ROI (180 − 80)/80.
    assert (google.spend, google.cac, google.ltv_to_cac, google.roi) == (Decimal("80.00"), Decimal("40.00"), 2.25, 1.25)
    # Zero spend: CAC, LTV/CAC and ROI are null, never infinite.
    assert (newsletter.spend, newsletter.cac, newsletter.ltv_to_cac, newsletter.roi) == (Decimal("0.00"), None, None, None)
    assert (newsletter.repeat_rate, newsletter.average_ltv) == (0.0, Decimal("60.00"))
    assert (odd.new_customers, odd.revenue_to_date, odd.spend, odd.cac) == (1, Decimal("10.00"), None, None)
    assert (unknown.new_customers, unknown.revenue_in_range, unknown.roi) == (1, Decimal("25.00"), None)
    # Spend without customers: CAC null (no one acquired), ROI −1 (the spend is lost so far).
    assert (facebook.new_customers, facebook.repeat_rate, facebook.average_ltv) == (0, None, None)
    assert (facebook.spend, facebook.cac, facebook.roi) == (Decimal("20.00"), None, -1.0)


def test_empty_store(session, store):
    assert acquisition_channels(session, store, make_range(date(2026, 4, 1), date(2026, 4, 30), store.tz)) == []
