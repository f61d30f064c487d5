"""The CSV kinds: each column's meaning, row errors with line numbers, and imports on both databases."""

import io
from decimal import Decimal

from crm_graph.connectors import ConsentRecord, CustomerRecord, OrderRecord, RecordError, SpendRecord, TagRecord
from crm_graph.connectors.csv import CsvContext
from crm_graph.models.enums import Channel, ConsentState, Gender, OrderStatus
from crm_graph.services.csv_import import import_csv
from crm_graph_csv.kinds import read_consents, read_customers, read_orders, read_spend, read_tags
from tests.factories import utc
from tests.ingest_helpers import STORE_TABLES, count, rows, snapshot

WARSAW = CsvContext(timezone="Europe/Warsaw", currency="PLN")


def read(reader, text: str, mapping=None, context=WARSAW):
    return list(reader(io.BytesIO(text.encode("utf-8")), mapping or {}, context))


def test_customers_with_consent_and_tags():
    out = read(read_customers, "customer_id,email,phone,gender,country,created_at,email_consent,tags\n"
                               "7,Ann@Example.com,600 100 200,f,pl,2026-01-02 10:00,subscribed,\"vip, new\"\n")
    customer, consent = out
    assert isinstance(customer, CustomerRecord)
    assert (customer.external_id, customer.email, customer.phone, customer.gender, customer.country) == (
        "7", "ann@example.com", "+48600100200", Gender.FEMALE, "PL")
    assert customer.created_at == utc(2026, 1, 2, 9)  # 10:00 in Warsaw (CET) is 09:00 UTC
    assert customer.tags == ["vip", "new"]
    assert isinstance(consent, ConsentRecord) and consent.state == ConsentState.SUBSCRIBED
    assert consent.channel == Channel.EMAIL and consent.occurred_at == utc(2026, 1, 2, 9)


def test_customers_without_a_tags_column_leave_tags_alone_and_bad_rows_say_why():
    out = read(read_customers, "email,gender\na@example.com,\n,\nnot-an-email,\nb@example.com,alien\n")
    assert out[0].external_id == "email:a@example.com" and out[0].tags is None
    assert [(e.line, e.reason) for e in out[1:]] == [
        (3, "customer_id, crm_id or email is required"), (4, "email 'not-an-email' is not an email address"),
        (5, "gender 'alien' is not one of FEMALE, MALE, OTHER, REFUSED, UNKNOWN")]


def test_orders_group_consecutive_rows_into_one_order_with_lines():
    text = ("order_id,placed_at,status,total,customer_id,currency,product_id,product_name,quantity,unit_price,"
            "line_total,refund_amount,refunded_at\n"
            "A1,2026-03-29T01:30:00+01:00,processing,25.50,7,,p1,Tea,2,5.25,,5.00,2026-03-30\n"
            "A1,2026-03-29T01:30:00+01:00,processing,25.50,7,,p2,Cup,1,15.00,15.00,5.00,2026-03-30\n"
            "A2,2026-03-29 03:30,completed,9,,eur,p1,Tea,1,9,,,\n")
    first, second = read(read_orders, text)
    assert isinstance(first, OrderRecord) and first.status == OrderStatus.PAID and first.raw_status == "processing"
    assert first.placed_at == utc(2026, 3, 29, 0, 30) and first.currency == "PLN" and first.total == Decimal("25.50")
    assert [(line.external_id, line.product_external_id, line.quantity, line.line_total) for line in first.lines] == [
        ("1", "p1", 2, Decimal("10.50")), ("2", "p2", 1, Decimal("15.00"))]
    assert first.refunds[0].amount == Decimal("5.00") and first.refunds[0].refunded_at == utc(2026, 3, 29, 22)
    # 03:30 local on the day clocks go forward in Warsaw (CEST, UTC+2) is 01:30 UTC.
    assert second.placed_at == utc(2026, 3, 29, 1, 30) and second.currency == "EUR"
    assert second.customer.external_id is None


def test_a_bad_line_rejects_its_whole_order_and_names_every_row():
    text = ("order_id,placed_at,status,total,product_id,quantity,unit_price\n"
            "A1,2026-03-01,paid,10,p1,1,5\nA1,2026-03-01,paid,10,p2,two,5\nA2,2026-03-01,paid,1,p1,1,1\n")
    out = read(read_orders, text)
    errors = [item for item in out if isinstance(item, RecordError)]
    assert sorted((e.line, e.reason) for e in errors) == [
        (2, "order A1 is rejected: its row at line 3 is bad"), (3, "quantity 'two' is not a whole number")]
    assert [item.external_id for item in out if isinstance(item, OrderRecord)] == ["A2"]


def test_consents_tags_and_spend():
    consent, bad = read(read_consents, "email;channel;state;occurred_at;opt_in_level\n"
                                       "a@example.com;sms;unsubscribed;2026-02-01T00:00:00Z;confirmed_opt_in\n"
                                       "a@example.com;fax;subscribed;2026-02-01;\n")
    assert consent.channel == Channel.SMS and consent.state == ConsentState.UNSUBSCRIBED
    assert bad.line == 3 and "channel 'fax'" in bad.reason
    (tag,) = read(read_tags, "customer_id,tag,applied_at,removed_at\n7,vip,2026-01-01,2026-02-01\n")
    assert isinstance(tag, TagRecord) and tag.removed_at == utc(2026, 1, 31, 23)
    spend, bad = read(read_spend, "channel,day,amount\ngoogle / cpc,2026-03-01,\"1234,50\"\nmeta,March,1\n")
    assert isinstance(spend, SpendRecord) and spend.amount == Decimal("1234.50") and "day 'March'" in bad.reason


def test_imports_are_idempotent_and_link_kinds_together(engine, make_store, tmp_path):
    store = make_store(timezone="Europe/Warsaw", currency="PLN")
    files = {
        "customers": "customer_id,email,first_name,tags\n7,ann@example.com,Ann,vip\n8,bob@example.com,Bob,\n",
        "orders": "order_id,placed_at,status,total,customer_id,email,product_id,quantity,unit_price\n"
                  "A1,2026-03-01,paid,10,7,,p1,2,5\nA2,2026-03-02,paid,4,,guest@example.com,p1,1,4\n",
        "consents": "customer_id,channel,state,occurred_at\n7,EMAIL,SUBSCRIBED,2026-01-01\n",
        "tags": "email,tag\nbob@example.com,newsletter\n",
        "marketing_spend": "channel,day,amount\ndirect,2026-03-01,12.00\n",
    }
    for kind, text in files.items():
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
        assert import_csv(engine, store.id, tmp_path / f"{kind}.csv", kind).counts["rejected"] == 0
    before = snapshot(engine, store.id, tables=STORE_TABLES)
    for kind in files:
        summary = import_csv(engine, store.id, tmp_path / f"{kind}.csv", kind)
        assert summary.counts["created"] == summary.counts["updated"] == 0, kind
    assert snapshot(engine, store.id, tables=STORE_TABLES) == before
    assert count(engine, "customer", store.id) == 3
    assert rows(engine, "SELECT c.email, o.external_id FROM orders o JOIN customer c ON c.id = o.customer_id "
                        "WHERE o.store_id = :s ORDER BY o.external_id", s=store.id) == [
        ("ann@example.com", "A1"), ("guest@example.com", "A2")]
