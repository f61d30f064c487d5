"""Putler's period KPIs (docs/metrics.md, “Period KPIs”) and their time series, worked out by hand."""

from datetime import date
from decimal import Decimal

from crm_graph.services.analytics.period import change, iso_duration, period_kpis
from crm_graph.services.dates import Granularity, resolve_range
from tests.factories import StoreBuilder, utc

MARCH = (date(2026, 3, 1), date(2026, 3, 31))  # 31 days; the previous period is 29 Jan - 28 Feb


def build_store(session, store):
    """Range March 2026 (UTC); previous period 29 January - 28 February.

      P: 10 Jan (100), 5 Mar (200)                    March: returning, 1 order, net 200
      Q: 10 Feb (50), 10 Mar (60), 20 Mar (40)        March: returning, repeat, net 100; Feb: new
      R: 15 Mar (300), 100 refunded 20 Mar, 50 refunded 3 Apr (after the range)   new, net 200
      S: 31 Mar 23:00 (80)                            new (last hour of the range)
      T: 12 Mar REFUNDED (120) refunded 13 Mar; 14 Mar CANCELLED (500)   new, net 0, lost
      U: 8 Mar CANCELLED (70) only                    not a customer; lost
      V: 5 Feb (90), 5 Apr (70, after the range; 20 refunded 6 Apr)   February only: new there
      W: erased, 3 Mar (1000)                         nowhere
      Y: 25 Mar (150), 30 refunded 26 Mar (partial)   new, net 120, not lost
      X: PENDING 2 Mar, FAILED 3 Mar                  nowhere
      a guest order 9 Mar (33)                        unattributed
    """
    b = StoreBuilder(session, store)
    c = {name: b.customer() for name in "PQRSTUVXY"}
    b.order(c["P"], "100", utc(2026, 1, 10, 12))
    b.order(c["P"], "200", utc(2026, 3, 5, 12))
    b.order(c["Q"], "50", utc(2026, 2, 10, 12))
    b.order(c["Q"], "60", utc(2026, 3, 10, 12))
    b.order(c["Q"], "40", utc(2026, 3, 20, 12))
    r1 = b.order(c["R"], "300", utc(2026, 3, 15, 12))
    b.refund(r1, "100", utc(2026, 3, 20, 12))
    b.refund(r1, "50", utc(2026, 4, 3, 12))
    b.order(c["S"], "80", utc(2026, 3, 31, 23))
    t1 = b.order(c["T"], "120", utc(2026, 3, 12, 12), status="REFUNDED")
    b.refund(t1, "120", utc(2026, 3, 13, 12))
    b.order(c["T"], "500", utc(2026, 3, 14, 12), status="CANCELLED")
    b.order(c["U"], "70", utc(2026, 3, 8, 12), status="CANCELLED")
    b.order(c["V"], "90", utc(2026, 2, 5, 12))
    v2 = b.order(c["V"], "70", utc(2026, 4, 5, 12))
    b.refund(v2, "20", utc(2026, 4, 6, 12))
    erased = b.customer(erased_at=utc(2026, 4, 1))
    b.order(erased, "1000", utc(2026, 3, 3, 12))
    y1 = b.order(c["Y"], "150", utc(2026, 3, 25, 12))
    b.refund(y1, "30", utc(2026, 3, 26, 12))
    b.order(c["X"], "45", utc(2026, 3, 2, 12), status="PENDING")
    b.order(c["X"], "45", utc(2026, 3, 3, 12), status="FAILED")
    b.order(None, "33", utc(2026, 3, 9, 12))
    b.commit()


