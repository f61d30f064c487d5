"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie's note).

A customer's order values are Gamma(p, ν) around their own mean p/ν, and ν ~ Gamma(q, γ) across
customers. Fitted on the repeat buyers' average repeat-order value `m` over `x` repeat orders, it
gives each customer's expected order value: a weighted mean of the population mean γp/(q-1) and
their own average, leaning on their own figure the more orders they have made.

As in `bgnbd`, the fit maximises the log-likelihood over log-parameters with L-BFGS-B and an
analytic gradient, in log space with `gammaln`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from crm_graph.services.lifecycle.bgnbd import LOG_BOUNDS, FitError


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters: order value ~ Gamma(p, ν), ν ~ Gamma(q, γ)."""

    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        """The parameters by name, for storage as JSON."""
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def population_mean(self) -> float | None:
        """The mean order value of a customer we know nothing about, γp/(q-1); None when q ≤ 1."""
        if self.q <= 1.0:
            return None
        return self.gamma * self.p / (self.q - 1.0)


def _terms(log_params: np.ndarray, x: np.ndarray, m: np.ndarray, log_m: np.ndarray, log_x: np.ndarray):
    p, q, g = np.exp(log_params)
    px = p * x
    log_gxm = np.log(g + x * m)
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g)
          + (px - 1.0) * log_m + px * log_x - (px + q) * log_gxm)
    psi = digamma(px + q)
    d_p = x * (psi - digamma(px) + log_m + log_x - log_gxm)
    d_q = psi - digamma(q) + np.log(g) - log_gxm
    d_g = q / g - (px + q) / (g + x * m)
    return ll, np.stack([d_p * p, d_q * q, d_g * g])


def log_likelihood(params: GammaGammaParams, x, m) -> np.ndarray:
    """The log-likelihood of each repeat buyer's average value `m` over `x` repeat orders.

    f(m | x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · m^(px-1) · x^(px) / (γ + m x)^(px+q)
    """
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    return _terms(np.log([params.p, params.q, params.gamma]), x, m, np.log(m), np.log(x))[0]


def fit(x, m, weights=None, *, start: GammaGammaParams | None = None) -> tuple[GammaGammaParams, float]:
    """Maximum-likelihood parameters for repeat buyers (x > 0, m > 0), and the total log-likelihood.

    Rows with x ≤ 0 or m ≤ 0 must be left out by the caller (the model is for positive spend).
    Raises `FitError` when the optimiser fails or runs to the edge of the search box.
    """
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if x.size == 0 or np.any(x <= 0) or np.any(m <= 0):
        raise FitError("the Gamma-Gamma model needs repeat buyers with positive average value")
    total = w.sum()
    log_m, log_x = np.log(m), np.log(x)

    def objective(log_params: np.ndarray):
        ll, grad = _terms(log_params, x, m, log_m, log_x)
        return -(w @ ll) / total, -(grad @ w) / total

    if start is None:
        # p large-ish (values vary less within a customer than across), q > 1, and γ so that the
        # population mean γp/(q-1) equals the observed mean.
        mean = float((w @ m) / total)
        start = GammaGammaParams(p=2.0, q=3.0, gamma=mean)
    x0 = np.clip(np.log([start.p, start.q, start.gamma]), LOG_BOUNDS[0] + 1, LOG_BOUNDS[1] - 1)
    result = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=[LOG_BOUNDS] * 3,
                      options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9})
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise FitError(f"the Gamma-Gamma likelihood did not converge: {result.message}")
    if np.any(np.abs(result.x) > LOG_BOUNDS[1] - 1e-3):
        raise FitError("the Gamma-Gamma parameters ran to the edge of their range; the data do not identify the model")
    p, q, g = np.exp(result.x)
    return GammaGammaParams(float(p), float(q), float(g)), float(-result.fun * total)


def expected_order_value(params: GammaGammaParams, x, m) -> np.ndarray:
    """E[order value | x repeat orders averaging m] = (γ + x m) p / (p x + q - 1).

    For x = 0 this is the population mean γp/(q-1). Where p x + q ≤ 1 (q ≤ 1 and few orders) the
    expectation does not exist and the result is NaN; callers store it as null.
    """
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    denominator = params.p * x + params.q - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (params.gamma + x * m) * params.p / denominator
    return np.where(denominator > 0, value, np.nan)
