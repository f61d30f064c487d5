"""The ingestion pipeline: idempotent upserts, guests, lines and refunds, consent, tags, deletions."""

from decimal import Decimal

import pytest
from sqlmodel import Session, select

from crm_graph.connectors import (
    ActivityRecord, ConsentRecord, CustomerRecord, CustomerRef, DeletionRecord, OrderLineRecord, OrderRecord,
    ProductRecord, RefundRecord, SpendRecord, TagRecord,
)
from crm_graph.models import Customer
from crm_graph.models.enums import ActivityKind, Channel, ConsentState, OptInLevel, OrderStatus
from crm_graph.services.ingest import ingest_records
from tests.factories import StoreBuilder, utc
from tests.ingest_helpers import count, rows, snapshot

S = "test"


def ingest(engine, store, records, source=S):
    with Session(engine, expire_on_commit=False) as session:
        result = ingest_records(session, store, records, source=source)
        session.commit()
    return result


def order(external_id="o1", *, customer=None, total="30.00", status=OrderStatus.PAID, placed=utc(2026, 3, 1, 12),
          lines=None, refunds=(), **fields):
    return OrderRecord(
        source=S, external_id=external_id, customer=customer if customer is not None else CustomerRef(external_id="c1"), status=status,
        placed_at=placed, currency="USD", total=Decimal(total),
        lines=lines if lines is not None else [
            OrderLineRecord("l1", "Shirt", "p1", "SKU1", 2, Decimal("10.00"), Decimal("20.00")),
            OrderLineRecord("l2", "Hat", "p2", None, 1, Decimal("10.00"), Decimal("10.00"))],
        refunds=None if refunds is None else list(refunds), **fields)


def batch():
    return [
        ProductRecord(S, "p1", "Shirt", "SKU1", "Clothing"),
        CustomerRecord(S, "c1", email="ann@example.com", phone="+48600100200", first_name="Ann",
                       created_at=utc(2025, 1, 1), tags=["vip", "newsletter"]),
        order("o1", refunds=[RefundRecord("r1", Decimal("5.00"), utc(2026, 3, 2))]),
        ConsentRecord(S, CustomerRef(external_id="c1"), Channel.EMAIL, ConsentState.SUBSCRIBED, utc(2025, 6, 1),
                      OptInLevel.CONFIRMED_OPT_IN),
        ActivityRecord(S, "a1", CustomerRef(external_id="c1"), ActivityKind.EMAIL_OPEN, utc(2026, 4, 1)),
        TagRecord(S, CustomerRef(email="ann@example.com"), "imported", utc(2026, 1, 1)),
        SpendRecord(S, "google / cpc", utc(2026, 3, 1).date(), Decimal("12.50")),
    ]


def test_a_batch_is_written_with_derived_customer_figures(engine, store):
    result = ingest(engine, store, batch())
    assert result.counts["created"] == 7 and not result.errors
    with Session(engine) as session:
        (customer,) = session.exec(select(Customer).where(Customer.store_id == store.id)).all()
    # 30.00 paid, 5.00 refunded; last activity is the email open of April 1st, after the order.
    assert (customer.email, customer.orders_count, customer.total_spent) == ("ann@example.com", 1, Decimal("25.00"))
    assert customer.last_activity_at == utc(2026, 4, 1) and customer.created_at == utc(2025, 1, 1)
    assert count(engine, "order_line", store.id) == 2
    assert count(engine, "product", store.id) == 2  # p2 was created from its line
    assert sorted(r[0] for r in rows(engine, "SELECT t.name FROM customer_tag ct JOIN tag t ON t.id = ct.tag_id "
                                             "WHERE ct.store_id = :s AND ct.removed_at IS NULL", s=store.id)) == [
        "imported", "newsletter", "vip"]


def test_the_same_batch_twice_changes_nothing(engine, store):
    ingest(engine, store, batch())
    before = snapshot(engine, store.id)
    result = ingest(engine, store, batch())
    assert snapshot(engine, store.id) == before
    assert result.counts["created"] == 0 and result.counts["updated"] == 0
    assert result.counts["unchanged"] == 7


def test_a_changed_order_replaces_its_lines_and_refunds(engine, store):
    ingest(engine, store, batch())
    changed = order("o1", total="10.00", status=OrderStatus.REFUNDED,
                    lines=[OrderLineRecord("l1", "Shirt", "p1", "SKU1", 1, Decimal("10.00"), Decimal("10.00"))],
                    refunds=[RefundRecord("r1", Decimal("5.00"), utc(2026, 3, 2)),
                             RefundRecord("r2", Decimal("5.00"), utc(2026, 3, 3))])
    result = ingest(engine, store, [changed])
    assert result.counts["updated"] == 1
    assert rows(engine, "SELECT external_id, quantity FROM order_line WHERE store_id = :s", s=store.id) == [("l1", 1)]
    assert count(engine, "refund", store.id) == 2
    # 10.00 total, 10.00 refunded: nothing spent any more.
    assert rows(engine, "SELECT orders_count FROM customer WHERE store_id = :s", s=store.id) == [(1,)]
    with Session(engine) as session:
        assert session.exec(select(Customer.total_spent).where(Customer.store_id == store.id)).one() == 0


def test_webhook_order_without_refund_dates_keeps_the_stored_refunds(engine, store):
    ingest(engine, store, batch())
    result = ingest(engine, store, [order("o1", refunds=None)])
    assert result.counts["unchanged"] == 1 and count(engine, "refund", store.id) == 1


