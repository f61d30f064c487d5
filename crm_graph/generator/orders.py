"""Orders with lines and refunds, in integer cents (written as Decimal money with two places).

Each buyer's first order follows their first visit; later orders are spread over the buyer's
lifetime (after which they go quiet) along the window's seasonal weights. Line totals add up to the
subtotal and total = subtotal - discount + shipping + tax. Refunds never exceed the order total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_graph.generator import vocab
from crm_graph.generator.calendar import DAY, HOUR, MINUTE, Window
from crm_graph.generator.catalog import PLATFORM, Catalog
from crm_graph.generator.draws import group_starts, pick, rank_in_group, weighted
from crm_graph.generator.loaders import Chunk
from crm_graph.generator.people import People, first_seen_delay

COUNTED = ("PAID", "COMPLETED", "REFUNDED")
LIFETIME_DAYS = 150.0
_STATUSES = np.array(["COMPLETED", "PAID", "REFUNDED", "CANCELLED", "FAILED", "PENDING"], dtype=object)
#: Status shares of settled orders, and of orders placed in the last three days (still in progress).
_SETTLED = [0.835, 0.012, 0.035, 0.058, 0.04, 0.02]
_RECENT = [0.25, 0.45, 0.0, 0.05, 0.05, 0.20]
_RAW = np.array([vocab.RAW_STATUS[status] for status in _STATUSES], dtype=object)


@dataclass
class Orders:
    """A chunk's orders, plus the per-order facts the rest of the generator needs."""

    customer: np.ndarray  # index of the customer in the chunk
    placed: np.ndarray
    counted: np.ndarray
    total: np.ndarray  # cents
    refunded: np.ndarray  # cents refunded on the order
    rows: Chunk
    lines: Chunk
    refunds: Chunk

    @property
    def size(self) -> int:
        """Orders in the chunk."""
        return len(self.placed)


