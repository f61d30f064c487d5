"""The bulk orders import on PostgreSQL leaves the database as the record-by-record import does.

Each test imports the same file into two fresh stores, once through each path, and compares
everything the import writes (customers and their figures, identities, products, orders, lines,
refunds), the summary counts and the rejects; customers and orders are compared by their keys, not
their ids.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.models import ErasedIdentity
from crm_graph.services.csv_import import import_csv
from crm_graph.services.customers.erasure import identity_hash
from tests.ingest_helpers import rows

HEADER = ("order_id;placed_at;status;total;customer_id;email;phone;first_name;last_name;country;city;currency;"
          "subtotal;shipping;channel;updated_at;refund_amount;refunded_at;line_id;product_id;product_name;sku;"
          "quantity;unit_price;line_total\n")

ORDERS = HEADER + (
    # an account with two lines, a refund and a comma decimal
    "A1;2026-03-01T10:00:00+01:00;paid;30,50;'C1;ann@example.com;;Ann;Lee;pl;Kraków;;30,50;0;newsletter;;5;"
    "2026-03-05;;p1;Tea;T-1;2;10.00;\n"
    "A1;2026-03-01T10:00:00+01:00;paid;30,50;'C1;ann@example.com;;Ann;Lee;pl;Kraków;;;;;;;;;p2;Cup;;1;10.50;\n"
    # a guest by email, a bare date (store-local midnight), a line without product id
    "A2;2026-03-02;completed;12.00;;bob@example.com;;Bob;;;;eur;;;google / cpc;2026-03-03 09:00;;;L9;;Gift;;1;12;\n"
    # a guest by a national phone number, and an order row without a line
    "A3;2026-03-03T08:00:00Z;processing;7.00;;;600 100 200;Cy;;PL;;;;;;;;;;;;;;;\n"
    # the same guest again, matched by the identity made above
    "A4;2026-03-04T08:00:00Z;complete;9.99;;;+48600100200;;;;;;;;;;;;;p1;;;3;3.33;\n"
    # bad rows: a bad date (the whole order), a bad quantity (the whole order, every row reported)
    "B1;not a date;paid;5.00;;dan@example.com;;;;;;;;;;;;;;p1;;;1;5;\n"
    "B2;2026-03-05T08:00:00Z;paid;5.00;;eve@example.com;;;;;;;;;;;;;;p1;;;1;5;\n"
    "B2;2026-03-05T08:00:00Z;paid;5.00;;eve@example.com;;;;;;;;;;;;;;p2;;;x;5;\n"
    "B2;2026-03-05T08:00:00Z;paid;5.00;;eve@example.com;;;;;;;;;;;;;;;;;;;\n"
    # a missing order id, a bad email, a bad status, an impossible day
    ";2026-03-05T08:00:00Z;paid;5.00;;;;;;;;;;;;;;;;p1;;;1;5;\n"
    "B3;2026-03-05T08:00:00Z;paid;5.00;;not-an-email;;;;;;;;;;;;;;p1;;;1;5;\n"
    "B4;2026-03-05T08:00:00Z;lost;5.00;;;;;;;;;;;;;;;;p1;;;1;5;\n"
    "B5;2026-02-30T08:00:00Z;paid;5.00;;;;;;;;;;;;;;;;p1;;;1;5;\n"
    # an existing customer matched by email, and an erased person (their order stays, without contact)
    "A5;2026-03-06T08:00:00Z;paid;20.00;;old@example.com;;;;;;;;;;;;;;p3;Mug;;1;20;\n"
    "A6;2026-03-07T08:00:00Z;paid;15.00;C9;gone@example.com;;Gone;;;;;;;;;;;;p3;;;1;15;\n"
    "A7;2026-03-07T09:00:00Z;cancelled;4.00;;other@example.com;;;;;;;;;;;;;;;;;2;2;\n"
    # wall-clock times in the hour the clocks go back (its first occurrence) and in the hour they skip
    "A8;2026-10-25 02:30:00;paid;1.00;;late@example.com;;;;;;;;;;2026-10-25T02:45;;;;p1;;;1;1;\n"
    "A9;2026-03-29 02:30:00;paid;1.00;;late@example.com;;;;;;;;;;;;;;p1;;;1;1;\n"
)

CUSTOMERS = "customer_id,email,first_name\nK1,old@example.com,Olga\n"


def _prepare(engine, make_store, tmp_path, name: str):
    store = make_store(timezone="Europe/Warsaw")
    customers = tmp_path / f"{name}-customers.csv"
    customers.write_text(CUSTOMERS, encoding="utf-8")
    import_csv(engine, store.id, customers, "customers")
    with Session(engine) as session:
        for source, value in (("email", "gone@example.com"), ("csv", "C9")):
            session.add(ErasedIdentity(store_id=store.id, identity_hash=identity_hash(source, value),
                                       erased_at=datetime.now(timezone.utc)))
        session.commit()
    return store


def _state(engine, store_id: int) -> dict:
    """What an orders import writes, keyed by external ids (customers by their identities)."""
    who = ("(SELECT string_agg(i.source || ':' || i.external_id, ' ' ORDER BY i.source, i.external_id) "
           "FROM customer_identity i WHERE i.customer_id = {0})")
    return {
        "customers": sorted(rows(engine, f"""
            SELECT {who.format('c.id')}, email, phone, first_name, last_name, gender, country, city, has_account,
                   acquisition_channel, created_at, last_activity_at, orders_count, total_spent, first_order_at,
                   last_order_at, erased_at FROM customer c WHERE store_id = :s""", s=store_id), key=repr),
        "products": rows(engine, "SELECT source, external_id, name, sku, category FROM product WHERE store_id = :s "
                                 "ORDER BY external_id", s=store_id),
        "orders": rows(engine, f"""
            SELECT external_id, {who.format('o.customer_id')}, status, raw_status, placed_at, updated_at, currency,
                   total, subtotal, discount, shipping, tax, channel, email, phone, NULLIF(billing::text, 'null')
            FROM orders o WHERE store_id = :s ORDER BY external_id""", s=store_id),
        "lines": rows(engine, """
            SELECT o.external_id, l.external_id, p.external_id, l.name, l.sku, l.quantity, l.unit_price, l.line_total
            FROM order_line l JOIN orders o ON o.id = l.order_id LEFT JOIN product p ON p.id = l.product_id
            WHERE l.store_id = :s ORDER BY o.external_id, l.id""", s=store_id),
        "refunds": rows(engine, """
            SELECT o.external_id, r.external_id, r.amount, r.refunded_at, r.reason
            FROM refund r JOIN orders o ON o.id = r.order_id WHERE r.store_id = :s ORDER BY 1, 2""", s=store_id),
    }


def _errors(summary) -> list[tuple]:
    """The rejects in line order (the record import reports an order's rows when the order ends)."""
    return sorted((error.line, error.record or "", error.reason) for error in summary.errors)


@pytest.fixture
def pg(backend):
    if backend != "postgresql":
        pytest.skip("the bulk path is PostgreSQL's")


def _both(engine, make_store, tmp_path, texts: list[str], bulk_texts: list[str] | None = None):
    """Import each text in turn into a store through each path; the summaries of both and both stores."""
    stores = [_prepare(engine, make_store, tmp_path, "generic"), _prepare(engine, make_store, tmp_path, "bulk")]
    summaries: list[list] = [[], []]
    for step, data in enumerate(texts):
        for which, (store, bulk) in enumerate(zip(stores, (False, True))):
            path = tmp_path / f"orders-{which}-{step}.csv"
            path.write_text((bulk_texts or texts)[step] if bulk else data, encoding="utf-8")
            summaries[which].append(import_csv(engine, store.id, path, "orders", bulk=bulk))
    return summaries, stores


def test_the_bulk_import_leaves_the_same_state_and_reports_the_same_rejects(engine, make_store, tmp_path, pg):
    (generic, bulk), (a, b) = _both(engine, make_store, tmp_path, [ORDERS])
    assert bulk[0].counts == generic[0].counts
    assert generic[0].counts["created"] == 9 and generic[0].counts["rejected"] == 8
    assert _errors(bulk[0]) == _errors(generic[0])
    assert _state(engine, b.id) == _state(engine, a.id)
    reports = [(tmp_path / f"orders-{which}-0.csv.rejects.csv").read_text("utf-8").splitlines() for which in (0, 1)]
    assert reports[1][0] == "line,record,reason" and sorted(reports[1]) == sorted(reports[0])
    # the erased person's order is kept without a buyer or contact; no customer was made for them
    assert rows(engine, "SELECT customer_id, email FROM orders WHERE store_id = :s AND external_id = 'A6'",
                s=b.id) == [(None, None)]


def test_a_second_import_changes_nothing_and_a_changed_order_is_updated(engine, make_store, tmp_path, pg):
    changed = ORDERS.replace("A2;2026-03-02;completed;12.00", "A2;2026-03-02;refunded;12.00").replace(
        "p2;Cup;;1;10.50", "p2;Cup;;1;11.50")
    (generic, bulk), (a, b) = _both(engine, make_store, tmp_path, [ORDERS, ORDERS, changed])
    assert [s.counts for s in bulk] == [s.counts for s in generic]
    assert bulk[1].counts["unchanged"] == 9 and bulk[1].counts["created"] == bulk[1].counts["updated"] == 0
    assert bulk[2].counts["updated"] == 2 and bulk[2].counts["unchanged"] == 7
    assert _state(engine, b.id) == _state(engine, a.id)


def test_rows_of_an_order_may_be_anywhere_in_the_file(engine, make_store, tmp_path, pg):
    clean = HEADER + "".join(line + "\n" for line in ORDERS.splitlines()[1:] if line.startswith("A"))
    body = clean.splitlines()[1:]
    shuffled = HEADER + "\n".join(body[:1] + body[2:] + body[1:2]) + "\n"  # A1's second line last
    assert shuffled != clean
    (generic, bulk), (a, b) = _both(engine, make_store, tmp_path, [clean], [shuffled])
    assert bulk[0].counts == generic[0].counts and bulk[0].counts["rejected"] == 0
    assert _state(engine, b.id) == _state(engine, a.id)


def test_the_default_takes_the_bulk_path_on_postgresql_only(engine, store, tmp_path, backend):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + ORDERS.splitlines()[1] + "\n", encoding="utf-8")
    if backend == "postgresql":
        assert import_csv(engine, store.id, path, "orders").counts["created"] == 1
        return
    with pytest.raises(UserError, match="bulk"):
        import_csv(engine, store.id, path, "orders", bulk=True)
    assert import_csv(engine, store.id, path, "orders").counts["created"] == 1


