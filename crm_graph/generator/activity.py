"""Activity events (visits, page views, e-mail opens and clicks, orders) and customers' tags.

Every customer's first visit is when they were first seen; most orders are preceded by a visit;
every counted order is an ORDER event at its `placed_at`; subscribers open and click e-mails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_graph.generator.calendar import DAY, HOUR, MINUTE, Window
from crm_graph.generator.consent import Consents
from crm_graph.generator.draws import weighted, zipf_weights
from crm_graph.generator.loaders import NULL_TS, Chunk
from crm_graph.generator.orders import PLATFORM, Orders
from crm_graph.generator.people import People

_KINDS = np.array(["VISIT", "PAGE_VIEW", "EMAIL_OPEN", "EMAIL_CLICK", "ORDER"], dtype=object)
VISIT, PAGE_VIEW, EMAIL_OPEN, EMAIL_CLICK, ORDER = range(5)
_SOURCE_OF_KIND = np.array([PLATFORM] * 5, dtype=object)  # generated events: the generator's own source


@dataclass
class Activity:
    """A chunk's activity rows and each customer's latest activity instant."""

    rows: Chunk
    last_activity: np.ndarray


def draw_activity(rng: np.random.Generator, window: Window, store_id: int, people: People, orders: Orders,
                  consents: Consents, ids) -> Activity:
    """The activity events of a chunk, sorted by customer and time."""
    end = window.end
    customers, kinds, times = [], [], []

    def add(customer: np.ndarray, kind: int, at: np.ndarray) -> None:
        customers.append(customer)
        kinds.append(np.full(len(customer), kind, dtype=np.int64))
        times.append(at)

    everyone = np.arange(people.size)
    add(everyone, VISIT, people.created)
    # Most orders start with a visit a few minutes earlier (never before the customer was first seen).
    with_visit = np.flatnonzero(rng.random(orders.size) < 0.7)
    before = orders.placed[with_visit] - rng.integers(2 * MINUTE, 40 * MINUTE, len(with_visit))
    add(orders.customer[with_visit], VISIT, np.maximum(before, people.created[orders.customer[with_visit]]))
    counted = np.flatnonzero(orders.counted)
    add(orders.customer[counted], ORDER, orders.placed[counted])
    # Visits of their own: identified customers come back more often than anonymous visitors.
    extra = rng.poisson(np.where(people.identified, 1.3, 0.5))
    returning = np.repeat(everyone, extra)
    add(returning, VISIT, window.draw_after(rng, people.created[returning]))
    visit_rows = np.concatenate([c for c, k in zip(customers, kinds) if k.size and k[0] == VISIT])
    visit_times = np.concatenate([t for t, k in zip(times, kinds) if k.size and k[0] == VISIT])
    # Page views within visits.
    views = rng.poisson(0.5, len(visit_rows))
    viewer = np.repeat(np.arange(len(visit_rows)), views)
    add(visit_rows[viewer], PAGE_VIEW, np.minimum(visit_times[viewer] + rng.integers(15, 15 * MINUTE, len(viewer)),
                                                 end - 1))
    # Subscribers open newsletters; some opens lead to a click.
    subscribed = np.flatnonzero(consents.email_subscribed_since != NULL_TS)
    opens = rng.poisson(3.0, len(subscribed))
    reader = np.repeat(subscribed, opens)
    opened = window.draw_after(rng, consents.email_subscribed_since[reader])
    add(reader, EMAIL_OPEN, opened)
    clicked = rng.random(len(reader)) < 0.3
    add(reader[clicked], EMAIL_CLICK, np.minimum(opened[clicked] + rng.integers(10, 15 * MINUTE, int(clicked.sum())),
                                                end - 1))

    customer = np.concatenate(customers)
    kind = np.concatenate(kinds)
    at = np.concatenate(times)
    order = np.lexsort((at, customer))
    customer, kind, at = customer[order], kind[order], at[order]
    n = len(customer)
    last = np.full(people.size, NULL_TS, dtype=np.int64)
    np.maximum.at(last, customer, at)
    rows = Chunk("activity_event", n, [
        ("id", "int", ids.reserve("activity_event", n) + np.arange(n, dtype=np.int64)),
        ("store_id", "const", store_id), ("customer_id", "int", people.ids[customer]),
        ("kind", "cat", (list(_KINDS), kind)), ("occurred_at", "ts", at),
        ("source", "cat", (list(_SOURCE_OF_KIND), kind)),
    ])
    return Activity(rows=rows, last_activity=last)


def draw_tags(rng: np.random.Generator, window: Window, store_id: int, people: People, tag_ids: np.ndarray,
              ids) -> Chunk:
    """Customers' tags: Zipf-like popularity, identified customers tagged far more, some removed later."""
    counts = np.minimum(rng.poisson(np.where(people.identified, 0.9, 0.05)), 5)
    customer = np.repeat(np.arange(people.size), counts)
    tag = weighted(rng, zipf_weights(len(tag_ids), 1.0, 1.5), len(customer))
    # One tag at most once per customer: shift duplicates to another tag, then drop what is left.
    for _ in range(3):
        key = customer * len(tag_ids) + tag
        order = np.argsort(key, kind="stable")
        duplicate = np.zeros(len(key), dtype=bool)
        duplicate[order[1:]] = key[order[1:]] == key[order[:-1]]
        if not duplicate.any():
            break
        tag[duplicate] = (tag[duplicate] + rng.integers(1, len(tag_ids), int(duplicate.sum()))) % len(tag_ids)
    key = customer * len(tag_ids) + tag
    _, keep = np.unique(key, return_index=True)
    customer, tag = customer[keep], tag[keep]
    n = len(customer)
    applied = window.draw_after(rng, people.created[customer])
    removed = applied + (rng.exponential(60.0, n) * DAY).astype(np.int64) + HOUR
    removed = np.where((rng.random(n) < 0.12) & (removed < window.end), removed, NULL_TS)
    source = np.array([PLATFORM] * 3, dtype=object)[weighted(rng, [0.5, 0.2, 0.3], n)]  # the draw keeps the seed's stream
    return Chunk("customer_tag", n, [
        ("id", "int", ids.reserve("customer_tag", n) + np.arange(n, dtype=np.int64)),
        ("store_id", "const", store_id), ("customer_id", "int", people.ids[customer]),
        ("tag_id", "int", tag_ids[tag]), ("applied_at", "ts", applied), ("removed_at", "ts", removed),
        ("source", "str", source),
    ])
