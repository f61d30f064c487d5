"""Gamma-Gamma formulas against hand-worked values."""

import math

import numpy as np
import pytest

from crm_graph.services.lifecycle import gamma_gamma
from crm_graph.services.lifecycle.bgnbd import FitError
from crm_graph.services.lifecycle.gamma_gamma import GammaGammaParams

PAPER = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


def test_log_likelihood_by_hand():
    p, q, g, x, m = 2.0, 3.0, 10.0, 2, 5.0
    density = (math.gamma(p * x + q) / (math.gamma(p * x) * math.gamma(q)) * g**q * m ** (p * x - 1)
               * x ** (p * x) / (g + m * x) ** (p * x + q))
    assert gamma_gamma.log_likelihood(GammaGammaParams(p, q, g), [x], [m])[0] == pytest.approx(math.log(density))


def test_expected_order_value_by_hand():
    # x = 3 orders averaging 40: (15.44 + 120) · 6.25 / (18.75 + 2.74) = 846.5 / 21.49.
    assert gamma_gamma.expected_order_value(PAPER, [3], [40.0])[0] == pytest.approx(846.5 / 21.49)
    # x = 0: the population mean γp/(q-1) = 96.5 / 2.74.
    assert gamma_gamma.expected_order_value(PAPER, [0], [0.0])[0] == pytest.approx(96.5 / 2.74)
    assert PAPER.population_mean == pytest.approx(96.5 / 2.74)


def test_no_mean_when_q_is_at_most_one():
    heavy = GammaGammaParams(p=1.0, q=0.5, gamma=10.0)
    assert heavy.population_mean is None
    assert np.isnan(gamma_gamma.expected_order_value(heavy, [0], [0.0])[0])
    assert np.isfinite(gamma_gamma.expected_order_value(heavy, [2], [30.0])[0])


def test_fit_recovers_simulated_parameters():
    rng = np.random.default_rng(3)
    n = 5000
    nu = rng.gamma(4.0, 1 / 20.0, n)  # ν ~ Gamma(q=4, rate γ=20)
    x = rng.integers(1, 8, n)
    m = np.array([rng.gamma(3.0, 1 / nu[i], x[i]).mean() for i in range(n)])  # values ~ Gamma(p=3, rate ν)
    params, _ = gamma_gamma.fit(x, m)
    assert params.p == pytest.approx(3.0, rel=0.1)
    assert params.q == pytest.approx(4.0, rel=0.2)
    assert params.gamma == pytest.approx(20.0, rel=0.25)


def test_fit_refuses_non_positive_values():
    with pytest.raises(FitError):
        gamma_gamma.fit([1, 2], [10.0, 0.0])
