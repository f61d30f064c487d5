"""The store-wide rows: products, tag names and daily marketing spend per paid channel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_graph.connectors.records import DEMO_SOURCE
from crm_graph.generator import vocab
from crm_graph.generator.calendar import DAY, DAYS, Window
from crm_graph.generator.draws import pick, weighted, zipf_weights
from crm_graph.generator.loaders import Chunk
from crm_graph.generator.people import IDENTIFIED_SHARE

#: The source of generated products (and of every generated row): never a connector's.
PLATFORM = DEMO_SOURCE


@dataclass
class Catalog:
    """The products orders draw from; `popularity` is each product's relative sales weight."""

    ids: np.ndarray
    name: np.ndarray
    sku: np.ndarray
    price: np.ndarray  # cents
    popularity: np.ndarray
    rows: Chunk


def product_count(customers: int) -> int:
    """A catalogue that grows with the store: 150 products for small stores up to 2,000."""
    return int(min(2_000, max(150, 120 + customers // 500)))


def draw_catalog(rng: np.random.Generator, window: Window, store_id: int, customers: int, ids) -> Catalog:
    """Products with categories, SKUs and prices, and a long-tailed popularity."""
    n = product_count(customers)
    category = weighted(rng, [c[4] for c in vocab.CATEGORIES], n)
    line = rng.integers(0, len(vocab.PRODUCT_LINES), n)
    names, skus, prices = [], [], np.zeros(n, dtype=np.int64)
    for i in range(n):
        cat_name, prefix, median, spread, _, nouns = vocab.CATEGORIES[category[i]]
        noun = nouns[i % len(nouns)]
        size = ("", " 30 ml", " 50 ml", " 100 ml", " Mini")[i // len(nouns) % 5]
        names.append(f"{vocab.PRODUCT_LINES[line[i]]} {noun}{size}")
        skus.append(f"{prefix}-{i + 1:05d}")
        # Prices end in .99, as shops price them.
        prices[i] = max(int(median * rng.lognormal(0.0, spread)) // 100, 4) * 100 + 99
    product_ids = ids.reserve("product", n) + np.arange(n, dtype=np.int64)
    created = window.start - rng.integers(DAY, 400 * DAY, n)
    # Popularity is independent of price and of the order products were created in.
    popularity = zipf_weights(n, 1.05, 8.0)[rng.permutation(n)]
    name, sku = np.array(names, dtype=object), np.array(skus, dtype=object)
    rows = Chunk("product", n, [
        ("id", "int", product_ids), ("store_id", "const", store_id), ("source", "const", PLATFORM),
        ("external_id", "str", (np.arange(n) + 101).astype(str).astype(object)), ("name", "str", name),
        ("sku", "str", sku), ("category", "str", pick([c[0] for c in vocab.CATEGORIES], category)),
        ("created_at", "ts", created), ("updated_at", "ts", created),
    ])
    return Catalog(ids=product_ids, name=name, sku=sku, price=prices, popularity=popularity, rows=rows)


def tag_rows(window: Window, store_id: int, ids) -> tuple[np.ndarray, Chunk]:
    """The store's tag names (earlier ones are more popular) and their rows."""
    n = len(vocab.TAGS)
    tag_ids = ids.reserve("tag", n) + np.arange(n, dtype=np.int64)
    created = np.full(n, window.start, dtype=np.int64)
    return tag_ids, Chunk("tag", n, [
        ("id", "int", tag_ids), ("store_id", "const", store_id),
        ("name", "str", np.array(vocab.TAGS, dtype=object)), ("created_at", "ts", created),
    ])


def spend_rows(rng: np.random.Generator, window: Window, store_id: int, customers: int, ids) -> Chunk:
    """Daily spend per paid channel: the customers a day brings from it times its cost, with noise."""
    shares = {name: weight for name, weight in vocab.ACQUISITION_CHANNELS}
    total_weight = sum(shares.values())
    per_day = customers * window.weights / DAYS  # customers first seen each day, on average
    channels, days, amounts = [], [], []
    first_day = (np.datetime64(window.first_day, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64)
    for name, cost in vocab.PAID_CHANNELS:
        # Paid channels bring identified and anonymous visitors; cost is per identified customer.
        acquired = per_day * shares[name] / total_weight * IDENTIFIED_SHARE
        cents = (acquired * cost * 100 * rng.lognormal(0.0, 0.25, DAYS)).astype(np.int64)
        channels.extend([name] * DAYS)
        days.append(first_day + np.arange(DAYS))
        amounts.append(np.maximum(cents, 100))
    n = len(channels)
    return Chunk("marketing_spend", n, [
        ("id", "int", ids.reserve("marketing_spend", n) + np.arange(n, dtype=np.int64)),
        ("store_id", "const", store_id), ("channel", "str", np.array(channels, dtype=object)),
        ("day", "date", np.concatenate(days)), ("amount", "money", np.concatenate(amounts)),
    ])
