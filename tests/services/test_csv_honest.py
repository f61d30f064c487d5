"""Honest CSV imports: encodings recognised, columns and countries never dropped silently, orders without
line items warned about, every reject with its line, and an outcome that tells a partial import apart.

Each case reads a fixture file of tests/fixtures/csv/; orders files go through both the record import
and (on PostgreSQL) the bulk path.
"""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from crm_graph.errors import UserError
from crm_graph.services.csv_import import import_csv
from tests.ingest_helpers import rows

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "csv"


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copyfile(FIXTURES / name, target)
    return target


def _customers(engine, store_id: int) -> list[tuple]:
    return rows(engine, "SELECT email, first_name, country FROM customer WHERE store_id = :s ORDER BY email",
                s=store_id)


@pytest.mark.parametrize("name, encoding", [("customers_utf16le_bom.csv", "UTF-16 LE"),
                                            ("customers_utf16be.csv", "UTF-16 BE"),
                                            ("customers_utf32_bom.csv", "UTF-32 LE")])
def test_utf16_and_utf32_files_are_decoded(engine, store, tmp_path, name, encoding):
    summary = import_csv(engine, store.id, _copy(tmp_path, name), "customers")
    assert summary.counts["rejected"] == 0 and summary.counts["created"] == 2
    assert summary.encoding == encoding and summary.outcome == "IMPORTED" and summary.exit_code == 0
    assert _customers(engine, store.id) == [("lukasz@example.com", "Łukasz", "PL"), ("zofia@example.com", "Zofia", "PL")]


@pytest.mark.parametrize("name, message", [
    ("customers_utf7.csv", "the file is encoded as UTF-7 (by its byte order mark), which is not read"),
    ("customers_latin1.csv", "the header is not UTF-8 text"),
])
def test_a_file_that_cannot_be_decoded_is_refused_by_its_encoding(engine, store, tmp_path, name, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_csv(engine, store.id, _copy(tmp_path, name), "customers")
    assert _customers(engine, store.id) == []


def test_columns_the_kind_does_not_read_are_listed_as_ignored(engine, store, tmp_path):
    summary = import_csv(engine, store.id, _copy(tmp_path, "customers_ignored_columns.csv"), "customers")
    assert summary.ignored_columns == ["Customer ID", "First Name", "Last Name", "Notes"]
    assert summary.warnings[0].startswith("ignored columns: Customer ID, First Name, Last Name, Notes")
    assert summary.job_result()["counts"]["ignored_columns"] == 4
    # With the mapping, the same columns are read and only Notes is left.
    mapped = import_csv(engine, store.id, _copy(tmp_path, "customers_ignored_columns.csv"), "customers",
                        mapping="shopify-customers")
    assert mapped.ignored_columns == ["Notes"]


def test_ignored_columns_are_noted_in_the_rejects_report(engine, store, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("email,Loyalty Points\na@example.com,10\nnot-an-email,3\n", encoding="utf-8")
    summary = import_csv(engine, store.id, path, "customers")
    report = list(csv.reader(Path(summary.rejects_path).open(encoding="utf-8", newline="")))
    assert report[0] == ["line", "record", "reason"]
    assert report[1][:2] == ["", "(note)"] and report[1][2].startswith("ignored columns: Loyalty Points")
    assert report[2][:2] == ["3", ""] and report[2][2].startswith("email 'not-an-email'")


def test_countries_are_mapped_to_iso_codes_and_an_unknown_one_rejects_its_row(engine, store, tmp_path):
    summary = import_csv(engine, store.id, _copy(tmp_path, "customers_countries.csv"), "customers")
    assert (summary.counts["created"], summary.counts["rejected"]) == (5, 1)
    assert [(error.line, error.reason) for error in summary.errors] == [
        (6, "country 'ZZZ' is not a country (an ISO 3166 code such as PL or POL, or a name such as Poland)")]
    assert [row[2] for row in _customers(engine, store.id)] == ["PL", "PL", "PL", "PL", None]
    # "Poland" is read as PL for the national phone number too.
    assert rows(engine, "SELECT phone FROM customer WHERE store_id = :s AND email = 'c1@example.com'",
                s=store.id) == [("+48601234567",)]
    assert summary.outcome == "PARTIAL" and summary.exit_code == 1


@pytest.mark.parametrize("bulk", [False, None])
def test_order_countries_on_both_paths(engine, store, tmp_path, bulk):
    summary = import_csv(engine, store.id, _copy(tmp_path, "orders_countries.csv"), "orders", bulk=bulk)
    assert (summary.counts["created"], summary.counts["rejected"]) == (2, 1)
    assert [(error.line, error.record, error.reason) for error in summary.errors] == [
        (3, "order o2", "country 'ZZZ' is not a country (an ISO 3166 code such as PL or POL, or a name such as Poland)")]
    assert rows(engine, "SELECT email, country, phone FROM customer WHERE store_id = :s ORDER BY email",
                s=store.id) == [("ann@example.com", "PL", "+48601234567"), ("cy@example.com", "PL", None)]


@pytest.mark.parametrize("bulk", [False, None])
def test_an_order_level_quantity_is_stored_as_one_line(engine, store, tmp_path, bulk):
    summary = import_csv(engine, store.id, _copy(tmp_path, "orders_quantity_without_lines.csv"), "orders", bulk=bulk)
    assert (summary.counts["created"], summary.counts["rejected"]) == (3, 0)
    assert summary.warnings == ["the file has no line item columns (product_id, product_name, sku, unit_price, "
                                "line_total); each order's quantity was stored as one line of the order's "
                                "subtotal (else total), without a product."]
    lines = rows(engine, """SELECT o.external_id, l.external_id, l.quantity, l.unit_price, l.line_total, l.product_id
                            FROM order_line l JOIN orders o ON o.id = l.order_id WHERE o.store_id = :s
                            ORDER BY o.external_id""", s=store.id)
    assert [(o, e, q, Decimal(str(p)), Decimal(str(t)), product) for o, e, q, p, t, product in lines] == [
        ("q1", "1", 4, Decimal("5.00"), Decimal("20.00"), None),
        ("q2", "1", 3, Decimal("3.33"), Decimal("9.99"), None)]


@pytest.mark.parametrize("bulk", [False, None])
def test_orders_without_lines_or_quantity_warn_that_no_lines_were_stored(engine, store, tmp_path, bulk):
    summary = import_csv(engine, store.id, _copy(tmp_path, "orders_without_lines.csv"), "orders", bulk=bulk)
    assert summary.counts["created"] == 2
    assert summary.warnings == ["the file has no line item columns (product_id, product_name, sku, unit_price, "
                                "line_total) and no quantity: no order lines were stored, so product figures "
                                "stay empty."]
    assert rows(engine, "SELECT count(*) FROM order_line WHERE store_id = :s", s=store.id) == [(0,)]


@pytest.mark.parametrize("name, kind", [("tags_unknown_customer.csv", "tags"),
                                        ("consents_unknown_customer.csv", "consents")])
def test_a_reject_for_an_unknown_customer_names_its_line(engine, store, tmp_path, name, kind):
    summary = import_csv(engine, store.id, _copy(tmp_path, name), kind)
    lines = [error.line for error in summary.errors]
    assert lines == [2, 3][:len(lines)] and lines
    assert all("no customer with this id, email or phone" in error.reason for error in summary.errors)
    report = Path(summary.rejects_path).read_text("utf-8").splitlines()[1:]
    assert [line.split(",")[0] for line in report] == [str(line) for line in lines]
    assert summary.outcome == "NOTHING_IMPORTED" and summary.exit_code == 2
