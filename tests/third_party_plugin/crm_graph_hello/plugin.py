"""A connector serving two customers and a guest order, a notification when a sync finishes, and a CSV mapping
for a made-up tool's contact export that transforms values."""

from datetime import datetime, timezone
from decimal import Decimal

from crm_graph.connectors import (
    Connector, ConnectorSettings, CustomerRecord, CustomerRef, OrderLineRecord, OrderRecord, Page, Stream,
)
from crm_graph.connectors.csv import CsvMapping
from crm_graph.hookspecs import hookimpl
from crm_graph.models.enums import OrderStatus
from pydantic import SecretStr

FINISHED: list = []


class HelloSettings(ConnectorSettings):
    greeting: str = "hello"
    token: SecretStr


class HelloConnector(Connector):
    name = "hello"
    title = "Hello"
    settings_model = HelloSettings

    def streams(self):
        return [Stream("everything", incremental=False)]

    def read(self, stream, cursor, *, run_started_at):
        when = datetime(2026, 1, 5, tzinfo=timezone.utc)
        yield Page([
            CustomerRecord("hello", "1", email="ada@example.com", first_name=self.settings.greeting),
            CustomerRecord("hello", "2", email="bob@example.com"),
            OrderRecord("hello", "o1", CustomerRef(email="bob@example.com"), OrderStatus.PAID, when, "EUR",
                        Decimal("12.00"), lines=[OrderLineRecord("1", "Tea", "tea", None, 2, Decimal("6.00"),
                                                                 Decimal("12.00"))]),
        ])


@hookimpl
def register_connectors():
    return [HelloConnector]


@hookimpl
def sync_finished(connector, summary):
    # Takes fewer arguments than the spec names: allowed.
    FINISHED.append((connector, summary.counts["created"]))
    print(f"hello plugin saw {connector} finish with {summary.counts['created']} created")


def _contacts():
    def transform(row):
        # "Hello Contacts" writes consent as Y/N and names as "Last, First".
        last, _, first = row.get("contact name", "").partition(",")
        return [dict(row, first_name=first.strip(), last_name=last.strip(),
                     email_consent="SUBSCRIBED" if row.get("opted in") == "Y" else "UNSUBSCRIBED")]

    return transform


@hookimpl
def register_csv_mappings():
    return [CsvMapping(name="hello-contacts", kind="customers", description="Hello's contact export.",
                       columns={"Contact E-mail": "email"}, transform=_contacts,
                       fills=("first_name", "last_name", "email_consent"),
                       signature=("Contact E-mail", "Contact Name", "Opted In"))]
