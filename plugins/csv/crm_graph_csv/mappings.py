"""Ready header mappings for other tools' CSV exports."""

from crm_graph.connectors.csv import CsvMapping

#: Shopify admin → Customers → Export (the current export and the older one's column names).
SHOPIFY_CUSTOMERS = CsvMapping(
    name="shopify-customers",
    kind="customers",
    description="Shopify's customer export (Customers → Export → CSV for Excel or plain CSV).",
    columns={
        "Customer ID": "customer_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Accepts Email Marketing": "email_consent",
        "Accepts Marketing": "email_consent",
        "Accepts SMS Marketing": "sms_consent",
        "Default Address City": "city",
        "City": "city",
        "Default Address Country Code": "country",
        "Country Code": "country",
        "Phone": "phone",
        "Tags": "tags",
    },
)

MAPPINGS = (SHOPIFY_CUSTOMERS,)