def draw_orders(rng: np.random.Generator, window: Window, store_id: int, currency: str, people: People,
                catalog: Catalog, first_number: int, ids) -> Orders:
    """Draw the orders of `people`; external order numbers start at `first_number`."""
    end = window.end
    buyers = people.planned_orders > 0
    first = people.created + np.minimum(first_seen_delay(rng, people.size),
                                        ((end - people.created) * 0.9).astype(np.int64))
    # Each buyer stays for a while (frequent buyers longer) and then goes quiet; customers whose
    # lifetime runs past the end of the window have placed only part of their orders so far.
    lifetime = ((60 + rng.exponential(LIFETIME_DAYS, people.size))
                * (1 + 0.5 * np.log(np.maximum(people.planned_orders, 1))) * DAY).astype(np.int64)
    last_day = np.minimum(first + lifetime, end - 1)
    placed_share = np.clip((last_day - first) / lifetime, 0.0, 1.0)
    counts = np.where(buyers, 1 + rng.binomial(np.maximum(people.planned_orders - 1, 0), placed_share), 0)

    customer = np.repeat(np.arange(people.size), counts)
    rank = rank_in_group(counts)
    placed = first[customer].copy()
    later = rank > 0
    placed[later] = window.draw_after(rng, first[customer[later]], last_day[customer[later]])
    order = np.lexsort((placed, customer))
    customer, placed = customer[order], placed[order]
    n = len(placed)
    order_ids = ids.reserve("orders", n) + np.arange(n, dtype=np.int64)

    recent = placed >= end - 3 * DAY
    status_index = np.where(recent, weighted(rng, _RECENT, n), weighted(rng, _SETTLED, n))
    status = _STATUSES[status_index]
    counted = status_index <= 2

    # Lines: big spenders fill bigger baskets.
    basket = people.basket[customer]
    line_counts = 1 + np.minimum(rng.poisson(1.2 * basket), 14)
    line_order = np.repeat(np.arange(n), line_counts)
    product = _distinct_products(rng, catalog, line_order, len(line_order))
    quantity = 1 + np.minimum(rng.poisson(0.12 * basket[line_order]), 9)
    unit_price = catalog.price[product]
    line_total = quantity * unit_price
    subtotal = np.add.reduceat(line_total, group_starts(line_counts)) if n else np.zeros(0, np.int64)

    coupon = rng.random(n) < 0.18
    discount = np.where(coupon, subtotal * rng.choice([5, 10, 15, 20], n) // 100, 0)
    shipping = np.where(subtotal - discount >= 25_000, 0, rng.choice([999, 1499], n))
    tax = ((subtotal - discount + shipping) * 23 + 50) // 100
    total = subtotal - discount + shipping + tax

    first_order = rank_in_group(counts) == 0  # the sorted orders are still grouped by customer
    channel = pick([c for c, _ in vocab.REPEAT_ORDER_CHANNELS],
                   weighted(rng, [w for _, w in vocab.REPEAT_ORDER_CHANNELS], n))
    channel[first_order] = people.channel[customer[first_order]]

    refund_amount, refund_at, refunded = _refunds(rng, window, status, placed, total, line_total, line_counts)
    settled_at = np.where(status == "COMPLETED", placed + rng.integers(DAY, 6 * DAY, n),
                          placed + rng.integers(MINUTE, 2 * HOUR, n))
    updated = np.minimum(np.where(refunded, np.maximum(refund_at, settled_at), settled_at), end - 1)

    numbers = (first_number + np.arange(n)).astype(str).astype(object)
    rows = Chunk("orders", n, [
        ("id", "int", order_ids), ("store_id", "const", store_id), ("source", "const", PLATFORM),
        ("external_id", "str", numbers), ("customer_id", "int", people.ids[customer]),
        ("status", "cat", (list(_STATUSES), status_index)), ("raw_status", "cat", (list(_RAW), status_index)),
        ("placed_at", "ts", placed), ("updated_at", "ts", updated), ("currency", "const", currency),
        ("total", "money", total), ("subtotal", "money", subtotal), ("discount", "money", discount),
        ("shipping", "money", shipping), ("tax", "money", tax), ("channel", "str", channel),
        ("email", "str", people.email[customer]), ("phone", "str", people.phone[customer]),
        ("created_at", "ts", placed),
    ])
    m = len(line_order)
    lines = Chunk("order_line", m, [
        ("id", "int", ids.reserve("order_line", m) + np.arange(m, dtype=np.int64)),
        ("store_id", "const", store_id), ("order_id", "int", order_ids[line_order]),
        ("product_id", "int", catalog.ids[product]), ("name", "cat", (catalog.name.tolist(), product)),
        ("sku", "cat", (catalog.sku.tolist(), product)), ("quantity", "int", quantity),
        ("unit_price", "money", unit_price), ("line_total", "money", line_total),
    ])
    which = np.flatnonzero(refunded)
    reasons = pick([r for r, _ in vocab.REFUND_REASONS], weighted(rng, [w for _, w in vocab.REFUND_REASONS], len(which)))
    refunds = Chunk("refund", len(which), [
        ("id", "int", ids.reserve("refund", len(which)) + np.arange(len(which), dtype=np.int64)),
        ("store_id", "const", store_id), ("order_id", "int", order_ids[which]),
        ("external_id", "str", np.strings.add(numbers[which].astype(str), "-1").astype(object)),
        ("amount", "money", refund_amount[which]), ("refunded_at", "ts", refund_at[which]),
        ("reason", "str", reasons),
    ])
    return Orders(customer=customer, placed=placed, counted=counted, total=total,
                  refunded=np.where(refunded, refund_amount, 0), rows=rows, lines=lines, refunds=refunds)


def _distinct_products(rng: np.random.Generator, catalog: Catalog, line_order: np.ndarray, m: int) -> np.ndarray:
    """Products of each line by popularity, with no product twice in one order (a line has a quantity)."""
    product = weighted(rng, catalog.popularity, m)
    for _ in range(4):
        order = np.lexsort((product, line_order))
        same = np.zeros(m, dtype=bool)
        same[order[1:]] = (line_order[order[1:]] == line_order[order[:-1]]) & (product[order[1:]] == product[order[:-1]])
        if not same.any():
            break
        product[same] = (product[same] + rng.integers(1, len(catalog.ids), int(same.sum()))) % len(catalog.ids)
    return product


def _refunds(rng, window: Window, status, placed, total, line_total, line_counts):
    """Refunds: every REFUNDED order (in full or in part) and a few partial ones on COMPLETED orders."""
    n = len(placed)
    full = (status == "REFUNDED") & (rng.random(n) < 0.75)
    partial = ((status == "REFUNDED") & ~full) | ((status == "COMPLETED") & (rng.random(n) < 0.025))
    # A partial refund gives back the first line or a share of the order, whichever is smaller.
    first_line = line_total[group_starts(line_counts)] if n else np.zeros(0, np.int64)
    share = (total * rng.uniform(0.1, 0.6, n)).astype(np.int64)
    amount = np.where(full, total, np.maximum(np.minimum(first_line, share), 1))
    amount = np.minimum(amount, total)
    refunded = (full | partial) & (total > 0)
    at = np.minimum(placed + rng.integers(DAY, 30 * DAY, n), window.end - 1)
    at = np.maximum(at, placed + MINUTE)
    return amount, at, refunded
