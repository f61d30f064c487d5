"""A fake WooCommerce REST API v3 on 127.0.0.1, for tests and benchmarks.

It speaks the documented protocol from the vendor's sample payloads: Basic auth or the keys in the
query string, `per_page`/`page` with `X-WP-Total`/`X-WP-TotalPages`, `modified_after`/`modified_before`
read in the site's local time unless `dates_are_gmt=true` (as WooCommerce does), `orderby=modified|id`,
`status=any` (everything but the trash), refunds per order. Faults can be queued (429, 500, a
timeout), records can be changed between two requests (`before_request`), and deleted (trashed).
`SyntheticOrders` serves any number of orders generated on the fly, in constant memory.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlparse

FMT = "%Y-%m-%dT%H:%M:%S"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _parse(value: str) -> datetime:
    return datetime.strptime(value[:19], FMT).replace(tzinfo=timezone.utc)


def sample(name: str):
    """A vendor sample payload shipped with the plugin (``woocommerce_orders_list.json``...)."""
    return json.loads(resources.files("crm_graph_woocommerce").joinpath("samples", name).read_text("utf-8"))


class Collection:
    """Resources of one kind held in memory, filtered and sorted as the API does."""

    def __init__(self) -> None:
        self.items: dict[int, dict] = {}

    def put(self, item: dict) -> dict:
        """Add or replace a resource (by id)."""
        self.items[int(item["id"])] = item
        return item

    def query(self, *, after: datetime | None, before: datetime | None, status: str | None, orderby: str,
              descending: bool, offset: int, limit: int) -> tuple[int, list[dict]]:
        """(total, page) of the resources that match."""
        chosen = []
        for item in self.items.values():
            modified = _parse(item.get("date_modified_gmt") or item["date_created_gmt"])
            if after is not None and not modified > after:
                continue
            if before is not None and not modified < before:
                continue
            item_status = item.get("status")
            if status == "any" and item_status == "trash":
                continue
            if status not in (None, "any") and item_status not in status.split(","):
                continue
            chosen.append((modified, item))
        key = (lambda pair: (pair[0], pair[1]["id"])) if orderby == "modified" else (lambda pair: pair[1]["id"])
        chosen.sort(key=key, reverse=descending)
        return len(chosen), [item for _, item in chosen[offset : offset + limit]]


class SyntheticOrders:
    """`count` orders made on the fly from the sample order; order i is modified at `base` + i seconds."""

    def __init__(self, count: int, *, base: datetime = datetime(2024, 1, 1, tzinfo=timezone.utc),
                 customers: int = 1000) -> None:
        self.count = count
        self.base = base
        self.customers = customers
        self.template = sample("woocommerce_order_retrieve.json")

    def _index_range(self, after: datetime | None, before: datetime | None) -> tuple[int, int]:
        low = 0 if after is None else max(0, math.floor((after - self.base).total_seconds()) + 1)
        high = self.count if before is None else min(self.count, math.ceil((before - self.base).total_seconds()))
        return low, max(low, high)

    def make(self, i: int) -> dict:
        """Order number i."""
        order = copy.deepcopy(self.template)
        moment = (self.base + timedelta(seconds=i)).strftime(FMT)
        order.update(id=i + 1, number=str(i + 1), date_created_gmt=moment, date_modified_gmt=moment,
                     date_created=moment, date_modified=moment, refunds=[])
        buyer = i % (self.customers + 1)
        order["customer_id"] = buyer  # 0: a guest
        order["billing"]["email"] = f"buyer{buyer}@example.com"
        for n, line in enumerate(order["line_items"]):
            line["id"] = (i + 1) * 10 + n
        return order

    def query(self, *, after, before, status, orderby, descending, offset, limit) -> tuple[int, list[dict]]:
        """(total, page), ordered by modification time (the same as id order here)."""
        if status not in (None, "any", "processing"):
            return 0, []
        low, high = self._index_range(after, before)
        total = high - low
        indexes = range(high - 1, low - 1, -1) if descending else range(low, high)
        return total, [self.make(i) for i in indexes[offset : offset + limit]]


class FakeWooCommerce:
    """The fake shop; `start()` returns its base URL, `stop()` shuts it down."""

    def __init__(self, *, key: str = "ck_test", secret: str = "cs_test", site_utc_offset_hours: int = -3,
                 timeout_seconds: float = 2.0) -> None:
        self.key, self.secret = key, secret
        self.site_offset = timedelta(hours=site_utc_offset_hours)
        self.customers = Collection()
        self.products = Collection()
        self.orders: Collection | SyntheticOrders = Collection()
        self.refunds: dict[int, list[dict]] = {}
        self.faults: list[int | str] = []
        self.throttle_every: int | None = None
        self.timeout_seconds = timeout_seconds
        self.before_request: Callable[[str, dict], None] | None = None
        self.log: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._next_id = 10_000

    # --- building the shop ------------------------------------------------------------------
    def load_samples(self) -> "FakeWooCommerce":
        """Fill the shop with the vendor samples (customers, orders with a guest, refunds, a product)."""
        for customer in sample("woocommerce_customers_list.json") + [sample("woocommerce_customer_retrieve.json")]:
            self.customers.put(copy.deepcopy(customer))
        for order in sample("woocommerce_orders_list.json"):
            self.orders.put(copy.deepcopy(order))
        # The refunds sample belongs to order 723 (its links say so); the order lists them without dates.
        refunds = copy.deepcopy(sample("woocommerce_order_refunds_list.json"))
        self.orders.items[723]["refunds"] = [
            {"id": r["id"], "reason": r["reason"], "total": "-" + r["amount"]} for r in refunds]
        self.refunds[723] = refunds
        self.products.put(copy.deepcopy(sample("woocommerce_product_retrieve.json")))
        return self

    def add_order(self, *, customer_id: int = 0, email: str = "guest@example.com", total: str = "10.00",
                  status: str = "processing", modified: datetime | None = None) -> dict:
        """A new order cloned from the sample; returns it."""
        with self._lock:
            self._next_id += 1
            order_id = self._next_id
        order = copy.deepcopy(sample("woocommerce_order_retrieve.json"))
        moment = (modified or _now()).strftime(FMT)
        order.update(id=order_id, number=str(order_id), customer_id=customer_id, total=total, status=status,
                     date_created_gmt=moment, date_modified_gmt=moment, refunds=[])
        order["billing"]["email"] = email
        for n, line in enumerate(order["line_items"]):
            line["id"] = order_id * 10 + n
        return self.orders.put(order)

    def update_order(self, order_id: int, **changes) -> dict:
        """Change an order as the shop would: its modification time becomes now."""
        order = self.orders.items[order_id]
        order.update(changes)
        order["date_modified_gmt"] = _now().strftime(FMT)
        return order

    def trash_order(self, order_id: int) -> None:
        """Move an order to the trash (what "delete" does in the admin)."""
        self.update_order(order_id, status="trash")

    # --- serving ----------------------------------------------------------------------------
    def start(self) -> str:
        """Serve on 127.0.0.1 on a free port; returns the base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                status, body, headers = fake.handle(self.path, self.headers.get("Authorization"))
                if status == "timeout":
                    time.sleep(fake.timeout_seconds)
                    status, body, headers = 504, {"code": "timeout"}, {}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        """Shut the server down."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def _authorised(self, authorization: str | None, params: dict) -> bool:
        if params.get("consumer_key") == self.key and params.get("consumer_secret") == self.secret:
            return True
        if authorization and authorization.startswith("Basic "):
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            return user == self.key and password == self.secret
        return False

    def _when(self, value: str | None, gmt: bool) -> datetime | None:
        if not value:
            return None
        moment = _parse(value)
        return moment if gmt else moment - self.site_offset  # local site time to UTC

    def handle(self, raw_path: str, authorization: str | None):
        """(status, JSON body, headers) for a GET."""
        url = urlparse(raw_path)
        params = {key: values[-1] for key, values in parse_qs(url.query).items()}
        with self._lock:
            self.log.append((url.path, params))
            count = len(self.log)
            fault = self.faults.pop(0) if self.faults else None
        if self.before_request:
            self.before_request(url.path, params)
        if fault is not None:
            return fault, {"code": "fault", "message": "injected"}, {"Retry-After": "0"} if fault == 429 else {}
        if self.throttle_every and count % self.throttle_every == 0:
            return 429, {"code": "too_many_requests"}, {"Retry-After": "0"}
        if not self._authorised(authorization, params):
            return 401, {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
                         "data": {"status": 401}}, {}
        parts = url.path.removeprefix("/wp-json/wc/v3/").strip("/").split("/")
        if parts[0] == "orders" and len(parts) == 3 and parts[2] == "refunds":
            return 200, self.refunds.get(int(parts[1]), []), {}
        collection = {"orders": self.orders, "customers": self.customers, "products": self.products}.get(parts[0])
        if collection is None or len(parts) > 2:
            return 404, {"code": "rest_no_route"}, {}
        if len(parts) == 2:
            item = collection.items.get(int(parts[1])) if isinstance(collection, Collection) else None
            return (200, item, {}) if item else (404, {"code": "woocommerce_rest_invalid_id"}, {})
        per_page = min(int(params.get("per_page", 10)), 100)
        page = int(params.get("page", 1))
        gmt = params.get("dates_are_gmt") == "true"
        status = params.get("status", "any") if parts[0] == "orders" else None
        total, items = collection.query(
            after=self._when(params.get("modified_after"), gmt), before=self._when(params.get("modified_before"), gmt),
            status=status, orderby=params.get("orderby", "date" if parts[0] != "customers" else "name"),
            descending=params.get("order", "desc") == "desc", offset=(page - 1) * per_page, limit=per_page)
        pages = max(1, math.ceil(total / per_page))
        return 200, items, {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
