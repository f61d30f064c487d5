"""The plugin adapter: the Shopify connector, registered through `register_connectors`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from crm_graph.connectors import Connector, DeletionRecord, Page, RecordError, Stream, format_cursor, window_start
from crm_graph.connectors.normalise import instant
from crm_graph.hookspecs import hookimpl
from crm_graph_shopify import mapping, queries, webhooks
from crm_graph_shopify.client import ShopifyClient
from crm_graph_shopify.settings import ShopifySettings

_CONVERT = {
    "customers": mapping.customer_node,
    "orders": lambda node: [mapping.order_node(node)],
    "products": lambda node: [mapping.product_node(node)],
}


class ShopifyConnector(Connector):
    """Customers (with consent), products and orders, each incremental on `updated_at`."""

    name = "shopify"
    title = "Shopify"
    settings_model = ShopifySettings

    def __init__(self, settings: ShopifySettings, *, sleep=None) -> None:
        super().__init__(settings)
        self.overlap = timedelta(seconds=settings.overlap_seconds)
        self.client = ShopifyClient(settings, sleep=sleep)

    def streams(self) -> list[Stream]:
        """customers, products, orders (all statuses)."""
        return [Stream("customers", description="Customers with email and SMS marketing consent."),
                Stream("products", description="Products."),
                Stream("orders", description="Orders of any status, with lines and refunds.")]

    def read(self, stream: Stream, cursor: str | None, *, run_started_at: datetime) -> Iterator[Page]:
        """Pages of nodes updated since the cursor (minus the overlap), up to the run's start."""
        connection = stream.name
        _, query = queries.BY_STREAM[connection]
        extra = "status:any" if connection == "orders" else ""
        convert = _CONVERT[connection]
        start = window_start(cursor, self.overlap)
        total = self.client.count(connection, start, run_started_at, extra)
        for nodes in self.client.updated_pages(connection, query, start, run_started_at, extra):
            records, errors = [], []
            for node in nodes:
                try:
                    records.extend(convert(node))
                except (ValueError, KeyError, TypeError) as exc:
                    errors.append(RecordError(line=None, record=f"shopify {node.get('id')}", reason=str(exc)))
            last = instant(nodes[-1].get("updatedAt"))
            yield Page(records, cursor=format_cursor(last) if last else None, errors=errors, total=total,
                       items=len(nodes))
        yield Page([], cursor=format_cursor(run_started_at))

    def verify_webhook(self, headers, body):
        """Check ``X-Shopify-Hmac-Sha256`` and parse the body."""
        return webhooks.verify(self.settings, headers, body)

    def records_from_webhook(self, event):
        """Customers, consent changes, orders, products and deletions."""
        return webhooks.records(event)

    def confirm_deletion(self, record: DeletionRecord) -> bool:
        """Ask the shop: the customer, order or product is gone when its GID names no node."""
        kind = {"customer": "Customer", "order": "Order", "product": "Product"}.get(record.entity)
        if kind is None or not record.external_id.isdigit():
            return False
        return self.client.is_gone(f"gid://shopify/{kind}/{record.external_id}")

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


@hookimpl
def register_connectors():
    """The Shopify connector."""
    return [ShopifyConnector]
