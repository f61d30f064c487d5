"""The CLV models reproduce the published CDNOW fits within 1% (docs/metrics.md, “Lifecycle and marketing”).

Published on the 2,357-customer CDNOW sample with a 39-week calibration period (1997-01-01 to
1997-09-30), time in weeks, purchases on the same day merged:
- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way", table/§5):
  r = 0.243, α = 4.414, a = 0.793, b = 2.426, log-likelihood −9582.4.
- Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV", §on spend; Fader & Hardie's note on the
  Gamma-Gamma model): p = 6.25, q = 3.74, γ = 15.44, on the 946 customers with repeat purchases in
  the calibration period and their average repeat-transaction value.

The first test fits the models directly on the summary built here; the second loads the sample into
a store as orders and runs the product's fit job end to end (SQL summary on both databases).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timezone

import numpy as np
import pytest
from sqlalchemy import insert, select
from sqlmodel import Session

from crm_graph.models import ClvModel, Customer, CustomerClv, Order
from crm_graph.services.lifecycle import bgnbd, gamma_gamma
from crm_graph.services.lifecycle.clv import ClvStatus, fit_clv_models
from tests.services.lifecycle.cdnow import Transaction, fetch_wheel, read_sample

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
CALIBRATION_END = date(1997, 9, 30)


@pytest.fixture(scope="module")
def cdnow(request, tmp_path_factory) -> list[Transaction]:
    """The CDNOW sample transactions (the wheel is cached across runs in pytest's cache)."""
    cache = getattr(request.config, "cache", None)  # None under `-p no:cacheprovider`
    cache_dir = cache.mkdir("crm_graph_lifetimes_wheel") if cache else tmp_path_factory.mktemp("wheel")
    return read_sample(fetch_wheel(cache_dir))


def _within_one_percent(got: dict[str, float], published: dict[str, float]) -> None:
    for name, value in published.items():
        assert abs(got[name] / value - 1) < 0.01, f"{name}: got {got[name]:.4f}, published {value}"


def test_the_sample_is_the_published_one(cdnow):
    # 2,357 customers, 6,919 transactions (Fader & Hardie's description of the sample).
    assert len({t.customer for t in cdnow}) == 2357
    assert len(cdnow) == 6919


def test_models_reproduce_the_published_fits(cdnow):
    by_customer: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for t in cdnow:
        by_customer[t.customer][t.day] += float(t.value)
    x, t_x, T, m = [], [], [], []
    for days in by_customer.values():
        first = min(days)
        calibration = sorted(d for d in days if d <= CALIBRATION_END)
        x.append(len(calibration) - 1)
        t_x.append((calibration[-1] - first).days / 7)
        T.append((CALIBRATION_END - first).days / 7)
        m.append(np.mean([days[d] for d in calibration[1:]]) if len(calibration) > 1 else 0.0)
    x, t_x, T, m = map(np.asarray, (x, t_x, T, m))

    params, ll = bgnbd.fit(x, t_x, T)
    _within_one_percent(params.as_dict(), PUBLISHED_BGNBD)
    assert ll == pytest.approx(-9582.4, abs=0.5)

    repeat = x > 0
    assert repeat.sum() == 946
    spend, _ = gamma_gamma.fit(x[repeat], m[repeat])
    _within_one_percent(spend.as_dict(), PUBLISHED_GAMMA_GAMMA)


def test_fit_job_on_a_store_reproduces_the_published_fits(cdnow, engine, store):
    with Session(engine, expire_on_commit=False) as session:
        customers = sorted({t.customer for t in cdnow})
        session.execute(insert(Customer), [{"store_id": store.id, "first_name": c} for c in customers])
        ids = dict(session.execute(select(Customer.first_name, Customer.id).where(Customer.store_id == store.id)).all())
        session.execute(insert(Order), [
            {"store_id": store.id, "source": "cdnow", "external_id": str(i), "customer_id": ids[t.customer],
             "status": "COMPLETED", "placed_at": datetime.combine(t.day, time(12), tzinfo=timezone.utc),
             "currency": "USD", "total": t.value, "subtotal": t.value}
            for i, t in enumerate(cdnow)
        ])
        session.commit()

    summary = fit_clv_models(engine, store, cutoff=CALIBRATION_END)

    assert summary.status == ClvStatus.READY
    assert summary.counts == {"customers": 2357, "repeat_customers": 946, "predictions": 2357}
    with Session(engine) as session:
        model = session.get(ClvModel, summary.model_id)
        assert model.cutoff == CALIBRATION_END and model.time_unit_days == 7
        _within_one_percent(model.bgnbd_params, PUBLISHED_BGNBD)
        _within_one_percent(model.gamma_gamma_params, PUBLISHED_GAMMA_GAMMA)
        rows = session.execute(select(CustomerClv).where(CustomerClv.store_id == store.id)).scalars().all()
    assert len(rows) == 2357
    assert all(0 <= row.p_alive <= 1 and row.expected_orders >= 0 for row in rows)
