"""Ready mappings for the exports store owners have: each imports its sample file (built from the vendor's
documented columns, invented people) with what it means, `--mapping auto` picks it through the real CLI,
and a foreign export imported without a mapping is refused with the mapping's name."""

import os
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from crm_graph.errors import UserError
from crm_graph.plugins import csv_mappings
from crm_graph.services.csv_import import import_csv
from tests.cli_runner import run_cli_in_process
from tests.ingest_helpers import rows

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = Path(__file__).resolve().parents[3]

FILES = {
    "shopify-customers": ("shopify_customers_export.csv", "customers"),
    "shopify-orders": ("shopify_orders_export.csv", "orders"),
    "woocommerce-customers": ("woocommerce_customers_export.csv", "customers"),
    "woocommerce-orders": ("woocommerce_orders_export.csv", "orders"),
    "mailchimp-subscribed": ("mailchimp_subscribed_members.csv", "customers"),
    "mailchimp-unsubscribed": ("mailchimp_unsubscribed_members.csv", "customers"),
    "mailchimp-cleaned": ("mailchimp_cleaned_members.csv", "customers"),
}


def _import(engine, store, name, tmp_path, mapping=None):
    file, kind = FILES[name]
    path = tmp_path / file
    path.write_bytes((FIXTURES / file).read_bytes())
    summary = import_csv(engine, store.id, path, kind, mapping=name if mapping is None else mapping)
    assert summary.counts["rejected"] == 0, summary.errors
    return summary


def _customers(engine, store):
    return rows(engine, "SELECT i.external_id, c.email, c.first_name, c.last_name, c.country, c.city, c.phone "
                        "FROM customer c JOIN customer_identity i ON i.customer_id = c.id WHERE c.store_id = :s "
                        "ORDER BY i.external_id", s=store.id)


def _consents(engine, store):
    return rows(engine, "SELECT c.email, e.channel, e.state, e.opt_in_level, e.reason FROM consent_event e "
                        "JOIN customer c ON c.id = e.customer_id WHERE e.store_id = :s "
                        "ORDER BY c.email, e.channel, e.occurred_at", s=store.id)


def _orders(engine, store):
    return rows(engine, "SELECT o.external_id, o.status, o.total, o.currency, o.email, c.country FROM orders o "
                        "LEFT JOIN customer c ON c.id = o.customer_id WHERE o.store_id = :s ORDER BY o.external_id",
                s=store.id)


def _lines(engine, store):
    return rows(engine, "SELECT o.external_id, l.name, l.sku, l.quantity, l.unit_price, l.line_total FROM order_line l "
                        "JOIN orders o ON o.id = l.order_id WHERE l.store_id = :s ORDER BY o.external_id, l.id",
                s=store.id)


def test_every_ready_mapping_is_registered_through_the_hook():
    assert set(FILES) | {"crm-graph-export"} <= set(csv_mappings())


def test_shopify_customers(engine, store, tmp_path):
    _import(engine, store, "shopify-customers", tmp_path)
    assert _customers(engine, store) == [
        ("7301001", "hanna.lindqvist@example.com", "Hanna", "Lindqvist", "SE", "Uppsala", "+46701234567"),
        ("7301002", "tomasz.wierzba@example.org", "Tomasz", "Wierzba", "PL", "Kraków", None)]
    assert [c[:3] for c in _consents(engine, store)] == [
        ("hanna.lindqvist@example.com", "EMAIL", "SUBSCRIBED"), ("hanna.lindqvist@example.com", "SMS", "NOT_SUBSCRIBED"),
        ("tomasz.wierzba@example.org", "EMAIL", "NOT_SUBSCRIBED"), ("tomasz.wierzba@example.org", "SMS", "SUBSCRIBED")]


def test_shopify_orders_one_row_per_line_item(engine, store, tmp_path):
    _import(engine, store, "shopify-orders", tmp_path)
    assert _orders(engine, store) == [
        ("1001", "COMPLETED", Decimal("120.00"), "SEK", "hanna.lindqvist@example.com", "SE"),
        ("1002", "PENDING", Decimal("25.00"), "SEK", "guest.buyer@example.net", "NO"),
        ("1003", "CANCELLED", Decimal("35.00"), "SEK", "tomasz.wierzba@example.org", "PL")]
    assert _lines(engine, store) == [
        ("1001", "Linen Tea Towel", "TT-LIN", 2, Decimal("35.00"), Decimal("70.00")),
        ("1001", "Oak Cutting Board", "CB-OAK", 1, Decimal("40.00"), Decimal("40.00")),
        ("1002", "Beeswax Candle", "CN-BEE", 1, Decimal("25.00"), Decimal("25.00")),
        ("1003", "Linen Tea Towel", "TT-LIN", 1, Decimal("35.00"), Decimal("35.00"))]
    placed = rows(engine, "SELECT placed_at FROM orders WHERE store_id = :s AND external_id = '1001'", s=store.id)[0][0]
    assert str(placed).startswith("2026-02-03 09:14:48")  # 10:14:48 +0100, stored in UTC


def test_woocommerce_customers(engine, store, tmp_path):
    _import(engine, store, "woocommerce-customers", tmp_path)
    assert _customers(engine, store) == [
        ("41", "marta.kowalczyk@example.com", "Marta", "Kowalczyk", "PL", "Warszawa", "+48601200300"),
        ("42", "jonas.berger@example.de", "Jonas", "Berger", "DE", "Berlin", None)]


