"""The plugin adapter: the WooCommerce connector, registered through `register_connectors`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from crm_graph.connectors import (
    Connector, DeletionRecord, Page, RecordError, Stream, format_cursor, window_start,
)
from crm_graph.hookspecs import hookimpl
from crm_graph_woocommerce import mapping, webhooks
from crm_graph_woocommerce.client import WooCommerceClient, modified_at
from crm_graph_woocommerce.settings import WooCommerceSettings


class WooCommerceConnector(Connector):
    """Customers by full scan, products and orders incremental on their modification time."""

    name = "woocommerce"
    title = "WooCommerce"
    settings_model = WooCommerceSettings

    def __init__(self, settings: WooCommerceSettings, *, sleep=None) -> None:
        super().__init__(settings)
        self.overlap = timedelta(seconds=settings.overlap_seconds)
        self.client = WooCommerceClient(settings, sleep=sleep)

    def streams(self) -> list[Stream]:
        """customers (full scan: the API cannot filter them by date), products, orders."""
        return [
            Stream("customers", incremental=False, description="Every customer account, by id."),
            Stream("products", description="Products modified since the cursor."),
            Stream("orders", description="Orders modified since the cursor; trashed ones are deleted."),
        ]

    def read(self, stream: Stream, cursor: str | None, *, run_started_at: datetime) -> Iterator[Page]:
        """Pages of `stream`; incremental pages carry the modification time of their last record."""
        if stream.name == "customers":
            for items, total in self.client.pages("/customers", {"role": "all"}):
                yield self._page(items, total, None, lambda item: mapping.customer(item, self.settings.consent_meta_key))
            return
        start = window_start(cursor, self.overlap)
        if stream.name == "products":
            totals = _Totals()
            for items, total in self.client.modified_pages("/products", start, run_started_at):
                yield self._page(items, totals.of(total), modified_at(items[-1]), lambda item: [mapping.product(item)],
                                 totals.new(items))
        else:
            totals = _Totals()
            for items, total in self.client.modified_pages("/orders", start, run_started_at, {"status": "any"}):
                yield self._page(items, totals.of(total), modified_at(items[-1]), self._order, totals.new(items))
            totals.next_list()
            for items, total in self.client.modified_pages("/orders", start, run_started_at, {"status": "trash"}):
                deletions = [DeletionRecord(mapping.SOURCE, "order", str(item["id"])) for item in items]
                yield Page(deletions, cursor=None, total=totals.of(total), items=totals.new(items))
        yield Page([], cursor=format_cursor(run_started_at))  # the window is done, even when it was empty

    def _order(self, item: dict) -> list:
        refunds = self.client.refunds(item["id"]) if item.get("refunds") else []
        return [mapping.order(item, refunds, self.settings.status_map)]

    @staticmethod
    def _page(items: list[dict], total: int | None, last: datetime | None, convert, new: int | None = None) -> Page:
        records, errors = [], []
        for item in items:
            try:
                records.extend(convert(item))
            except (ValueError, KeyError, TypeError) as exc:
                errors.append(RecordError(line=None, record=f"woocommerce {item.get('id')}", reason=str(exc)))
        return Page(records, cursor=format_cursor(last) if last else None, errors=errors, total=total,
                    items=len(items) if new is None else new)

    def verify_webhook(self, headers, body):
        """Check ``X-WC-Webhook-Signature`` and parse the body."""
        return webhooks.verify(self.settings, headers, body)

    def records_from_webhook(self, event):
        """Orders, customers, products and their deletions."""
        return webhooks.records(self.settings, event)

    def confirm_deletion(self, record: DeletionRecord) -> bool:
        """Ask the shop: the resource is gone when it answers 404 (or 410), or has the status trash."""
        return self.client.is_gone(record.entity, record.external_id)

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


@hookimpl
def register_connectors():
    """The WooCommerce connector."""
    return [WooCommerceConnector]


class _Totals:
    """A stream's expected number of items from the lists it reads (``X-WP-Total`` of each list's first
    request: later requests of a list re-anchor their window and count only what is left of it)."""

    def __init__(self) -> None:
        self.finished = 0
        self.current: int | None = None
        self.previous: set = set()

    def new(self, items: list[dict]) -> int:
        """How many of a page's items the previous page did not have: a re-anchored request re-reads
        the last second of the previous page, and those items count once."""
        ids = {item.get("id") for item in items}
        fresh = len(ids - self.previous)
        self.previous = ids
        return fresh

    def of(self, total: int | None) -> int | None:
        if self.current is None:
            self.current = total
        return None if self.current is None else self.finished + self.current

    def next_list(self) -> None:
        self.finished += self.current or 0
        self.current = None
        self.previous = set()
