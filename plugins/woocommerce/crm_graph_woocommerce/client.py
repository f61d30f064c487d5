"""The WooCommerce REST API v3 client: authentication, pages of 100, and time-keyed paging.

Lists are read `per_page=100`; `X-WP-Total` / `X-WP-TotalPages` give the size. Incremental lists
(orders, products) are filtered with ``modified_after`` / ``modified_before`` and
``dates_are_gmt=true`` (without it WooCommerce reads the dates in the shop's local timezone) and
ordered by modification time. Instead of walking page numbers over a list that shifts while it is
read (an order modified mid-read moves to the end and would push an unseen one back a page), the
client re-anchors ``modified_after`` on the last record of each page, so no record is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx

from crm_graph.connectors.http import PlatformError, RetryingClient
from crm_graph.connectors.normalise import instant
from crm_graph_woocommerce.settings import WooCommerceSettings

PER_PAGE = 100
API = "/wp-json/wc/v3"


def _gmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _gmt_ceil(moment: datetime) -> str:
    """An upper bound in whole seconds that still includes `moment` (the API has no fractions)."""
    return _gmt(moment + timedelta(seconds=1) if moment.microsecond else moment)


class WooCommerceClient:
    """Reads customers, orders, refunds and products of one shop."""

    def __init__(self, settings: WooCommerceSettings, *, sleep=None) -> None:
        self.settings = settings
        key = settings.consumer_key.get_secret_value()
        secret = settings.consumer_secret.get_secret_value()
        self._query_auth = {"consumer_key": key, "consumer_secret": secret} if settings.auth == "query" else {}
        kwargs = {"sleep": sleep} if sleep else {}
        self.http = RetryingClient(
            settings.url, auth=httpx.BasicAuth(key, secret) if settings.auth == "basic" else None,
            timeout=settings.timeout, max_retries=settings.max_retries, backoff=settings.retry_backoff,
            headers={"User-Agent": "crm-graph-woocommerce/0.1", "Accept": "application/json"}, **kwargs)
        self.requests = 0

    def get(self, path: str, params: dict | None = None) -> httpx.Response:
        """GET an API path (``/orders``) with the shop's authentication."""
        self.requests += 1
        return self.http.get(API + path, params={**(params or {}), **self._query_auth})

    def pages(self, path: str, params: dict | None = None) -> Iterator[tuple[list[dict], int | None]]:
        """Every page of a full list, in id order, with the list's total (from X-WP-Total)."""
        page = 1
        while True:
            response = self.get(path, {**(params or {}), "per_page": PER_PAGE, "page": page,
                                       "orderby": "id", "order": "asc"})
            items = response.json()
            total = _int(response.headers.get("X-WP-Total"))
            pages = _int(response.headers.get("X-WP-TotalPages"))
            if items:
                yield items, total
            if not items or len(items) < PER_PAGE or (pages is not None and page >= pages):
                return
            page += 1

    def modified_pages(self, path: str, start: datetime | None, end: datetime, params: dict | None = None
                       ) -> Iterator[tuple[list[dict], int | None]]:
        """Pages of records modified in (start, end], oldest first, keyed on the modification time."""
        after, page = start, 1
        while True:
            query = {**(params or {}), "per_page": PER_PAGE, "page": page, "orderby": "modified", "order": "asc",
                     "dates_are_gmt": "true", "modified_before": _gmt_ceil(end)}
            if after is not None:
                query["modified_after"] = _gmt(after)
            response = self.get(path, query)
            items = response.json()
            total = _int(response.headers.get("X-WP-Total"))
            if items:
                yield items, total
            if len(items) < PER_PAGE:
                return
            last = modified_at(items[-1])
            anchor = last - timedelta(seconds=1)  # re-read the last second: records sharing it are not lost
            if after is None or anchor > after:
                after, page = anchor, 1
            else:
                page += 1  # a whole page within one second: walk on by page number

    def refunds(self, order_id: int | str) -> list[dict]:
        """An order's refunds (with their dates, which the order itself lacks)."""
        return self.get(f"/orders/{order_id}/refunds", {"per_page": PER_PAGE}).json()

    def is_gone(self, resource: str, resource_id: str) -> bool:
        """Whether the shop no longer has a customer, order or product: it answers 404 or 410 for
        it, or it is in the trash (an order or product "deleted" in the admin)."""
        if resource not in ("customer", "order", "product") or not resource_id.isdigit():
            return False
        try:
            item = self.get(f"/{resource}s/{resource_id}").json()
        except PlatformError as exc:
            if exc.status in (404, 410):
                return True
            raise
        return isinstance(item, dict) and item.get("status") == "trash"

    def close(self) -> None:
        """Close the connections."""
        self.http.close()


def modified_at(item: dict) -> datetime:
    """A resource's last modification as a UTC instant (``date_modified_gmt``)."""
    return instant(item.get("date_modified_gmt") or item.get("date_created_gmt"))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