def test_woocommerce_orders_with_packed_line_items_and_refunds(engine, store, tmp_path):
    _import(engine, store, "woocommerce-orders", tmp_path)
    assert _orders(engine, store) == [
        ("901", "COMPLETED", Decimal("65.00"), "PLN", "marta.kowalczyk@example.com", "PL"),
        ("902", "REFUNDED", Decimal("20.00"), "PLN", "jonas.berger@example.de", "DE")]
    assert _lines(engine, store) == [
        ("901", "Clay Mug", "MUG-CL", 2, Decimal("20.00"), Decimal("40.00")),
        ("901", "Tea Sampler", "TEA-S", 1, Decimal("20.00"), Decimal("20.00")),
        ("902", "Tea Sampler", "TEA-S", 1, Decimal("20.00"), Decimal("20.00"))]
    assert rows(engine, "SELECT amount FROM refund WHERE store_id = :s", s=store.id) == [(Decimal("20.00"),)]
    guest = rows(engine, "SELECT customer_id FROM orders WHERE store_id = :s AND external_id = '902'", s=store.id)
    assert guest[0][0] is not None  # the guest is matched (or created) by email, not as customer "0"


def test_mailchimp_subscribed_unsubscribed_and_cleaned(engine, store, tmp_path):
    for name in ("mailchimp-subscribed", "mailchimp-unsubscribed", "mailchimp-cleaned"):
        _import(engine, store, name, tmp_path)
    assert _consents(engine, store) == [
        ("ines.ferreira@example.pt", "EMAIL", "PENDING", "UNKNOWN", None),
        ("ines.ferreira@example.pt", "EMAIL", "SUBSCRIBED", "CONFIRMED_OPT_IN", None),
        ("kofi.mensah@example.com", "EMAIL", "SUBSCRIBED", "SINGLE_OPT_IN", None),
        ("lea.moreau@example.fr", "EMAIL", "PENDING", "UNKNOWN", None),
        ("lea.moreau@example.fr", "EMAIL", "SUBSCRIBED", "CONFIRMED_OPT_IN", None),
        ("lea.moreau@example.fr", "EMAIL", "UNSUBSCRIBED", "UNKNOWN", "No longer interested (campaign September Sale)"),
        ("piet.jansen@example.com", "EMAIL", "SUBSCRIBED", "SINGLE_OPT_IN", None),
        ("piet.jansen@example.com", "EMAIL", "INVALID", "UNKNOWN", "cleaned by Mailchimp (campaign Winter News)")]
    confirmed = rows(engine, "SELECT e.occurred_at FROM consent_event e JOIN customer c ON c.id = e.customer_id "
                             "WHERE e.store_id = :s AND c.email = 'ines.ferreira@example.pt' AND e.state = 'SUBSCRIBED'",
                     s=store.id)
    assert str(confirmed[0][0]).startswith("2025-06-01 08:05:00")  # CONFIRM_TIME, UTC
    assert sorted(r[0] for r in rows(engine, "SELECT t.name FROM tag t WHERE t.store_id = :s", s=store.id)) == [
        "Newsletter", "Spring Promo"]
    assert [c[4] for c in _customers(engine, store)] == ["PT", "GH", "FR", "NL"] or sorted(
        c[4] for c in _customers(engine, store)) == ["FR", "GH", "NL", "PT"]


@pytest.mark.parametrize("name", ["shopify-customers", "woocommerce-orders", "mailchimp-unsubscribed"])
def test_a_foreign_export_without_mapping_is_refused_naming_the_mapping(engine, store, tmp_path, name):
    file, kind = FILES[name]
    path = tmp_path / file
    path.write_bytes((FIXTURES / file).read_bytes())
    with pytest.raises(UserError, match=f"--mapping {name}"):
        import_csv(engine, store.id, path, kind)
    assert rows(engine, "SELECT COUNT(*) FROM customer WHERE store_id = :s", s=store.id) == [(0,)]


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess:
    """`crm-graph ARGS` (its `main`, run in this process: `tests.cli_runner`)."""
    environment = {**os.environ, "CRM_GRAPH_DATABASE_URL": database_url, "COLUMNS": "200"}
    environment.pop("CRM_GRAPH_DEV_STORE", None)
    return run_cli_in_process(args, env=environment, cwd=ROOT)


def test_mapping_auto_through_the_cli_picks_each_and_says_which(db_url, tmp_path):
    slug = f"auto-{uuid.uuid4().hex[:8]}"
    created = _cli("stores", "create", slug, database_url=db_url)
    assert created.returncode == 0, created.stderr
    for name, (file, kind) in FILES.items():
        path = tmp_path / file
        path.write_bytes((FIXTURES / file).read_bytes())
        done = _cli("import-csv", slug, str(path), "--kind", kind, "--mapping", "auto", database_url=db_url)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"Mapping: {name} (picked from the header)" in done.stdout, done.stdout
        assert "rejected" not in done.stdout.split("Mapping:")[1].split("line")[0] or " 0" in done.stdout
    plain = tmp_path / "shopify_again.csv"
    plain.write_bytes((FIXTURES / "shopify_customers_export.csv").read_bytes())
    refused = _cli("import-csv", slug, str(plain), "--kind", "customers", database_url=db_url)
    assert refused.returncode != 0 and "--mapping shopify-customers" in refused.stderr.replace("\n", "")