def test_cells_to_escape_and_unusual_shapes_import_alike(engine, make_store, tmp_path, pg):
    """Tabs, backslashes, line breaks and padding in text cells, and amounts, quantities and instants of
    unusual shapes, in a file with only some of the columns (the others are never sent to the stage)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["order_id", "placed_at", "status", "total", "email", "product_id", "product_name", "quantity",
                     "unit_price", "line_total"])
    writer.writerows([
        ["T1", "2026-03-01T10:00:00Z", "paid", "10.00", "tab@example.com", "p1", "Tab\there", "1", "4.00", "4.00"],
        ["T1", "2026-03-01T10:00:00Z", "paid", "10.00", "tab@example.com", "p2", "Back\\slash", "2.0", "3", ""],
        ["T2", " 2026-03-02 08:30:00.5+02:00 ", "paid", "1e1", "nl@example.com", "p3", "Two\nlines", "1", "10", "10"],
        ["T3", "2026-03-03", "paid", " 7.505 ", "cr@example.com", "p4", " CR\r in ", "3", "2.5", "7.505"],
        ["T4", "2026-03-04T09:00:00Z", "paid", "12,50", "x@example.com", "p1\\", "\\N", "1", "12,50", "12.5"],
        ["T5", "2026-03-04T09:00:00Z", "paid", "", "y@example.com", "p1", "Bad total", "1", "1", "1"],
        ["T6", "2026-03-04T09:00:00Z", "paid", "1.00", "z@example.com", "p1", "Bad quantity", "x1", "1", "1"],
        ["T7", "2026-03-05T09:00:00Z", "paid", "1.00", "old@example.com", "p1", "Known buyer", "1", "1", "1"],
    ])
    (generic, bulk), (a, b) = _both(engine, make_store, tmp_path, [buffer.getvalue()])
    assert bulk[0].counts == generic[0].counts and generic[0].counts["created"] == 5
    assert _errors(bulk[0]) == _errors(generic[0])
    assert _state(engine, b.id) == _state(engine, a.id)
    assert ("Tab\there",) in rows(engine, "SELECT name FROM order_line WHERE store_id = :s", s=b.id)
