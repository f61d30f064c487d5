"""A fake Shopify GraphQL Admin API on 127.0.0.1, for tests and benchmarks.

It answers the connector's `Customers`, `Orders` and `Products` queries (recognised by operation
name) with the documented connection shape (`nodes`, `pageInfo.hasNextPage/endCursor`), a search
string filtering on ``updated_at``, stable cursors, ``extensions.cost`` with a leaky bucket that
answers ``THROTTLED`` when empty, the access-token header, and queued faults (429, 500, timeout).
The `Exists` query (``node(id:)``) answers the node's id, or null once it is removed from
`customers`, `orders` or `products`. Its data are the vendor's REST sample payloads, turned into
GraphQL nodes.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from crm_graph.connectors.normalise import instant


def sample(name: str):
    """A vendor sample payload shipped with the plugin."""
    return json.loads(resources.files("crm_graph_shopify").joinpath("samples", name).read_text("utf-8"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(amount, currency: str = "USD") -> dict:
    return {"shopMoney": {"amount": str(amount), "currencyCode": currency}}


def _gid(kind: str, value) -> str:
    return f"gid://shopify/{kind}/{value}"


def customer_node(rest: dict) -> dict:
    """A REST customer as the GraphQL Customer node the connector asks for."""
    address = rest.get("default_address") or {}

    def consent(value):
        if not value:
            return None
        return {"marketingState": (value.get("state") or "").upper() or None,
                "marketingOptInLevel": (value.get("opt_in_level") or "").upper() or None,
                "consentUpdatedAt": value.get("consent_updated_at")}

    return {
        "id": rest.get("admin_graphql_api_id") or _gid("Customer", rest["id"]), "email": rest.get("email"),
        "phone": rest.get("phone"), "firstName": rest.get("first_name"), "lastName": rest.get("last_name"),
        "createdAt": rest.get("created_at"), "updatedAt": rest.get("updated_at"),
        "tags": [tag.strip() for tag in (rest.get("tags") or "").split(",") if tag.strip()],
        "defaultAddress": {"countryCodeV2": address.get("country_code"), "city": address.get("city")} if address else None,
        "emailMarketingConsent": consent(rest.get("email_marketing_consent")),
        "smsMarketingConsent": consent(rest.get("sms_marketing_consent")),
    }


def order_node(rest: dict) -> dict:
    """A REST order as the GraphQL Order node the connector asks for."""
    currency = rest.get("currency") or "USD"
    buyer = rest.get("customer")
    address = rest.get("billing_address") or {}
    shipping = ((rest.get("total_shipping_price_set") or {}).get("shop_money") or {}).get("amount", "0.00")
    lines = []
    for item in rest.get("line_items") or ():
        price = item.get("price") or "0.00"
        total = float(price) * int(item.get("quantity") or 0) - float(item.get("total_discount") or 0)
        lines.append({"id": item.get("admin_graphql_api_id") or _gid("LineItem", item["id"]), "name": item.get("name"),
                      "sku": item.get("sku") or None, "quantity": item.get("quantity"),
                      "product": {"id": _gid("Product", item["product_id"])} if item.get("product_id") else None,
                      "variant": {"id": _gid("ProductVariant", item["variant_id"])} if item.get("variant_id") else None,
                      "originalUnitPriceSet": _money(price, currency),
                      "discountedTotalSet": _money(f"{total:.2f}", currency)})
    refunds = []
    for refund in rest.get("refunds") or ():
        amount = sum(float(t["amount"]) for t in refund.get("transactions") or () if t.get("kind") == "refund")
        refunds.append({"id": refund.get("admin_graphql_api_id") or _gid("Refund", refund["id"]),
                        "createdAt": refund.get("processed_at") or refund.get("created_at"), "note": refund.get("note"),
                        "totalRefundedSet": _money(f"{amount:.2f}", currency)})
    return {
        "id": rest.get("admin_graphql_api_id") or _gid("Order", rest["id"]), "name": rest.get("name"),
        "createdAt": rest.get("created_at"), "processedAt": rest.get("processed_at"), "updatedAt": rest.get("updated_at"),
        "cancelledAt": rest.get("cancelled_at"),
        "displayFinancialStatus": (rest.get("financial_status") or "").upper() or None,
        "displayFulfillmentStatus": (rest.get("fulfillment_status") or "unfulfilled").upper(),
        "email": rest.get("email"), "phone": rest.get("phone"), "currencyCode": currency,
        "customer": {"id": buyer.get("admin_graphql_api_id") or _gid("Customer", buyer["id"]), "email": buyer.get("email"),
                     "phone": buyer.get("phone"), "firstName": buyer.get("first_name"),
                     "lastName": buyer.get("last_name")} if buyer else None,
        "billingAddress": {"countryCodeV2": address.get("country_code"), "city": address.get("city"),
                           "firstName": address.get("first_name"), "lastName": address.get("last_name"),
                           "phone": address.get("phone")} if address else None,
        "totalPriceSet": _money(rest.get("total_price"), currency),
        "subtotalPriceSet": _money(rest.get("subtotal_price"), currency),
        "totalDiscountsSet": _money(rest.get("total_discounts"), currency),
        "totalShippingPriceSet": _money(shipping, currency), "totalTaxSet": _money(rest.get("total_tax"), currency),
        "customerJourneySummary": None,
        "lineItems": {"nodes": lines}, "refunds": refunds,
    }


_COST_PER_NODE = {"customers": 1, "orders": 6, "products": 1}
_AFTER = re.compile(r"updated_at:>='([^']+)'")
_BEFORE = re.compile(r"updated_at:<'([^']+)'")


class FakeShopify:
    """The fake shop; `start()` returns its base URL."""

    def __init__(self, *, token: str = "shpat_test", api_version: str = "2025-01", bucket: float = 1000.0,
                 restore_rate: float = 50.0, timeout_seconds: float = 2.0) -> None:
        self.token = token
        self.path = f"/admin/api/{api_version}/graphql.json"
        self.customers: dict[str, dict] = {}
        self.orders: dict[str, dict] = {}
        self.products: dict[str, dict] = {}
        self.maximum = bucket
        self.available = bucket
        self.restore_rate = restore_rate
        self._refilled = time.monotonic()
        self.faults: list[int | str] = []
        self.timeout_seconds = timeout_seconds
        self.before_request: Callable[[str, dict], None] | None = None
        self.log: list[tuple[str, dict]] = []
        self.throttled = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- data -------------------------------------------------------------------------------
    def load_samples(self) -> "FakeShopify":
        """The sample customers (one subscribed to email), the sample orders and their products."""
        for body in (sample("shopify_customers_by_ids.json")["customers"],
                     sample("shopify_customers_list.json")["customers"],
                     [sample("shopify_customer_email_subscribed.json")["customer"]]):
            for rest in body:
                self.put_customer(copy.deepcopy(rest))
        for rest in sample("shopify_orders_list.json")["orders"] + [sample("shopify_order_retrieve.json")["order"]]:
            self.put_order(copy.deepcopy(rest))
        return self

    def put_customer(self, rest: dict) -> dict:
        """Add or replace a customer (REST shape)."""
        node = customer_node(rest)
        self.customers[node["id"]] = node
        return node

    def put_order(self, rest: dict) -> dict:
        """Add or replace an order (REST shape); its products are added too."""
        node = order_node(rest)
        self.orders[node["id"]] = node
        for item in rest.get("line_items") or ():
            if item.get("product_id"):
                gid = _gid("Product", item["product_id"])
                self.products.setdefault(gid, {"id": gid, "title": item.get("title") or item.get("name"),
                                               "productType": None, "updatedAt": rest.get("updated_at"),
                                               "variants": {"nodes": [{"sku": item.get("sku")}]}})
        return node

    def touch(self, collection: str, gid: str, **changes) -> dict:
        """Change a node; its `updatedAt` becomes now (as Shopify does)."""
        node = getattr(self, collection)[gid]
        node.update(changes)
        node["updatedAt"] = _iso(datetime.now(timezone.utc))
        return node

    # --- serving ----------------------------------------------------------------------------
    def start(self) -> str:
        """Serve on 127.0.0.1 on a free port; returns the base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer, headers = fake.handle(self.path, self.headers.get("X-Shopify-Access-Token"), body)
                if status == "timeout":
                    time.sleep(fake.timeout_seconds)
                    status, answer, headers = 504, {"errors": "timeout"}, {}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
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

    def _cost(self, requested: float) -> tuple[bool, dict]:
        now = time.monotonic()
        self.available = min(self.maximum, self.available + (now - self._refilled) * self.restore_rate)
        self._refilled = now
        allowed = requested <= self.available
        if allowed:
            self.available -= requested
        return allowed, {"requestedQueryCost": requested, "actualQueryCost": requested if allowed else None,
                         "throttleStatus": {"maximumAvailable": self.maximum,
                                            "currentlyAvailable": round(self.available, 1),
                                            "restoreRate": self.restore_rate}}

    def handle(self, path: str, token: str | None, body: bytes):
        """(status, JSON answer, headers) for a POST."""
        request = json.loads(body or b"{}")
        variables = request.get("variables") or {}
        with self._lock:
            self.log.append((path, variables))
            fault = self.faults.pop(0) if self.faults else None
        if self.before_request:
            self.before_request(path, variables)
        if fault is not None:
            return fault, {"errors": "injected"}, {"Retry-After": "0"} if fault == 429 else {}
        if token != self.token:
            return 401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, {}
        if path != self.path:
            return 404, {"errors": "Not Found"}, {}
        match = re.search(r"query\s+(\w+)", request.get("query") or "")
        if match and match.group(1) == "Exists":
            with self._lock:
                _, cost = self._cost(1)
            gid = variables.get("id")
            found = any(gid in getattr(self, name) for name in ("customers", "orders", "products"))
            return 200, {"data": {"node": {"id": gid} if found else None}, "extensions": {"cost": cost}}, {}
        counted = {"CustomersCount": "customers", "OrdersCount": "orders", "ProductsCount": "products"}.get(
            match.group(1) if match else "")
        if counted is not None:
            with self._lock:
                _, cost = self._cost(1)
            found = len(self._matching(counted, variables))
            exact = found <= 10_000  # the API's default limit
            return 200, {"data": {f"{counted}Count": {"count": min(found, 10_000),
                                                      "precision": "EXACT" if exact else "AT_LEAST"}},
                         "extensions": {"cost": cost}}, {}
        connection = {"Customers": "customers", "Orders": "orders", "Products": "products"}.get(
            match.group(1) if match else "")
        if connection is None:
            return 200, {"errors": [{"message": "Unknown operation"}]}, {}
        first = int(variables.get("first") or 50)
        with self._lock:
            allowed, cost = self._cost(2 + first * _COST_PER_NODE[connection])
        if not allowed:
            self.throttled += 1
            return 200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                         "extensions": {"cost": cost}}, {}
        return 200, {"data": {connection: self._page(connection, variables, first)}, "extensions": {"cost": cost}}, {}

    def _matching(self, connection: str, variables: dict) -> list:
        """((updatedAt, id), node) of the nodes the search string's updated_at bounds select, in order."""
        search = variables.get("query") or ""
        after_match, before_match = _AFTER.search(search), _BEFORE.search(search)
        low = instant(after_match.group(1)) if after_match else None
        high = instant(before_match.group(1)) if before_match else None
        nodes = []
        for node in list(getattr(self, connection).values()):
            updated = instant(node["updatedAt"])
            if (low is None or updated >= low) and (high is None or updated < high):
                nodes.append(((updated, node["id"]), node))
        nodes.sort(key=lambda pair: pair[0])
        return nodes

    def _page(self, connection: str, variables: dict, first: int) -> dict:
        nodes = self._matching(connection, variables)
        if variables.get("after"):
            stamp, gid = json.loads(base64.b64decode(variables["after"]))
            key = (instant(stamp), gid)
            nodes = [pair for pair in nodes if pair[0] > key]
        page = nodes[:first]
        end = None
        if page:
            (stamp, gid), _ = page[-1]
            end = base64.b64encode(json.dumps([stamp.isoformat(), gid]).encode()).decode()
        return {"nodes": [copy.deepcopy(node) for _, node in page],
                "pageInfo": {"hasNextPage": len(nodes) > first, "endCursor": end}}
