"""Consent histories per customer and channel: a small Markov chain of Shopify's consent states.

Histories start at sign-up or some weeks later; a pending double opt-in is usually confirmed within
minutes (two events on the same day), subscribers unsubscribe and come back, e-mails bounce
(INVALID). About one customer in eight with an e-mail or phone has no consent event at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_graph.generator.calendar import DAY, HOUR, MINUTE, Window
from crm_graph.generator.catalog import PLATFORM
from crm_graph.generator.draws import weighted
from crm_graph.generator.loaders import NULL_TS, Chunk
from crm_graph.generator.people import People

STATES = np.array(["SUBSCRIBED", "PENDING", "UNSUBSCRIBED", "NOT_SUBSCRIBED", "INVALID"], dtype=object)
SUBSCRIBED, PENDING, UNSUBSCRIBED, NOT_SUBSCRIBED, INVALID = range(5)
_INITIAL = [0.42, 0.15, 0.04, 0.36, 0.03]
#: Row = current state, column = next state.
_NEXT = np.array([
    [0.0, 0.0, 0.88, 0.0, 0.12],   # SUBSCRIBED -> unsubscribes, or the address bounces
    [0.85, 0.0, 0.0, 0.15, 0.0],   # PENDING -> confirms, or never does
    [0.70, 0.30, 0.0, 0.0, 0.0],   # UNSUBSCRIBED -> re-subscribes (directly or double opt-in)
    [0.60, 0.40, 0.0, 0.0, 0.0],   # NOT_SUBSCRIBED -> subscribes
    [0.50, 0.20, 0.0, 0.30, 0.0],  # INVALID -> a corrected address subscribes again, or not
])
#: Where consents came from. Generated rows all get the generator's own source; the draw stays so that a
#: seed gives the same states and times as before.
_SOURCES = np.array([PLATFORM, PLATFORM, PLATFORM], dtype=object)
_REASONS = {
    ("EMAIL", UNSUBSCRIBED): "unsubscribe link", ("SMS", UNSUBSCRIBED): "replied STOP",
    ("EMAIL", INVALID): "hard bounce", ("SMS", INVALID): "number not in service",
}


@dataclass
class Consents:
    """A chunk's consent events and, per customer, when their e-mail was first SUBSCRIBED."""

    rows: Chunk
    email_subscribed_since: np.ndarray
    last_change: np.ndarray


def draw_consents(rng: np.random.Generator, window: Window, store_id: int, people: People, ids) -> Consents:
    """Consent events for e-mail (customers with an e-mail) and SMS (customers with a phone)."""
    parts = []
    for channel, eligible, share in (("EMAIL", people.has_email, 0.88), ("SMS", people.has_phone, 0.80)):
        holders = np.flatnonzero(eligible & (rng.random(people.size) < share))
        parts.append(_histories(rng, window, channel, holders, people.created[holders]))
    customer = np.concatenate([p[0] for p in parts])
    channel = np.concatenate([p[1] for p in parts])
    state = np.concatenate([p[2] for p in parts])
    at = np.concatenate([p[3] for p in parts])
    level = np.concatenate([p[4] for p in parts])
    source = np.concatenate([p[5] for p in parts])
    reason = np.concatenate([p[6] for p in parts])
    order = np.lexsort((at, channel, customer))
    customer, channel, state, at = customer[order], channel[order], state[order], at[order]
    level, source, reason = level[order], source[order], reason[order]
    n = len(customer)

    never = np.iinfo(np.int64).max
    since = np.full(people.size, never, dtype=np.int64)
    subscribed = (channel == "EMAIL") & (state == SUBSCRIBED)
    np.minimum.at(since, customer[subscribed], at[subscribed])
    since[since == never] = NULL_TS
    last_change = np.full(people.size, NULL_TS, dtype=np.int64)
    np.maximum.at(last_change, customer, at)

    rows = Chunk("consent_event", n, [
        ("id", "int", ids.reserve("consent_event", n) + np.arange(n, dtype=np.int64)),
        ("store_id", "const", store_id), ("customer_id", "int", people.ids[customer]),
        ("channel", "str", channel), ("state", "cat", (list(STATES), state)), ("opt_in_level", "str", level),
        ("occurred_at", "ts", at), ("source", "str", source), ("reason", "str", reason),
        ("created_at", "ts", at),
    ])
    return Consents(rows=rows, email_subscribed_since=since, last_change=last_change)


def _histories(rng, window: Window, channel: str, holders: np.ndarray, created: np.ndarray):
    """Event columns of one channel's histories; `holders` are customer indexes in the chunk."""
    h = len(holders)
    lengths = 1 + np.minimum(rng.poisson(2.8, h), 9)
    at_signup = rng.random(h) < 0.5
    time = created + np.where(at_signup, rng.integers(1, MINUTE, h), (rng.exponential(45.0, h) * DAY).astype(np.int64))
    state = weighted(rng, _INITIAL, h)
    previous = np.full(h, -1)
    alive = time < window.end
    columns: list[list[np.ndarray]] = [[] for _ in range(7)]
    step = 0
    while alive.any():
        live = np.flatnonzero(alive)
        s, p = state[live], previous[live]
        level = np.where(s == PENDING, "CONFIRMED_OPT_IN", "UNKNOWN").astype(object)
        subscribed = s == SUBSCRIBED
        level[subscribed & (p == PENDING)] = "CONFIRMED_OPT_IN"
        single = subscribed & (p != PENDING)
        level[single] = np.where(rng.random(int(single.sum())) < 0.8, "SINGLE_OPT_IN", "UNKNOWN")
        source = _SOURCES[weighted(rng, [0.6, 0.25, 0.15] if step else [0.75, 0.05, 0.2], len(live))]
        reason = np.full(len(live), None, dtype=object)
        for (ch, st), text in _REASONS.items():
            if ch == channel:
                reason[(s == st) & (rng.random(len(live)) < 0.7)] = text
        for column, values in zip(columns, (holders[live], np.full(len(live), channel, dtype=object), s,
                                            time[live], level, source, reason)):
            column.append(values)
        # Next step: a new state and, after a gap, its instant.
        step += 1
        previous[live] = s
        cdf = np.cumsum(_NEXT[s], axis=1)
        state[live] = np.minimum((rng.random((len(live), 1)) < cdf).argmax(axis=1), 4)
        confirm = (s == PENDING) & (state[live] == SUBSCRIBED)
        quick = confirm & (rng.random(len(live)) < 0.8)
        gap = np.where(quick, rng.integers(MINUTE, 30 * MINUTE, len(live)),
                       np.where(confirm, rng.integers(HOUR, 3 * DAY, len(live)),
                                (rng.exponential(100.0, len(live)) * DAY).astype(np.int64) + HOUR))
        time[live] += gap
        alive[live] = (lengths[live] > step) & (time[live] < window.end)
    types = (np.int64, object, np.int64, np.int64, object, object, object)
    return tuple(np.concatenate(c) if c else np.zeros(0, dtype=t) for c, t in zip(columns, types))