def test_current_period(session, store):
    build_store(session, store)
    k = period_kpis(session, store, resolve_range(store, MARCH, today=date(2026, 6, 1)))
    now = k.current
    assert (now.customers, now.new_customers, now.returning_customers) == (6, 4, 2)  # P..Y; R,S,T,Y; P,Q
    assert now.orders == 7  # P1 Q2 R1 S1 T1 Y1
    assert now.net_revenue == Decimal("700.00")  # 200 + 100 + 200 + 80 + 0 + 120
    assert (now.lost_customers, now.ordering_customers) == (2, 7)  # T and U of P,Q,R,S,T,U,Y
    assert now.lost_share == Decimal("0.2857")
    assert (now.one_time_buyers, now.repeat_buyers) == (5, 1)
    # Top 20% of 6 = ceil(1.2) = 2 customers: P 200 and R 200 -> 400 of 700.
    assert (now.top_customers, now.top_customers_revenue) == (2, Decimal("400.00"))
    assert now.top_customers_share == Decimal("0.5714")
    assert now.average_revenue_per_customer == Decimal("116.67")  # 700 / 6
    assert now.orders_per_customer == Decimal("1.17")  # 7 / 6
    assert now.average_order_value == Decimal("100.00")  # 700 / 7
    assert now.acquired_per_day == Decimal("0.13")  # 4 / 31
    assert now.new_customer_every_seconds == 669600  # 31 * 86400 / 4 = 7.75 days
    assert iso_duration(now.new_customer_every_seconds) == "P7DT18H"
    # Spenders by 1 April: P,Q,R,S,T,V,Y. Net as of then: P 300, Q 150, R 200 (the April refund not
    # yet), S 80, T 0, V 90 (the April order not yet), Y 120 = 940.
    assert (now.spenders, now.lifetime_revenue) == (7, Decimal("940.00"))
    assert now.average_ltv == Decimal("134.29")
    assert (now.unattributed_orders, now.unattributed_revenue) == (1, Decimal("33.00"))


def test_previous_period_and_changes(session, store):
    build_store(session, store)
    k = period_kpis(session, store, resolve_range(store, MARCH, today=date(2026, 6, 1)))
    before = k.previous
    assert (before.range.first_day, before.range.last_day) == (date(2026, 1, 29), date(2026, 2, 28))
    assert (before.customers, before.new_customers, before.returning_customers) == (2, 2, 0)  # Q, V
    assert (before.orders, before.net_revenue) == (2, Decimal("140.00"))
    assert (before.top_customers, before.top_customers_revenue) == (1, Decimal("90.00"))  # ceil(0.4) = 1
    # Spenders by 1 March: P (100), Q (50), V (90).
    assert (before.spenders, before.lifetime_revenue, before.average_ltv) == (3, Decimal("240.00"), Decimal("80.00"))
    assert before.lost_share == Decimal("0.0000")
    assert change(k.current.customers, before.customers) == (4, 2.0)
    assert change(k.current.net_revenue, before.net_revenue) == (Decimal("560.00"), 4.0)
    assert change(k.current.lost_customers, before.lost_customers) == (2, None)  # base 0


def test_daily_and_weekly_series(session, store):
    build_store(session, store)
    r = resolve_range(store, MARCH, today=date(2026, 6, 1))
    daily = period_kpis(session, store, r, Granularity.DAY).series
    assert len(daily) == 31
    by_day = {point.bucket.first_day.day: (point.customers, point.new_customers, point.revenue, point.orders)
              for point in daily}
    assert by_day[10] == (1, 0, Decimal("60.00"), 1)   # Q
    assert by_day[12] == (1, 1, Decimal("0.00"), 1)    # T, refunded in full
    assert by_day[15] == (1, 1, Decimal("200.00"), 1)  # R, net of the 20 March refund
    assert by_day[31] == (1, 1, Decimal("80.00"), 1)   # S at 23:00
    assert by_day[9] == (0, 0, Decimal("0.00"), 0)     # only the guest order
    assert sum(p.revenue for p in daily) == Decimal("700.00")
    assert sum(p.orders for p in daily) == 7 and sum(p.new_customers for p in daily) == 4

    weekly = period_kpis(session, store, r, Granularity.WEEK).series
    # 1 March 2026 is a Sunday: [1], [2-8], [9-15], [16-22], [23-29], [30-31].
    assert [p.bucket.first_day.day for p in weekly] == [1, 2, 9, 16, 23, 30]
    assert [(p.customers, p.new_customers, p.revenue, p.orders) for p in weekly] == [
        (0, 0, Decimal("0.00"), 0),
        (1, 0, Decimal("200.00"), 1),  # P
        (3, 2, Decimal("260.00"), 3),  # Q 60, T 0 (new), R 200 (new)
        (1, 0, Decimal("40.00"), 1),   # Q again: counted in every week it bought
        (1, 1, Decimal("120.00"), 1),  # Y
        (1, 1, Decimal("80.00"), 1),   # S
    ]
    monthly = period_kpis(session, store, r, Granularity.MONTH).series
    assert [(p.customers, p.new_customers, p.orders) for p in monthly] == [(6, 4, 7)]  # unique buyers


