"""A generated store of 2,000 customers looks like a real shop and obeys the data model's rules."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from crm_graph.generator import generate_store
from crm_graph.models import Order
from crm_graph.services.customer_stats import refresh_customer_stats
from tests.factories import StoreFactory

ANCHOR = date(2026, 6, 15)
CUSTOMERS = 2_000


@pytest.fixture(scope="module")
def generated(engine):
    """One generated store per backend for the whole module (the checks only read it)."""
    store = StoreFactory(engine)(timezone="Europe/Warsaw", currency="PLN")
    summary = generate_store(engine, store, customers=CUSTOMERS, seed=42, anchor=ANCHOR)
    return store, summary


def scalar(engine, query: str, store, **params):
    with engine.connect() as connection:
        return connection.execute(text(query), {"s": store.id, **params}).scalar()


def instant(value) -> datetime:
    """A timestamp read with plain SQL (SQLite gives text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def rows(engine, query: str, store, **params):
    with engine.connect() as connection:
        return connection.execute(text(query), {"s": store.id, **params}).all()


def test_summary_counts_match_the_tables(engine, generated):
    store, summary = generated
    for table in ("customer", "orders", "order_line", "refund", "consent_event", "activity_event", "customer_tag"):
        assert scalar(engine, f'SELECT COUNT(*) FROM "{table}" WHERE store_id = :s', store) == summary.counts[table]
    assert summary.counts["customer"] == CUSTOMERS
    # Roughly the benchmark's proportions: 3 orders, 7 lines, 2 consent and 10 activity events a customer.
    assert 2.2 * CUSTOMERS < summary.counts["orders"] < 4 * CUSTOMERS
    assert 1.8 < summary.counts["order_line"] / summary.counts["orders"] < 3
    assert 1.3 * CUSTOMERS < summary.counts["consent_event"] < 3 * CUSTOMERS
    assert 7 * CUSTOMERS < summary.counts["activity_event"] < 14 * CUSTOMERS
    assert str(summary).startswith("2,000 customers, ")


def test_about_sixty_percent_are_identified_and_visitors_are_anonymous(engine, generated):
    store, _ = generated
    identified = scalar(engine, "SELECT COUNT(*) FROM customer WHERE store_id = :s AND "
                                "(email IS NOT NULL OR phone IS NOT NULL OR has_account)", store)
    assert 0.55 * CUSTOMERS < identified < 0.65 * CUSTOMERS
    # Anonymous visitors have visits but no orders, consents or names.
    assert scalar(engine, "SELECT COUNT(*) FROM orders o JOIN customer c ON c.id = o.customer_id WHERE o.store_id = :s "
                          "AND c.email IS NULL AND c.phone IS NULL AND NOT c.has_account", store) == 0
    assert scalar(engine, "SELECT COUNT(*) FROM customer WHERE store_id = :s AND email IS NULL AND phone IS NULL "
                          "AND NOT has_account AND first_name IS NOT NULL", store) == 0


def test_every_gender_and_several_countries(engine, generated):
    store, _ = generated
    genders = dict(rows(engine, "SELECT gender, COUNT(*) FROM customer WHERE store_id = :s GROUP BY gender", store))
    assert set(genders) == {"FEMALE", "MALE", "OTHER", "UNKNOWN", "REFUSED"}
    assert genders["FEMALE"] > genders["MALE"] > genders["REFUSED"] > 0
    countries = dict(rows(engine, "SELECT country, COUNT(*) FROM customer WHERE store_id = :s "
                                  "AND country IS NOT NULL GROUP BY country", store))
    assert len(countries) >= 8 and max(countries, key=countries.get) == "PL"
    assert all(len(code) == 2 and code.isupper() for code in countries)
    assert scalar(engine, "SELECT COUNT(DISTINCT city) FROM customer WHERE store_id = :s", store) > 20


def test_orders_per_customer_are_heavy_tailed(engine, generated):
    store, _ = generated
    by_count = dict(rows(engine, "SELECT orders_count, COUNT(*) FROM customer WHERE store_id = :s "
                                 "AND orders_count > 0 GROUP BY orders_count", store))
    one_time = by_count.pop(1)
    assert one_time > max(by_count.values())  # one-time buyers are the largest group of spenders
    assert one_time < sum(by_count.values()) * 2  # ... but repeat buyers are not rare
    assert sum(n for count, n in by_count.items() if count >= 5) > 0.05 * (one_time + sum(by_count.values()))
    assert max(by_count) >= 20  # a few very frequent buyers
    spent = sorted(float(v) for (v,) in rows(engine, "SELECT total_spent FROM customer WHERE store_id = :s "
                                              "AND orders_count > 0", store))
    top = spent[int(len(spent) * 0.99):]
    assert sum(top) > 0.08 * sum(spent)  # the top 1% are big spenders


def test_consent_histories(engine, generated):
    store, _ = generated
    states = {(channel, state) for channel, state in rows(
        engine, "SELECT DISTINCT channel, state FROM consent_event WHERE store_id = :s", store)}
    for channel in ("EMAIL", "SMS"):
        for state in ("SUBSCRIBED", "PENDING", "UNSUBSCRIBED", "NOT_SUBSCRIBED", "INVALID"):
            assert (channel, state) in states
    levels = {level for (level,) in rows(engine, "SELECT DISTINCT opt_in_level FROM consent_event WHERE store_id = :s", store)}
    assert levels == {"SINGLE_OPT_IN", "CONFIRMED_OPT_IN", "UNKNOWN"}
    # Some customers with an e-mail never had a consent event.
    assert scalar(engine, "SELECT COUNT(*) FROM customer c WHERE c.store_id = :s AND c.email IS NOT NULL AND NOT EXISTS "
                          "(SELECT 1 FROM consent_event e WHERE e.store_id = c.store_id AND e.customer_id = c.id AND e.channel = 'EMAIL')", store) > 50
    # Re-subscriptions: SUBSCRIBED after UNSUBSCRIBED for the same customer and channel.
    assert scalar(engine, "SELECT COUNT(*) FROM consent_event a JOIN consent_event b ON b.customer_id = a.customer_id "
                          "AND b.channel = a.channel AND b.occurred_at > a.occurred_at WHERE a.store_id = :s "
                          "AND a.state = 'UNSUBSCRIBED' AND b.state = 'SUBSCRIBED'", store) > 10
    # Some histories have two events on the same day (a double opt-in confirmed within minutes).
    pairs = rows(engine, "SELECT a.occurred_at, b.occurred_at FROM consent_event a JOIN consent_event b "
                         "ON b.customer_id = a.customer_id AND b.channel = a.channel AND b.id = a.id + 1 "
                         "WHERE a.store_id = :s AND a.state = 'PENDING' AND b.state = 'SUBSCRIBED'", store)
    assert sum(1 for a, b in pairs if instant(b) - instant(a) < timedelta(hours=1)) > 10


def test_money_adds_up(engine, generated):
    store, _ = generated
    # SQLite keeps NUMERIC as floating point: compare to half a cent.
    assert scalar(engine, "SELECT COUNT(*) FROM orders o WHERE o.store_id = :s AND ABS(o.subtotal - "
                          "(SELECT SUM(l.line_total) FROM order_line l WHERE l.store_id = o.store_id AND l.order_id = o.id)) > 0.005", store) == 0
    assert scalar(engine, "SELECT COUNT(*) FROM order_line WHERE store_id = :s "
                          "AND ABS(line_total - quantity * unit_price) > 0.005", store) == 0
    assert scalar(engine, "SELECT COUNT(*) FROM orders WHERE store_id = :s "
                          "AND ABS(total - (subtotal - discount + shipping + tax)) > 0.005", store) == 0
    assert scalar(engine, "SELECT COUNT(*) FROM orders WHERE store_id = :s AND discount > 0", store) > 100
    with Session(engine) as session:
        order = session.exec(select(Order).where(Order.store_id == store.id, Order.discount > 0).limit(1)).one()
    for amount in (order.total, order.subtotal, order.discount, order.shipping, order.tax):
        assert isinstance(amount, Decimal) and amount.as_tuple().exponent == -2
    assert order.currency == "PLN"


def test_statuses_and_refunds(engine, generated):
    store, _ = generated
    statuses = dict(rows(engine, "SELECT status, COUNT(*) FROM orders WHERE store_id = :s GROUP BY status", store))
    assert set(statuses) == {"COMPLETED", "PAID", "REFUNDED", "CANCELLED", "FAILED", "PENDING"}
    assert statuses["COMPLETED"] > 0.7 * sum(statuses.values())
    assert scalar(engine, "SELECT COUNT(*) FROM orders o WHERE o.store_id = :s AND o.total + 0.005 < "
                          "(SELECT SUM(r.amount) FROM refund r WHERE r.store_id = o.store_id AND r.order_id = o.id)", store) == 0
    refunded_status = dict(rows(engine, "SELECT o.status, COUNT(*) FROM refund r JOIN orders o ON o.id = r.order_id "
                                        "WHERE r.store_id = :s GROUP BY o.status", store))
    assert set(refunded_status) == {"REFUNDED", "COMPLETED"}  # partial refunds on completed orders too
    assert statuses["REFUNDED"] == scalar(engine, "SELECT COUNT(DISTINCT r.order_id) FROM refund r JOIN orders o "
                                                  "ON o.id = r.order_id WHERE r.store_id = :s AND o.status = 'REFUNDED'", store)
    assert scalar(engine, "SELECT COUNT(*) FROM refund r JOIN orders o ON o.id = r.order_id "
                          "WHERE r.store_id = :s AND r.refunded_at <= o.placed_at", store) == 0


def test_guest_orders_carry_the_email_they_are_matched_by(engine, generated):
    store, _ = generated
    guests = scalar(engine, "SELECT COUNT(*) FROM orders o JOIN customer c ON c.id = o.customer_id "
                            "WHERE o.store_id = :s AND NOT c.has_account", store)
    assert guests > 100
    assert scalar(engine, "SELECT COUNT(*) FROM orders o JOIN customer c ON c.id = o.customer_id WHERE o.store_id = :s "
                          "AND NOT c.has_account AND c.email IS NOT NULL AND o.email <> c.email", store) == 0
    # Accounts have a platform id ("CRM ID"); guests have none.
    assert scalar(engine, "SELECT COUNT(*) FROM customer c WHERE c.store_id = :s AND c.has_account AND NOT EXISTS "
                          "(SELECT 1 FROM customer_identity i WHERE i.store_id = c.store_id AND i.customer_id = c.id "
                          "AND i.source = 'demo')",
                  store) == 0
    assert scalar(engine, "SELECT COUNT(*) FROM customer_identity i JOIN customer c ON c.id = i.customer_id "
                          "WHERE i.store_id = :s AND NOT c.has_account", store) == 0


def test_every_counted_order_is_an_order_event(engine, generated):
    store, _ = generated
    counted = scalar(engine, "SELECT COUNT(*) FROM orders WHERE store_id = :s "
                             "AND status IN ('PAID', 'COMPLETED', 'REFUNDED')", store)
    matched = scalar(engine, "SELECT COUNT(*) FROM orders o WHERE o.store_id = :s "
                             "AND o.status IN ('PAID', 'COMPLETED', 'REFUNDED') AND EXISTS (SELECT 1 FROM activity_event a "
                             "WHERE a.store_id = o.store_id AND a.customer_id = o.customer_id AND a.kind = 'ORDER' AND a.occurred_at = o.placed_at)",
                     store)
    assert matched == counted > 0
    kinds = {kind for (kind,) in rows(engine, "SELECT DISTINCT kind FROM activity_event WHERE store_id = :s", store)}
    assert kinds == {"VISIT", "PAGE_VIEW", "EMAIL_OPEN", "EMAIL_CLICK", "ORDER"}


def test_lifetime_columns_equal_a_recomputation(engine, generated):
    store, _ = generated
    expected = {cid: (n, total) for cid, n, total in rows(
        engine, "SELECT o.customer_id, COUNT(*), SUM(o.total) - COALESCE(SUM((SELECT SUM(r.amount) FROM refund r "
                "WHERE r.store_id = o.store_id AND r.order_id = o.id)), 0) FROM orders o WHERE o.store_id = :s "
                "AND o.status IN ('PAID', 'COMPLETED', 'REFUNDED') GROUP BY o.customer_id", store)}
    actual = {cid: (n, total) for cid, n, total in rows(
        engine, "SELECT id, orders_count, total_spent FROM customer WHERE store_id = :s AND orders_count > 0", store)}
    assert actual.keys() == expected.keys()
    for cid, (n, total) in expected.items():
        assert actual[cid][0] == n
        assert Decimal(str(actual[cid][1])).quantize(Decimal("0.01")) == Decimal(str(total)).quantize(Decimal("0.01"))
    # First and last order, last activity: the same as the data says.
    expected_dates = {cid: (instant(first), instant(last)) for cid, first, last in rows(
        engine, "SELECT customer_id, MIN(placed_at), MAX(placed_at) FROM orders WHERE store_id = :s "
                "AND status IN ('PAID', 'COMPLETED', 'REFUNDED') GROUP BY customer_id", store)}
    actual_dates = {cid: (instant(first), instant(last)) for cid, first, last in rows(
        engine, "SELECT id, first_order_at, last_order_at FROM customer WHERE store_id = :s "
                "AND first_order_at IS NOT NULL", store)}
    assert actual_dates == expected_dates
    assert scalar(engine, "SELECT COUNT(*) FROM customer c WHERE c.store_id = :s AND (c.last_activity_at IS NULL OR "
                          "c.last_activity_at <> (SELECT MAX(a.occurred_at) FROM activity_event a "
                          "WHERE a.store_id = c.store_id AND a.customer_id = c.id))", store) == 0
    # The service that maintains the columns changes nothing (to the cent: SQLite sums in floating point).
    query = ("SELECT id, orders_count, ROUND(total_spent, 2), first_order_at, last_order_at FROM customer "
             "WHERE store_id = :s ORDER BY id")
    before = [(*row[:2], round(float(row[2]), 2), *row[3:]) for row in rows(engine, query, store)]
    with Session(engine) as session:
        refresh_customer_stats(session, store)
        session.commit()
    assert [(*row[:2], round(float(row[2]), 2), *row[3:]) for row in rows(engine, query, store)] == before


def test_everything_happens_in_the_two_years_before_the_anchor(engine, generated):
    store, _ = generated
    zone = ZoneInfo("Europe/Warsaw")
    start = datetime.combine(ANCHOR - timedelta(days=730), time(0), tzinfo=zone)
    end = datetime.combine(ANCHOR, time(0), tzinfo=zone)
    with Session(engine) as session:
        placed = session.exec(select(Order.placed_at).where(Order.store_id == store.id)).all()
    assert start <= min(placed) and max(placed) < end
    spend = rows(engine, "SELECT COUNT(DISTINCT channel), COUNT(DISTINCT day), MIN(amount) FROM marketing_spend "
                         "WHERE store_id = :s", store)[0]
    assert spend[0] == 5 and spend[1] == 730 and spend[2] > 0
    tags = rows(engine, "SELECT t.name, COUNT(*) FROM customer_tag ct JOIN tag t ON t.id = ct.tag_id "
                        "WHERE ct.store_id = :s GROUP BY t.name ORDER BY 2 DESC", store)
    assert len(tags) >= 15 and tags[0][1] > 4 * tags[-1][1]  # Zipf-like popularity
    assert scalar(engine, "SELECT COUNT(*) FROM customer_tag WHERE store_id = :s AND removed_at IS NOT NULL", store) > 0
    assert scalar(engine, "SELECT COUNT(*) FROM customer_tag WHERE store_id = :s AND removed_at <= applied_at", store) == 0


def test_the_planner_knows_the_generated_tables_sizes(engine, generated):
    """The generator refreshes the planner's statistics: without them SQLite's planner guessed the
    order lines few and scanned all of them for every order (product pairs of a year took minutes)."""
    store, summary = generated
    if engine.dialect.name == "sqlite":
        stats = dict(rows(engine, "SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'order_line'", store))
        assert stats, "order_line was never analyzed"
        estimated = {int(stat.split()[0]) for stat in stats.values()}
    else:
        estimated = {int(scalar(engine, "SELECT reltuples FROM pg_class WHERE relname = 'order_line'", store))}
    assert all(estimate >= summary.counts["order_line"] for estimate in estimated), (estimated, summary.counts)
