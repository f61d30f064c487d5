"""Customers: who they are, where they live, when they were first seen, and how they will buy.

About 60% are identified (an e-mail, a phone or an account); the rest are anonymous visitors with
visits only. Buying behaviour is heavy-tailed: most buyers order once, a minority order often, and
about one in seventy is a big spender with larger baskets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_graph.generator import vocab
from crm_graph.generator.calendar import MINUTE, Window
from crm_graph.generator.draws import pick, weighted, zipf_weights

IDENTIFIED_SHARE = 0.60
BUYER_SHARE = 0.80  # of identified customers
ONE_TIME_SHARE = 0.42
EXISTING_BASE = 0.15


@dataclass
class People:
    """One chunk of customers as columns (index i is the same customer in every array)."""

    ids: np.ndarray
    number: np.ndarray  # position of the customer in the whole generated store (0-based)
    created: np.ndarray
    identified: np.ndarray
    has_email: np.ndarray
    has_phone: np.ndarray
    has_account: np.ndarray
    email: np.ndarray
    phone: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    gender: np.ndarray
    country: np.ndarray
    city: np.ndarray
    channel: np.ndarray
    planned_orders: np.ndarray  # orders the customer would place over a whole window
    basket: np.ndarray  # basket size multiplier (big spenders have large ones)

    @property
    def size(self) -> int:
        """Customers in the chunk."""
        return len(self.ids)


def draw_people(rng: np.random.Generator, window: Window, first_number: int, ids: np.ndarray) -> People:
    """Draw `len(ids)` customers, numbered from `first_number` in the whole store."""
    n = len(ids)
    number = first_number + np.arange(n, dtype=np.int64)
    created = window.draw(rng, rng.random(n))
    # The store existed before the window: its customer base is first seen by the CRM in its first weeks.
    existing = rng.random(n) < EXISTING_BASE
    created[existing] = window.start + rng.integers(0, 60 * 86400, int(existing.sum()))

    identified = rng.random(n) < IDENTIFIED_SHARE
    has_email = identified & (rng.random(n) < 0.93)
    has_phone = identified & (rng.random(n) < 0.42)
    has_account = identified & (rng.random(n) < 0.55)
    # An identified customer has at least one of the three.
    has_email |= identified & ~(has_phone | has_account)

    genders = np.array([g for g, _ in vocab.GENDERS], dtype=object)
    gender = np.full(n, "UNKNOWN", dtype=object)
    gender[identified] = genders[weighted(rng, [w for _, w in vocab.GENDERS], int(identified.sum()))]

    first_name, first_ascii = _first_names(rng, gender)
    last_index = rng.integers(0, len(vocab.LAST_NAMES), n)
    last_name = pick([name for name, _ in vocab.LAST_NAMES], last_index)
    last_ascii = pick([ascii_ for _, ascii_ in vocab.LAST_NAMES], last_index)
    named = identified & ((rng.random(n) < 0.9) | has_account)
    first_name[~named] = None
    last_name[~named] = None

    email = np.full(n, None, dtype=object)
    domains = pick([d for d, _ in vocab.EMAIL_DOMAINS], weighted(rng, [w for _, w in vocab.EMAIL_DOMAINS], n))
    for i in np.flatnonzero(has_email).tolist():
        local = f"{first_ascii[i]}.{last_ascii[i]}" if named[i] else "customer"
        email[i] = f"{local}{number[i] + 1}@{domains[i]}"

    country_index = weighted(rng, [c[1] for c in vocab.COUNTRIES], n)
    located = identified | (rng.random(n) < 0.65)  # visitors: country from geo-IP, or nothing
    country = pick([c[0] for c in vocab.COUNTRIES], country_index)
    country[~located] = None
    city = np.full(n, None, dtype=object)
    with_city = identified & (rng.random(n) < 0.9)
    for c, (_, _, _, cities) in enumerate(vocab.COUNTRIES):
        members = np.flatnonzero(with_city & (country_index == c))
        city[members] = pick([name for name, _ in cities], weighted(rng, [w for _, w in cities], len(members)))

    phone = np.full(n, None, dtype=object)
    digits = rng.integers(500_000_000, 899_999_999, n)
    prefixes = [c[2] for c in vocab.COUNTRIES]
    for i in np.flatnonzero(has_phone).tolist():
        phone[i] = f"{prefixes[country_index[i]]}{digits[i]}"

    channel = pick([c for c, _ in vocab.ACQUISITION_CHANNELS],
                   weighted(rng, [w for _, w in vocab.ACQUISITION_CHANNELS], n))
    channel[rng.random(n) < 0.03] = None

    buyer = identified & (rng.random(n) < BUYER_SHARE)
    # Heavy tail: a Lomax (Pareto II) number of repeat orders on top of the first.
    repeat = 1 + np.floor(rng.pareto(2.1, n) * 15.0).astype(np.int64)
    planned = np.where(rng.random(n) < ONE_TIME_SHARE, 1, 1 + repeat)
    planned = np.where(buyer, np.minimum(planned, 400), 0)
    basket = rng.lognormal(0.0, 0.35, n)
    big = buyer & (rng.random(n) < 0.015)
    basket[big] *= 4.0
    return People(ids=ids, number=number, created=created, identified=identified, has_email=has_email,
                  has_phone=has_phone, has_account=has_account, email=email, phone=phone,
                  first_name=first_name, last_name=last_name, gender=gender, country=country, city=city,
                  channel=channel, planned_orders=planned, basket=basket)


def _first_names(rng: np.random.Generator, gender: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Given names (display and ASCII) that fit each gender; other genders draw from every list."""
    n = len(gender)
    names = np.full(n, None, dtype=object)
    ascii_ = np.full(n, None, dtype=object)
    pools = {
        "FEMALE": vocab.FEMALE_NAMES,
        "MALE": vocab.MALE_NAMES,
        None: vocab.FEMALE_NAMES + vocab.MALE_NAMES + vocab.NEUTRAL_NAMES,
    }
    for key, pool in pools.items():
        members = np.flatnonzero(gender == key) if key else np.flatnonzero((gender != "FEMALE") & (gender != "MALE"))
        index = weighted(rng, zipf_weights(len(pool), 0.6, 3.0), len(members))
        names[members] = pick([p[0] for p in pool], index)
        ascii_[members] = pick([p[1] for p in pool], index)
    return names, ascii_


def first_seen_delay(rng: np.random.Generator, size: int) -> np.ndarray:
    """Seconds from first visit to first order: most buy in that session, others come back later."""
    same_session = rng.random(size) < 0.7
    return np.where(same_session, rng.integers(3 * MINUTE, 45 * MINUTE, size),
                    (rng.exponential(20.0, size) * 86400).astype(np.int64) + 3 * MINUTE)
