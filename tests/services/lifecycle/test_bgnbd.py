"""BG/NBD formulas against hand-worked values and the paper's worked example."""

import math

import numpy as np
import pytest
from scipy.special import beta as B

from crm_graph.services.lifecycle import bgnbd
from crm_graph.services.lifecycle.bgnbd import BgNbdParams

PAPER = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_log_likelihood_of_a_customer_without_repeats():
    # x = 0: L = B(a, b)/B(a, b) · (α / (α + T))^r.
    p = BgNbdParams(r=2.0, alpha=3.0, a=1.5, b=2.5)
    assert bgnbd.log_likelihood(p, [0], [0], [5])[0] == pytest.approx(2.0 * math.log(3 / 8))


def test_log_likelihood_of_a_repeat_buyer():
    # x = 2, t_x = 4, T = 6 with r=2, α=3, a=1.5, b=2.5, term by term from eq. 6.
    r, al, a, b, x, tx, T = 2.0, 3.0, 1.5, 2.5, 2, 4.0, 6.0
    gamma_part = math.gamma(r + x) * al**r / math.gamma(r)
    first = B(a, b + x) / B(a, b) * gamma_part / (al + T) ** (r + x)
    second = B(a + 1, b + x - 1) / B(a, b) * gamma_part / (al + tx) ** (r + x)
    got = bgnbd.log_likelihood(BgNbdParams(r, al, a, b), [x], [tx], [T])[0]
    assert got == pytest.approx(math.log(first + second))


def test_the_gradient_matches_finite_differences():
    x, tx, T = np.array([0, 1, 5, 30]), np.array([0, 2.0, 10.0, 38.0]), np.array([3.0, 20.0, 30.0, 39.0])
    theta = np.log([0.5, 4.0, 0.8, 2.5])
    data = bgnbd._Data(x, tx, T, None)
    _, grad = bgnbd._terms(theta, data)
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6
        numeric = (bgnbd._terms(theta + step, data)[0] - bgnbd._terms(theta - step, data)[0]) / 2e-6
        assert grad[k] == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_p_alive_by_hand():
    # x=2, t_x=30.43, T=38.86: 1 / (1 + a/(b+1) · ((α+T)/(α+t_x))^(r+2)).
    odds = 0.793 / 3.426 * ((4.414 + 38.86) / (4.414 + 30.43)) ** 2.243
    assert bgnbd.p_alive(PAPER, [2], [30.43], [38.86])[0] == pytest.approx(1 / (1 + odds))
    # Without repeat purchases the model cannot have seen a dropout.
    assert bgnbd.p_alive(PAPER, [0], [0], [38.86])[0] == 1.0


def test_expected_purchases_of_the_papers_example_customer():
    # Fader, Hardie & Lee (2005), §5: x = 2, t_x = 30.43, T = 38.86 → 1.226 purchases in 39 weeks.
    assert bgnbd.expected_purchases(PAPER, 39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=5e-4)


def test_expected_purchases_is_continuous_through_a_equal_one():
    p = BgNbdParams(r=0.5, alpha=5.0, a=1.0, b=2.0)
    near = BgNbdParams(r=0.5, alpha=5.0, a=1.001, b=2.0)
    at, close = bgnbd.expected_purchases(p, 52, [3], [20], [40]), bgnbd.expected_purchases(near, 52, [3], [20], [40])
    assert np.isfinite(at).all() and at[0] == pytest.approx(close[0], rel=1e-2)


def test_heavy_buyers_do_not_overflow():
    got = bgnbd.expected_purchases(PAPER, 52, [5000], [1000.0], [1000.5])
    assert np.isfinite(got).all() and got[0] > 100


def test_fit_recovers_simulated_parameters():
    rng = np.random.default_rng(7)
    n, T = 20000, 52.0
    lam = rng.gamma(0.8, 1 / 3.0, n)
    p = rng.beta(1.2, 4.0, n)
    x = np.zeros(n, dtype=int)
    t_x = np.zeros(n)
    for i in range(n):  # simulate: purchases at Poisson(λ) until dropout after a purchase with prob p
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
    params, _ = bgnbd.fit(x, t_x, np.full(n, T))
    assert params.r == pytest.approx(0.8, rel=0.15) and params.alpha == pytest.approx(3.0, rel=0.2)
    assert params.a == pytest.approx(1.2, rel=0.3) and params.b == pytest.approx(4.0, rel=0.35)


def test_fit_refuses_nothing_to_fit():
    with pytest.raises(bgnbd.FitError):
        bgnbd.fit([], [], [])


def test_quadrature_agrees_with_the_closed_form():
    x, T = np.array([0.0, 2.0, 7.0, 30.0]), np.array([38.0, 38.86, 20.0, 39.0])
    closed = bgnbd.expected_purchases(PAPER, 39, x, np.zeros(4), T) / bgnbd.p_alive(PAPER, x, np.zeros(4), T)
    numeric = bgnbd._expected_by_quadrature(PAPER, 39, x, T)
    assert numeric == pytest.approx(closed, rel=1e-4)


def test_expected_purchases_with_almost_no_spread_in_dropout():
    # a, b in the tens of thousands (a/(a+b) = p ≈ 0.25 for everyone): SciPy's 2F1 overflows here.
    p = BgNbdParams(r=0.25, alpha=2.1, a=40000.0, b=120000.0)
    x, t_x, T = np.array([0, 3, 40]), np.array([0.0, 50.0, 140.0]), np.array([10.0, 100.0, 142.0])
    got = bgnbd.expected_purchases(p, 52, x, t_x, T)
    assert np.isfinite(got).all() and (got >= 0).all()
    # With p fixed at 0.25 and λ ~ Gamma(r+x, α+T): E = P(alive) · (1 − (1 + 0.25·52/(α+T))^-(r+x)) / 0.25.
    expected = bgnbd.p_alive(p, x, t_x, T) * (1 - (1 + 0.25 * 52 / (2.1 + T)) ** -(0.25 + x)) / 0.25
    assert got == pytest.approx(expected, rel=1e-3)
