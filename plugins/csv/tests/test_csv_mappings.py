"""Ready mappings: a Shopify customer export imports with `--mapping shopify-customers`."""

from crm_graph.models.enums import ConsentState
from crm_graph.plugins import csv_mappings, get_plugin_manager
from crm_graph.services.csv_import import import_csv
from tests.ingest_helpers import rows

SHOPIFY_EXPORT = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,Default Address Province Code,"
    "Default Address Country Code,Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,"
    "Total Spent,Total Orders,Note,Tax Exempt,Tags\n"
    "'207119551,Bob,Norman,bob.norman@mail.example.com,yes,,Chestnut Street 92,,Louisville,KY,US,40202,"
    "555-625-1199,+16136120707,no,199.65,1,,no,\"Léon, Noël\"\n"
)


def test_the_shopify_mapping_is_registered_through_the_hook():
    mappings = [m for result in get_plugin_manager().hook.register_csv_mappings() for m in result]
    assert "shopify-customers" in {m.name for m in mappings} and csv_mappings()["shopify-customers"].kind == "customers"


def test_a_shopify_customer_export_imports(engine, store, tmp_path):
    path = tmp_path / "customers_export.csv"
    path.write_text(SHOPIFY_EXPORT, encoding="utf-8")
    summary = import_csv(engine, store.id, path, "customers", mapping="shopify-customers")
    assert summary.counts["rejected"] == 0, summary.errors
    assert rows(engine, "SELECT i.external_id, c.email, c.phone, c.city, c.country FROM customer c "
                        "JOIN customer_identity i ON i.customer_id = c.id WHERE c.store_id = :s", s=store.id) == [
        ("207119551", "bob.norman@mail.example.com", "+16136120707", "Louisville", "US")]
    assert sorted(rows(engine, "SELECT channel, state FROM consent_event WHERE store_id = :s", s=store.id)) == [
        ("EMAIL", ConsentState.SUBSCRIBED.value), ("SMS", ConsentState.NOT_SUBSCRIBED.value)]
    assert sorted(r[0] for r in rows(engine, "SELECT t.name FROM tag t WHERE t.store_id = :s", s=store.id)) == [
        "Léon", "Noël"]