def test_warsaw_dst_days(session, make_store):
    store = make_store(timezone="Europe/Warsaw")
    b = StoreBuilder(session, store)
    a, bb, c, d, e = (b.customer() for _ in range(5))
    b.order(a, "10", utc(2026, 3, 28, 22, 30))   # 23:30 CET, 28 March
    b.order(bb, "20", utc(2026, 3, 28, 23, 30))  # 00:30 CET, 29 March (UTC date: 28th)
    b.order(c, "30", utc(2026, 3, 29, 21, 30))   # 23:30 CEST, 29 March
    b.order(d, "40", utc(2026, 3, 29, 22, 10))   # 00:10 CEST, 30 March: after the range
    b.order(e, "50", utc(2026, 3, 27, 22, 30))   # 23:30 CET, 27 March: previous period
    b.commit()
    k = period_kpis(session, store, resolve_range(store, (date(2026, 3, 28), date(2026, 3, 29)), today=date(2026, 6, 1)))
    assert (k.current.customers, k.current.net_revenue) == (3, Decimal("60.00"))
    assert [(p.bucket.label, p.customers, p.revenue) for p in k.series] == [
        ("2026-03-28", 1, Decimal("10.00")), ("2026-03-29", 2, Decimal("50.00"))]
    assert (k.previous.customers, k.previous.net_revenue) == (1, Decimal("50.00"))  # 26-27 March
    assert k.current.range.days == 2 and k.current.new_customer_every_seconds == 57600  # 2 days / 3 new


def test_empty_store(session, store):
    k = period_kpis(session, store, resolve_range(store, MARCH, today=date(2026, 6, 1)))
    now = k.current
    assert (now.customers, now.orders, now.net_revenue, now.spenders) == (0, 0, Decimal("0.00"), 0)
    assert now.average_ltv is None and now.average_order_value is None and now.lost_share is None
    assert now.top_customers_share is None and now.new_customer_every_seconds is None
    assert now.acquired_per_day == Decimal("0.00")
    assert len(k.series) == 31 and all(p.orders == 0 for p in k.series)


def test_future_range(session, store):
    build_store(session, store)
    k = period_kpis(session, store, resolve_range(store, (date(2027, 1, 1), date(2027, 1, 10)), today=date(2026, 6, 1)))
    assert (k.current.customers, k.current.orders, k.previous.customers) == (0, 0, 0)
    # Every spender by then, with everything refunded by then: 940 + V's April 70 - 20 - R's April 50 = 940.
    assert (k.current.spenders, k.current.lifetime_revenue) == (7, Decimal("940.00"))
    assert k.current.average_ltv == Decimal("134.29")
    # As of the end of 2 April: R's refund of 3 April not yet, V's order of 5 April not yet -> 940.
    early = period_kpis(session, store, resolve_range(store, (date(2026, 4, 1), date(2026, 4, 2)), today=date(2026, 6, 1)))
    assert (early.current.spenders, early.current.lifetime_revenue) == (7, Decimal("940.00"))
    # As of the end of 5 April: R's 50 refunded (-50), V's 70 placed and not yet refunded (+70) -> 960.
    later = period_kpis(session, store, resolve_range(store, (date(2026, 4, 4), date(2026, 4, 5)), today=date(2026, 6, 1)))
    assert later.current.lifetime_revenue == Decimal("960.00")
    # Its previous period ends with 3 April: R's 50 refunded that day, V's order not yet -> 890.
    assert later.previous.lifetime_revenue == Decimal("890.00")


def test_iso_duration():
    assert iso_duration(None) is None
    assert iso_duration(0) == "PT0S"
    assert iso_duration(86400) == "P1D"
    assert iso_duration(3661) == "PT1H1M1S"
    assert iso_duration(129600) == "P1DT12H"