def test_guests_match_by_email_then_phone_else_become_customers(engine, store):
    with Session(engine, expire_on_commit=False) as session:
        builder = StoreBuilder(session, store)
        by_email = builder.customer(email="known@example.com")
        by_phone = builder.customer(phone="+48600100200")
        session.commit()
    result = ingest(engine, store, [
        order("g1", customer=CustomerRef(email="known@example.com", phone="+48999")),
        order("g2", customer=CustomerRef(email="other@example.com", phone="+48600100200")),
        order("g3", customer=CustomerRef(email="new@example.com")),
        order("g4", customer=CustomerRef(email="new@example.com")),
        order("g5", customer=CustomerRef()),
    ])
    assert result.counts["created"] == 5
    owners = dict(rows(engine, "SELECT external_id, customer_id FROM orders WHERE store_id = :s", s=store.id))
    assert owners["g1"] == by_email.id and owners["g2"] == by_phone.id
    assert owners["g3"] == owners["g4"] not in (None, by_email.id, by_phone.id)
    assert owners["g5"] is None
    assert count(engine, "customer", store.id) == 3
    before = snapshot(engine, store.id)
    ingest(engine, store, [order("g3", customer=CustomerRef(email="new@example.com"))])
    assert snapshot(engine, store.id) == before


def test_a_customer_record_links_to_the_guest_with_its_email(engine, store):
    ingest(engine, store, [order("g1", customer=CustomerRef(email="ann@example.com"))])
    result = ingest(engine, store, [CustomerRecord(S, "c9", email="ann@example.com", first_name="Ann")])
    assert result.counts["updated"] == 1
    assert count(engine, "customer", store.id) == 1
    assert sorted(r[0] for r in rows(engine, "SELECT external_id FROM customer_identity WHERE store_id = :s",
                                     s=store.id)) == ["c9", "guest:ann@example.com"]


def test_consent_history_keeps_only_changes(engine, store):
    ingest(engine, store, [CustomerRecord(S, "c1", email="a@example.com")])
    ref = CustomerRef(external_id="c1")

    def consent(state, at):
        return ConsentRecord(S, ref, Channel.EMAIL, state, at)

    result = ingest(engine, store, [consent(ConsentState.SUBSCRIBED, utc(2026, 1, 1)),
                                    consent(ConsentState.SUBSCRIBED, utc(2026, 2, 1)),  # repeats the state
                                    consent(ConsentState.UNSUBSCRIBED, utc(2026, 3, 1))])
    assert (result.counts["created"], result.counts["unchanged"]) == (2, 1)
    result = ingest(engine, store, [consent(ConsentState.UNSUBSCRIBED, utc(2026, 4, 1)),
                                    ConsentRecord(S, CustomerRef(external_id="nobody"), Channel.SMS,
                                                  ConsentState.SUBSCRIBED, utc(2026, 1, 1))])
    assert result.counts["unchanged"] == 1 and result.counts["rejected"] == 1
    assert "no customer" in result.errors[0].reason
    assert rows(engine, "SELECT state FROM consent_event WHERE store_id = :s ORDER BY occurred_at", s=store.id) == [
        ("SUBSCRIBED",), ("UNSUBSCRIBED",)]


def test_customer_tags_are_a_full_set(engine, store):
    ingest(engine, store, [CustomerRecord(S, "c1", tags=["a", "b"], updated_at=utc(2026, 1, 1))])
    result = ingest(engine, store, [CustomerRecord(S, "c1", tags=["b", "c"], updated_at=utc(2026, 2, 1))])
    assert result.counts["updated"] == 1
    state = rows(engine, "SELECT t.name, ct.removed_at IS NULL FROM customer_tag ct JOIN tag t ON t.id = ct.tag_id "
                         "WHERE ct.store_id = :s ORDER BY t.name", s=store.id)
    assert [(name, bool(open_)) for name, open_ in state] == [("a", False), ("b", True), ("c", True)]


def test_tag_periods_are_idempotent(engine, store):
    ingest(engine, store, [CustomerRecord(S, "c1", email="a@example.com")])
    ref = CustomerRef(external_id="c1")
    records = [TagRecord(S, ref, "vip", utc(2026, 1, 1), utc(2026, 2, 1)), TagRecord(S, ref, "vip", utc(2026, 3, 1))]
    assert ingest(engine, store, records).counts["created"] == 2
    before = snapshot(engine, store.id)
    assert ingest(engine, store, records).counts["unchanged"] == 2
    assert snapshot(engine, store.id) == before
    assert ingest(engine, store, [TagRecord(S, ref, "vip", utc(2026, 3, 1), utc(2026, 4, 1))]).counts["updated"] == 1


def test_deletions_remove_orders_products_and_customers(engine, store):
    ingest(engine, store, batch())
    result = ingest(engine, store, [DeletionRecord(S, "order", "o1"), DeletionRecord(S, "order", "never-seen"),
                                    DeletionRecord(S, "product", "p2")])
    assert (result.counts["deleted"], result.counts["unchanged"]) == (2, 1)
    assert count(engine, "orders", store.id) == 0 and count(engine, "order_line", store.id) == 0
    assert rows(engine, "SELECT orders_count, total_spent FROM customer WHERE store_id = :s", s=store.id)[0][0] == 0
    result = ingest(engine, store, [DeletionRecord(S, "customer", "c1")])
    assert result.counts["deleted"] == 1 and count(engine, "customer", store.id) == 0


@pytest.mark.parametrize("source", ["woocommerce", "shopify"])
def test_sources_do_not_share_external_ids(engine, store, source):
    ingest(engine, store, [CustomerRecord(S, "1", email="a@example.com")])
    ingest(engine, store, [CustomerRecord(source, "1", email="b@example.com")], source=source)
    assert count(engine, "customer", store.id) == 2
