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
from scipy.special import betaincinv, betaln, digamma, expit, gammaln, hyp2f1

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


class _Data:
    """The fit's data, split into the few distinct values of x, t_x and T plus indexes into them.

    The special functions of the likelihood depend on the parameters and on x only (or on t_x or T
    only), so they are evaluated once per distinct value per step; only cheap arithmetic runs over
    every row. On a store with a million buyers this makes a likelihood step milliseconds.
    """

    def __init__(self, x, t_x, T, weights) -> None:
        x, t_x, T, w = _as_arrays(x, t_x, T, weights)
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.utx, self.itx = np.unique(t_x, return_inverse=True)
        self.uT, self.iT = np.unique(T, return_inverse=True)
        self.x = x
        self.w = w
        self.total = float(w.sum())
        self.repeat = x > 0
        self.u_repeat = self.ux > 0
        self.u_xm1 = np.where(self.u_repeat, self.ux - 1.0, 0.0)


def log_likelihood(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """The log-likelihood of each customer's (x, t_x, T) under `params` (eq. 6 of the paper).

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + [x > 0] · B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))
    """
    data = _Data(x, t_x, T, None)
    return _terms(np.log([params.r, params.alpha, params.a, params.b]), data)[0]


def _terms(log_params: np.ndarray, d: _Data):
    """The per-row log-likelihood and its gradient with respect to the log-parameters."""
    r, alpha, a, b = np.exp(log_params)
    ux, xm1, rep = d.ux, d.u_xm1, d.u_repeat
    # Per distinct value: everything that calls a special function.
    log_aT_u, log_atx_u = np.log(alpha + d.uT), np.log(alpha + d.utx)
    inv_aT_u, inv_atx_u = 1.0 / (alpha + d.uT), 1.0 / (alpha + d.utx)
    common_u = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    first_u = betaln(a, b + ux)
    second_u = np.where(rep, betaln(a + 1.0, b + xm1), -np.inf)
    psi_abx = digamma(a + b + ux)
    d_r_u = digamma(r + ux) - digamma(r) + np.log(alpha)
    d_common_a = -(digamma(a) - digamma(a + b))
    d_common_b = -(digamma(b) - digamma(a + b))
    d_first_a_u = digamma(a) - psi_abx
    d_first_b_u = digamma(b + ux) - psi_abx
    d_second_a_u = np.where(rep, digamma(a + 1.0) - psi_abx, 0.0)
    d_second_b_u = np.where(rep, digamma(b + xm1) - psi_abx, 0.0)
    # Per row: gathers and arithmetic.
    ix = d.ix
    rx = r + d.x
    log_aT, log_atx = log_aT_u[d.iT], log_atx_u[d.itx]
    first = first_u[ix] - rx * log_aT
    second = second_u[ix] - rx * log_atx
    mix = np.logaddexp(first, second)
    ll = common_u[ix] + mix
    w1 = np.exp(first - mix)  # weight of the first term of the mixture
    w2 = 1.0 - w1
    d_r = d_r_u[ix] - (w1 * log_aT + w2 * log_atx)
    d_alpha = r / alpha - rx * (w1 * inv_aT_u[d.iT] + w2 * inv_atx_u[d.itx])
    d_a = d_common_a + w1 * d_first_a_u[ix] + w2 * d_second_a_u[ix]
    d_b = d_common_b + w1 * d_first_b_u[ix] + w2 * d_second_b_u[ix]
    # Chain rule to log-parameters: d/d log θ = θ · d/dθ.
    grad = np.stack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return ll, grad


def fit(x, t_x, T, weights=None, *, start: BgNbdParams | None = None) -> tuple[BgNbdParams, float]:
    """Maximum-likelihood parameters for the customers (x, t_x, T), and the total log-likelihood.

    `weights` counts how many customers each row stands for. Raises `FitError` when the optimiser
    fails or lands on a boundary of the search box (the data do not pin the model down).
    """
    data = _Data(x, t_x, T, weights)
    if data.total <= 0:
        raise FitError("no customers to fit")
    w, total = data.w, data.total

    def objective(log_params: np.ndarray):
        ll, grad = _terms(log_params, data)
        return -(w @ ll) / total, -(grad @ w) / total

    if start is None:
        # Mean purchase rate over observed time, a < b (most customers survive a purchase).
        rate = max(float((w @ data.x) / max(w @ data.uT[data.iT], 1e-9)), 1e-6)
        start = BgNbdParams(r=1.0, alpha=1.0 / rate, a=1.0, b=3.0)
    x0 = np.log([start.r, start.alpha, start.a, start.b])
    x0 = np.clip(x0, LOG_BOUNDS[0] + 1, LOG_BOUNDS[1] - 1)
    result = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=[LOG_BOUNDS] * 4,
                      options={"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-7})
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
    has no power growing with x. Where SciPy's ₂F₁ still gives no usable value (very large a and
    b, when the data show almost no spread in dropout), the same expectation is integrated
    numerically (`_expected_by_quadrature`).
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
    with np.errstate(all="ignore"):
        hyp = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
        bracket = 1.0 - np.exp((a - 1.0) * np.log1p(-z)) * hyp
        if_alive = (a + b + x - 1.0) / (a - 1.0) * bracket
    # If alive, 0 ≤ E ≤ (r+x)·t/(α+T) (each purchase rate's expectation bounds it).
    bound = (r + x) * t / (alpha + T)
    bad = ~np.isfinite(if_alive) | (if_alive < -1e-9) | (if_alive > bound * (1 + 1e-6) + 1e-9)
    if bad.any():
        if_alive = np.where(bad, 0.0, if_alive)
        if_alive[bad] = _expected_by_quadrature(params, t, x[bad], T[bad])
    return np.clip(if_alive, 0.0, None) * p_alive(params, x, t_x, T)


#: Gauss-Legendre nodes and weights on (0, 1) for `_expected_by_quadrature`.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)
_NODES, _WEIGHTS = (_NODES + 1.0) / 2.0, _WEIGHTS / 2.0


def _expected_by_quadrature(params: BgNbdParams, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """E[purchases in the next t | alive, x, T], integrated over the dropout probability.

    Alive at T, λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x) independently, and a customer with (λ, p)
    makes (1 − e^(−λpt))/p purchases in t on average; averaging over λ gives
    g(p) = (1 − (1 + p·t/(α+T))^(−(r+x))) / p. The average over p is taken in quantile space,
    p = F⁻¹(u), with Gauss-Legendre nodes in u, which stays accurate however concentrated the
    Beta distribution is.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    # The expectation depends on (x, T) only: integrate once per distinct pair.
    pairs, back = np.unique(np.stack([x, T], axis=1), axis=0, return_inverse=True)
    px, pT = pairs[:, 0], pairs[:, 1]
    ux, ix = np.unique(px, return_inverse=True)
    p = np.clip(betaincinv(a, b + ux[:, None], _NODES[None, :])[ix], 1e-300, 1.0)  # pairs × nodes
    y = p * (t / (alpha + pT))[:, None]
    g = -np.expm1(-(r + px)[:, None] * np.log1p(y)) / p
    return (g @ _WEIGHTS)[back.reshape(-1)]


def unconditional_expected_purchases(params: BgNbdParams, t: float) -> float:
    """E[X(t)] for a customer just acquired: purchases expected in `t` time units (eq. 9)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + t)
    return float((a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1.0, z)))
