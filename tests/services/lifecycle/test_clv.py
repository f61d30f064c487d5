"""The CLV fit job on stores: bad input gives a clear status, a fit stores consistent predictions."""

from __future__ import annotations

import math
from datetime import date

import pytest
from scipy.special import hyp2f1
from sqlalchemy import select
from sqlmodel import Session

from crm_graph.models import ClvModel, Customer, CustomerClv
from crm_graph.services.lifecycle.clv import (
    ClvStatus,
    clv_by_customer,
    fit_clv_models,
    latest_model,
    latest_ready_model,
)
from tests.factories import StoreBuilder, utc
from tests.services.lifecycle.simulate import simulate_store as _simulate

CUTOFF = date(2025, 12, 31)
SMALL = {"clv_min_customers": 2, "clv_min_repeat_customers": 2, "clv_min_history_days": 30}


def test_store_without_orders(engine, store):
    summary = fit_clv_models(engine, store, cutoff=CUTOFF)
    assert summary.status == ClvStatus.NOT_ENOUGH_HISTORY
    assert summary.reason == "0 customers have counted orders; predicted CLV needs at least 100."
    assert summary.counts == {"customers": 0, "repeat_customers": 0, "predictions": 0}
    with Session(engine) as session:
        model = latest_model(session, store)
        assert (model.status, model.cutoff, model.bgnbd_params) == ("NOT_ENOUGH_HISTORY", CUTOFF, None)
        assert latest_ready_model(session, store) is None


def test_single_customer(engine, session, make_store):
    store = make_store(settings=SMALL)
    b = StoreBuilder(session, store)
    only = b.customer(email="one@example.com")
    b.order(only, "10.00", utc(2025, 1, 1, 10))
    b.order(only, "10.00", utc(2025, 6, 1, 10))
    b.commit()
    summary = fit_clv_models(engine, store, cutoff=CUTOFF)
    assert summary.status == ClvStatus.NOT_ENOUGH_HISTORY
    assert summary.reason == "1 customers have counted orders; predicted CLV needs at least 2."


def test_no_repeat_buyers(engine, session, make_store):
    store = make_store(settings=SMALL)
    b = StoreBuilder(session, store)
    for i in range(5):
        b.order(b.customer(email=f"{i}@example.com"), "10.00", utc(2025, 1, 1 + i, 10))
    # Two orders on one local day are one purchase occasion, not a repeat.
    twice = b.customer(email="twice@example.com")
    b.order(twice, "5.00", utc(2025, 2, 1, 9))
    b.order(twice, "7.00", utc(2025, 2, 1, 18))
    b.commit()
    summary = fit_clv_models(engine, store, cutoff=CUTOFF)
    assert summary.status == ClvStatus.NOT_ENOUGH_HISTORY
    assert summary.reason == "0 customers have ordered on more than one day; predicted CLV needs at least 2."


def test_short_history(engine, session, make_store):
    store = make_store(settings=SMALL)
    b = StoreBuilder(session, store)
    for i in range(3):
        c = b.customer(email=f"{i}@example.com")
        b.order(c, "10.00", utc(2025, 12, 20, 10))
        b.order(c, "10.00", utc(2025, 12, 28, 10))
    b.commit()
    summary = fit_clv_models(engine, store, cutoff=CUTOFF)
    assert summary.status == ClvStatus.NOT_ENOUGH_HISTORY
    assert summary.reason == "The order history covers 11 days; predicted CLV needs at least 30."


def test_fit_stores_consistent_predictions(engine, store):
    _simulate(engine, store)
    summary = fit_clv_models(engine, store, cutoff=CUTOFF)
    assert summary.status == ClvStatus.READY, summary.reason
    assert summary.counts["customers"] == summary.counts["predictions"] == 300

    with Session(engine) as session:
        model = latest_ready_model(session, store)
        assert model.id == summary.model_id and model.cutoff == CUTOFF and model.horizon_days == 365
        rows = session.execute(select(CustomerClv).where(CustomerClv.store_id == store.id)).scalars().all()
    assert len(rows) == 300
    r, alpha, a, b = (model.bgnbd_params[k] for k in ("r", "alpha", "a", "b"))
    p, q, g = (model.gamma_gamma_params[k] for k in ("p", "q", "gamma"))
    repeat = next(row for row in rows if row.frequency >= 2)
    x, t_x, T = repeat.frequency, repeat.recency_days / 7, repeat.age_days / 7
    # P(alive) and E[orders in 365 days] straight from the paper's formulas (eq. 10, hyp2f1 as printed).
    alive = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    t = 365 / 7
    expected = ((a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
                * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t)))) * alive
    assert repeat.p_alive == pytest.approx(alive, rel=1e-9)
    assert repeat.expected_orders == pytest.approx(expected, rel=1e-6)
    value = (g + x * float(repeat.avg_order_value)) * p / (p * x + q - 1)
    assert float(repeat.expected_order_value) == pytest.approx(value, abs=0.006)
    assert float(repeat.predicted_value) == pytest.approx(expected * value, abs=0.01 + 0.01 * expected)
    one_time = next(row for row in rows if row.frequency == 0)
    assert one_time.p_alive == 1.0 and one_time.avg_order_value is None
    assert float(one_time.expected_order_value) == pytest.approx(g * p / (q - 1), abs=0.006)
    assert all(math.isfinite(row.expected_orders) and row.predicted_value is not None for row in rows)

    with Session(engine) as session:
        found = clv_by_customer(session, store, [repeat.customer_id, 10**12])
    assert found[0].customer_id == repeat.customer_id and found[1] is None


def test_refit_replaces_and_erasure_drops_out(engine, store):
    _simulate(engine, store, n=150, seed=5)
    first = fit_clv_models(engine, store, cutoff=CUTOFF)
    with Session(engine) as session:
        victim = session.execute(select(Customer).where(Customer.store_id == store.id).limit(1)).scalar_one()
        victim.erased_at = utc(2026, 1, 1)
        session.commit()
        victim_id = victim.id
    second = fit_clv_models(engine, store, cutoff=CUTOFF)
    assert first.status == second.status == ClvStatus.READY
    with Session(engine) as session:
        rows = session.execute(select(CustomerClv).where(CustomerClv.store_id == store.id)).scalars().all()
        assert {row.model_id for row in rows} == {second.model_id}
        assert victim_id not in {row.customer_id for row in rows} and len(rows) == 149
        assert len(session.execute(select(ClvModel).where(ClvModel.store_id == store.id)).all()) == 2


def test_not_enough_history_clears_old_predictions(engine, session, make_store):
    store = make_store(settings={**SMALL, "clv_min_customers": 100})
    _simulate(engine, store, n=120, seed=2)
    assert fit_clv_models(engine, store, cutoff=CUTOFF).status == ClvStatus.READY
    # An earlier cut-off: the store had too little history then.
    summary = fit_clv_models(engine, store, cutoff=date(2025, 1, 20))
    assert summary.status == ClvStatus.NOT_ENOUGH_HISTORY
    assert session.execute(select(CustomerClv).where(CustomerClv.store_id == store.id)).first() is None


def test_fit_within_a_callers_session(engine, session, make_store):
    store = make_store(settings=SMALL)
    progress = []
    summary = fit_clv_models(session, store, cutoff=CUTOFF, progress=lambda done, total: progress.append((done, total)))
    session.commit()
    assert summary.status == ClvStatus.NOT_ENOUGH_HISTORY
    assert progress[0] == (0, 4) and progress[-1] == (4, 4)
