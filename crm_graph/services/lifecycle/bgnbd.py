"""The BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

Each customer buys at a Poisson rate λ while alive and may drop out after any purchase with
probability p; λ ~ Gamma(r, α) and p ~ Beta(a, b) across customers. From a customer's repeat
purchases `x`, the time of the last one `t_x` and the time observed `T` (all measured from the
first purchase), the model gives the number of purchases expected in a coming period and the
probability that the customer is still alive.

Everything here is plain NumPy/SciPy on vectors. The log-likelihood is written in log space with
`gammaln`/`betaln` so that customers with many purchases do not overflow; parameters are fitted by
maximum likelihood on their logarithms (so they stay positive) with L-BFGS-B and an analytic
gradient. Rows can carry weights, so identical (x, t_x, T) rows are fitted once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

#: Bounds of the log-parameters during the search: e^-12 .. e^12 is wide enough for any time unit
#: from days to years and keeps the special functions finite.
LOG_BOUNDS = (-12.0, 12.0)


class FitError(RuntimeError):
    """The optimiser did not converge to a usable maximum of the likelihood."""


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters: λ ~ Gamma(r, α), dropout p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        """The parameters by name, for storage as JSON."""
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


def _as_arrays(x, t_x, T, weights=None):
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    return x, t_x, T, w


def log_likelihood(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """The log-likelihood of each customer's (x, t_x, T) under `params` (eq. 6 of the paper).

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + [x > 0] · B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))
    """
    x, t_x, T, _ = _as_arrays(x, t_x, T)
    return _terms(np.log([params.r, params.alpha, params.a, params.b]), x, t_x, T)[0]


def _terms(log_params: np.ndarray, x, t_x, T):
    """The per-row log-likelihood and its gradient with respect to the log-parameters."""
    r, alpha, a, b = np.exp(log_params)
    repeat = x > 0
    log_aT = np.log(alpha + T)
    log_atx = np.log(alpha + t_x)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    first = betaln(a, b + x) - (r + x) * log_aT
    # The second term exists only for repeat buyers; b + x - 1 > 0 there.
    xm1 = np.where(repeat, x - 1.0, 0.0)
    second = np.where(repeat, betaln(a + 1.0, b + xm1) - (r + x) * log_atx, -np.inf)
    mix = np.logaddexp(first, second)
    ll = common + mix
    # Weights of the two terms in the mixture (softmax), for the gradient.
    w1 = np.exp(first - mix)
    w2 = 1.0 - w1
    psi_ab = digamma(a + b)
    d_r = (digamma(r + x) - digamma(r) + np.log(alpha)) - (w1 * log_aT + w2 * log_atx)
    d_alpha = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + t_x))
    # d/da betaln(a, b) = ψ(a) - ψ(a+b); d/db likewise.
    d_common_a = -(digamma(a) - psi_ab)
    d_common_b = -(digamma(b) - psi_ab)
    d_first_a = digamma(a) - digamma(a + b + x)
    d_first_b = digamma(b + x) - digamma(a + b + x)
    d_second_a = np.where(repeat, digamma(a + 1.0) - digamma(a + b + x), 0.0)
    d_second_b = np.where(repeat, digamma(b + xm1) - digamma(a + b + x), 0.0)
    d_a = d_common_a + w1 * d_first_a + w2 * d_second_a
    d_b = d_common_b + w1 * d_first_b + w2 * d_second_b
    # Chain rule to log-parameters: d/d log θ = θ · d/dθ.
    grad = np.stack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return ll, grad


def fit(x, t_x, T, weights=None, *, start: BgNbdParams | None = None) -> tuple[BgNbdParams, float]:
    """Maximum-likelihood parameters for the customers (x, t_x, T), and the total log-likelihood.

    `weights` counts how many customers each row stands for. Raises `FitError` when the optimiser
    fails or lands on a boundary of the search box (the data do not pin the model down).
    """
    x, t_x, T, w = _as_arrays(x, t_x, T, weights)
    total = w.sum()
    if total <= 0:
        raise FitError("no customers to fit")

    def objective(log_params: np.ndarray):
        ll, grad = _terms(log_params, x, t_x, T)
        return -(w @ ll) / total, -(grad @ w) / total

    if start is None:
        # Method-of-moments-ish start: mean purchase rate over observed time, a < b (most survive).
        rate = max(float((w @ x) / max(w @ T, 1e-9)), 1e-6)
        start = BgNbdParams(r=1.0, alpha=1.0 / rate, a=1.0, b=3.0)
    x0 = np.log([start.r, start.alpha, start.a, start.b])
    x0 = np.clip(x0, LOG_BOUNDS[0] + 1, LOG_BOUNDS[1] - 1)
    result = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=[LOG_BOUNDS] * 4,
                      options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9})
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise FitError(f"the BG/NBD likelihood did not converge: {result.message}")
    if np.any(np.abs(result.x) > LOG_BOUNDS[1] - 1e-3):
        raise FitError("the BG/NBD parameters ran to the edge of their range; the data do not identify the model")
    r, alpha, a, b = np.exp(result.x)
    return BgNbdParams(float(r), float(alpha), float(a), float(b)), float(-result.fun * total)


def p_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """P(the customer is still alive at T | x, t_x, T); 1 for customers without repeat purchases.

    1 / (1 + [x > 0] · a / (b + x - 1) · ((α + T) / (α + t_x))^(r + x)), evaluated in log space.
    """
    x, t_x, T, _ = _as_arrays(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    xm1 = np.where(repeat, x - 1.0, 0.0)
    log_odds_dead = np.log(a) - np.log(b + xm1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, expit(-log_odds_dead), 1.0)


def expected_purchases(params: BgNbdParams, t: float, x, t_x, T) -> np.ndarray:
    """E[purchases in the next `t` time units | x, t_x, T] (eq. 10 of the paper).

    The paper's term ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; z) with z = t/(α+T+t) is
    rewritten with Euler's transformation as (1-z)^(a-1) · 2F1(a+b-1-r, a-1; a+b+x-1; z), which
    has no power growing with x and stays finite for customers with many purchases.
    """
    x, t_x, T, _ = _as_arrays(x, t_x, T)
    a = params.a
    if abs(a - 1.0) < 1e-6:
        # (a+b+x-1)/(a-1) · [1 - ...] has a removable singularity at a = 1: take the mean of both sides.
        lo = expected_purchases(BgNbdParams(params.r, params.alpha, 1.0 - 1e-5, params.b), t, x, t_x, T)
        hi = expected_purchases(BgNbdParams(params.r, params.alpha, 1.0 + 1e-5, params.b), t, x, t_x, T)
        return (lo + hi) / 2.0
    r, alpha, b = params.r, params.alpha, params.b
    z = t / (alpha + T + t)
    hyp = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    bracket = 1.0 - np.exp((a - 1.0) * np.log1p(-z)) * hyp
    numerator = (a + b + x - 1.0) / (a - 1.0) * bracket
    return numerator * p_alive(params, x, t_x, T)


def unconditional_expected_purchases(params: BgNbdParams, t: float) -> float:
    """E[X(t)] for a customer just acquired: purchases expected in `t` time units (eq. 9)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + t)
    return float((a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1.0, z)))
