"""The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, Marketing Science 24(2)).

While alive, a customer buys as a Poisson process with rate ``λ ~ Gamma(r, α)``; after each
purchase they drop out with probability ``p ~ Beta(a, b)``. Equation numbers below refer to
"Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD Model".

A customer observed alive at ``T`` with history ``(x, t_x)`` has the posterior
``λ ~ Gamma(r + x, α + T)`` and ``p ~ Beta(a, b + x)``, and from ``T`` on behaves like a new
customer with those parameters (the process is memoryless between purchases). Conditional
predictions are therefore ``P(alive) ×`` the new-customer formula at the updated parameters,
which is algebraically the paper's equation (10).
"""

from __future__ import annotations

from typing import Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betainc, betaln, digamma, expit, gammaln, hyp2f1

from clientbase.errors import InvalidInput
from clientbase.models.clv._base import (
    FloatArray,
    LifetimeModel,
    LogLikAndGrad,
    Objective,
    as_horizon,
    compress_rows,
    data_fingerprint,
    distinct_rows,
    maximise_log_likelihood,
    require_variety,
    validate_rfm,
    validate_weights,
)

__all__ = ["BetaGeoModel"]

MODEL_NAME = "BG/NBD"


class BetaGeoModel(LifetimeModel):
    """BG/NBD model (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

    Parameters
    ----------
    max_iter
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (purchase rate, Gamma shape and rate) and ``a``, ``b`` (dropout
        probability, Beta) after :meth:`fit`.
    log_likelihood_ : float
        Total log-likelihood at the optimum (eq. 6 summed over customers).
    params_se_ : dict
        Standard errors (delta method on the log-scale Hessian).
    """

    param_names = ("r", "alpha", "a", "b")

    def __init__(self, *, max_iter: int = 2000) -> None:
        self.max_iter = max_iter

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Maximise the BG/NBD likelihood (FHL 2005, eq. 6) on the unique ``(x, t_x, T)`` rows.

        Parameters
        ----------
        frequency, recency, T
            Repeat purchases ``x``, time of the last purchase ``t_x`` and age ``T`` of each
            customer, in one time unit (e.g. weeks since the first purchase).
        weights
            Optional number of customers each row stands for.

        Returns
        -------
        BetaGeoModel
            ``self``, fitted.
        """
        x, t_x, t_cal = validate_rfm(frequency, recency, T)
        w = validate_weights(weights, x.size)
        if not np.any((x > 0) & (w > 0)):
            raise InvalidInput("BG/NBD cannot be fitted: no customer made a repeat purchase.")
        (ux, ut, uT), uw = compress_rows([x, t_x, t_cal], w)
        require_variety(ux.size, MODEL_NAME)
        objective = _total_log_likelihood(ux, ut, uT, uw)
        start = {"r": 1.0, "alpha": max(float(np.mean(uT)), 1e-3), "a": 1.0, "b": 1.0}
        params, ll, cov = maximise_log_likelihood(
            objective, float(uw.sum()), start, model=MODEL_NAME, max_iter=self.max_iter
        )
        self._set_fitted(
            params, ll, cov, data_fingerprint(x, t_x, t_cal, w), int(w.sum()), int(ux.size)
        )
        return self

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Per-customer log-likelihood at the fitted parameters (FHL 2005, eq. 6)."""
        x, t_x, t_cal = validate_rfm(frequency, recency, T)
        theta = np.log(np.array(self._param_values()))
        return _log_likelihood_function(x, t_x, t_cal)(theta)[0]

    # -------------------------------------------------------------- predictions
    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(alive at ``T`` | x, t_x, T) (FHL 2005, eq. 12; computed as a logistic in logs).

        ``1 / (1 + δ(x>0) · a/(b+x-1) · ((α+T)/(α+t_x))^(r+x))``.
        """
        r, alpha, a, b = self._param_values()
        x, t_x, t_cal = validate_rfm(frequency, recency, T)
        return _log_odds_alive_inverse(x, t_x, t_cal, r, alpha, a, b)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[X(T, T+t) | x, t_x, T]: expected purchases in the next ``t`` (FHL 2005, eq. 10).

        Evaluated as P(alive) × eq. (9) at the posterior parameters, with the Gaussian
        hypergeometric function Euler-transformed so that it stays bounded for large ``x``.
        Eq. (9) at the posterior depends on ``(t, x, T)`` only, so it is evaluated once per
        distinct triple (a customer base repeats them a lot) and expanded.
        """
        r, alpha, a, b = self._param_values()
        x, t_x, t_cal = validate_rfm(frequency, recency, T)
        horizon = as_horizon(t)
        alive = _log_odds_alive_inverse(x, t_x, t_cal, r, alpha, a, b)
        if horizon.size == 1:
            (ux, uT), inverse = distinct_rows([x, t_cal])
            mean = _new_customer_mean(horizon, r + ux, alpha + uT, a, b + ux)
        else:
            horizon, x_b, t_b = np.broadcast_arrays(horizon, x, t_cal)
            (uh, ux, uT), inverse = distinct_rows([horizon, x_b, t_b])
            mean = _new_customer_mean(uh, r + ux, alpha + uT, a, b + ux)
        return np.asarray(alive * mean[inverse], dtype=np.float64)

    def expected_purchases_new_customer(self, t: ArrayLike) -> FloatArray:
        """E[X(t)] for a customer just acquired (FHL 2005, eq. 9)."""
        r, alpha, a, b = self._param_values()
        return np.asarray(_new_customer_mean(as_horizon(t), r, alpha, a, b), dtype=np.float64)

    def probability_of_n_purchases(
        self,
        n: ArrayLike,
        t: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """P(X = n purchases in the next ``t``).

        Without a history, for a new customer: FHL 2005, eq. (8). With ``(x, t_x, T)``:
        ``P(alive)·eq.(8)`` at the posterior parameters ``(r+x, α+T, a, b+x)`` plus
        ``1 - P(alive)`` when ``n = 0``.
        """
        r, alpha, a, b = self._param_values()
        count = as_horizon(n, "n")
        if np.any(count != np.floor(count)):
            raise InvalidInput("n must be a whole number of purchases.")
        horizon = as_horizon(t)
        if frequency is None and recency is None and T is None:
            return np.asarray(_new_customer_pmf(count, horizon, r, alpha, a, b), dtype=np.float64)
        if frequency is None or recency is None or T is None:
            raise InvalidInput("Give all of frequency, recency and T, or none of them.")
        x, t_x, t_cal = validate_rfm(frequency, recency, T)
        alive = _log_odds_alive_inverse(x, t_x, t_cal, r, alpha, a, b)
        pmf = _new_customer_pmf(count, horizon, r + x, alpha + t_cal, a, b + x)
        return np.asarray(alive * pmf + (1 - alive) * (count == 0), dtype=np.float64)


def _log_odds_alive_inverse(
    x: FloatArray, t_x: FloatArray, t_cal: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """FHL 2005, eq. (12) in log space: ``expit(-log(a/(b+x-1)) - (r+x) log((α+T)/(α+t_x)))``."""
    repeat = x > 0
    log_odds_dead = np.where(
        repeat,
        np.log(a)
        - np.log(np.where(repeat, b + x - 1, 1.0))
        + (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_x)),
        -np.inf,
    )
    return np.asarray(expit(-log_odds_dead), dtype=np.float64)


def _new_customer_mean(
    t: FloatArray, r: FloatArray | float, alpha: FloatArray | float, a: float, b: FloatArray | float
) -> FloatArray:
    """FHL 2005, eq. (9): ``(a+b-1)/(a-1) · [1 - (α/(α+t))^r · 2F1(r, b; a+b-1; t/(α+t))]``.

    At the posterior parameters ``(r+x, α+T, a, b+x)`` this is the conditional expectation of
    eq. (10) divided by P(alive). With ``z = t/(α+t)`` and ``C = a+b-1``, ``2F1(r, b; C; z)``
    converges at ``z = 1`` when ``C - r - b = a - 1 - r >= 0`` and is then used as written;
    otherwise Euler's transformation ``2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)``
    turns the bracket into ``1 - (1-z)^(a-1) 2F1(C-r, a-1; C; z)``.

    scipy's ``hyp2f1`` returns NaN or inaccurate values in parts of the parameter space
    (large ``t/α``, ``C`` near zero or negative, ``a`` near 1, where the formula is 0/0), and
    the bracket cancels when it is small. Those rows are evaluated instead from the integral
    the formula comes from (FHL 2005, eqs. 7-9: ``E[X(t) | λ, p] = (1 - e^{-λpt})/p``
    averaged over ``λ ~ Gamma(r, α)`` and ``p ~ Beta(a, b)``), see :func:`_mean_by_quadrature`.
    """
    t_b, r_b, alpha_b, b_b = np.broadcast_arrays(
        np.asarray(t, dtype=np.float64),
        np.asarray(r, dtype=np.float64),
        np.asarray(alpha, dtype=np.float64),
        np.asarray(b, dtype=np.float64),
    )
    z = t_b / (alpha_b + t_b)
    c = a + b_b - 1
    log_1mz = np.log1p(-z)
    with np.errstate(all="ignore"):
        direct = np.exp(r_b * log_1mz) * hyp2f1(r_b, b_b, c, z)
        euler = np.exp((a - 1) * log_1mz) * hyp2f1(c - r_b, a - 1, c, z)
        first = np.where(a - 1 - r_b >= 0, direct, euler)
        second = np.where(a - 1 - r_b >= 0, euler, direct)
        kept = np.where(np.isfinite(first), first, second)
        mean = c / (a - 1) * (1 - kept)
        # bounds of E[g(p)] with g(p) = (1 - (1 + p t/α)^-r)/p decreasing in p
        upper = r_b * t_b / alpha_b
        lower = -np.expm1(-r_b * np.log1p(t_b / alpha_b))
    trusted = (
        np.isfinite(mean)
        & (kept >= 0)
        & (abs(1 - kept) >= _MIN_BRACKET * kept)
        & (c >= 0.5)
        & (abs(a - 1) >= 1e-2)
        & (mean >= lower * (1 - 1e-12))
        & (mean <= upper * (1 + 1e-12))
    )
    out = np.where(trusted, mean, 0.0).astype(np.float64)
    redo = ~trusted & (t_b > 0)
    if np.any(redo):
        out[redo] = _mean_by_quadrature(t_b[redo], r_b[redo], alpha_b[redo], a, b_b[redo])
    return np.asarray(np.where(t_b > 0, out, 0.0), dtype=np.float64)


_MIN_BRACKET = 1e-4  # |1 - kept| / kept below this: the bracket loses over 4 digits to cancellation
_GRID = 129
_PANELS = 20
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(10)
_TAYLOR_STEP = 1e-5  # c·p·(r+1) below this: g(p) by its first-order Taylor polynomial


def _mean_by_quadrature(
    t: FloatArray, r: FloatArray, alpha: FloatArray, a: float, b: FloatArray
) -> FloatArray:
    """FHL 2005, eq. (9) as ``E_{p ~ Beta(a, b)}[g(p)]``, ``g(p) = (1 - (1 + p t/α)^-r)/p``.

    ``g`` is the NBD mean ``(1 - E_λ[e^{-λpt}])/p`` of eqs. (7)-(8), finite at ``p = 0``
    (limit ``r t/α``) and decreasing; the integrand is positive, so nothing cancels. With
    ``k = t/α``:

    * ``p < p0 = 1e-5/(k(r+1))``: ``g(p) = r k (1 - (r+1) k p / 2) + O((kp)^2)``, integrated
      exactly with regularised incomplete beta functions (this is where the mass of a Beta
      with tiny ``a`` lies, often below the smallest double);
    * ``p > 1 - q0``: ``g(p) = g(1) + g'(1)(p - 1) + O((1-p)^2)``, likewise (tiny ``b``);
    * between: composite Gauss-Legendre in ``w = logit p`` (both Beta tails then decay
      exponentially) on the window where the log-integrand is within 45 of its maximum,
      located on a grid and widened by one grid step on each side.
    """
    k = t / alpha
    log_k = np.log(t) - np.log(alpha)
    log_beta = betaln(a, b)
    rk = r * k
    # lower tail
    p0 = np.minimum(_TAYLOR_STEP / (k * (r + 1)), 0.5)
    low = rk * (betainc(a, b, p0) - (r + 1) * k / 2 * (a / (a + b)) * betainc(a + 1, b, p0))
    # upper tail: 1 - p ~ Beta(b, a)
    g1 = -np.expm1(-r * np.log1p(k))
    dg1 = r * k * np.exp(-(r + 1) * np.log1p(k)) - g1  # g'(1)
    scale = np.minimum(1.0, (1 + k) / (k * (r + 1)))
    q0 = np.minimum(_TAYLOR_STEP * scale, 0.5 - 1e-9)
    high = g1 * betainc(b, a, q0) - dg1 * (b / (a + b)) * betainc(b + 1, a, q0)
    # body on [logit p0, logit(1 - q0)]
    u_lo = np.log(p0) - np.log1p(-p0)
    u_hi = np.log1p(-q0) - np.log(q0)

    def log_integrand(w: FloatArray) -> FloatArray:
        """``ln[p (1-p) g(p) f_Beta(p)]`` at ``p = expit(w)`` (``dp = p (1-p) dw``)."""
        log_p = -np.logaddexp(0.0, -w)
        log_q = -np.logaddexp(0.0, w)
        log_kp = log_k[:, None] + log_p
        log_g = np.log(-np.expm1(-r[:, None] * np.logaddexp(0.0, log_kp))) - log_p
        return np.asarray(
            a * log_p + b[:, None] * log_q + log_g - log_beta[:, None], dtype=np.float64
        )

    frac = np.linspace(0.0, 1.0, _GRID)
    grid = u_lo[:, None] + (u_hi - u_lo)[:, None] * frac
    values = log_integrand(grid)
    peak = values.max(axis=1)
    above = values >= peak[:, None] - 45.0
    first = np.argmax(above, axis=1)
    last = _GRID - 1 - np.argmax(above[:, ::-1], axis=1)
    step = (u_hi - u_lo) / (_GRID - 1)
    w_lo = np.maximum(grid[np.arange(grid.shape[0]), first] - step, u_lo)
    w_hi = np.minimum(grid[np.arange(grid.shape[0]), last] + step, u_hi)
    width = (w_hi - w_lo) / _PANELS
    centres = w_lo[:, None] + width[:, None] * (np.arange(_PANELS) + 0.5)
    nodes = (centres[:, :, None] + width[:, None, None] / 2 * _NODES).reshape(t.size, -1)
    body = np.exp(log_integrand(nodes)) @ np.tile(_WEIGHTS, _PANELS) * (width / 2)
    return np.asarray(low + body + high, dtype=np.float64)


def _new_customer_pmf(
    n: FloatArray,
    t: FloatArray,
    r: FloatArray | float,
    alpha: FloatArray | float,
    a: float,
    b: FloatArray | float,
) -> FloatArray:
    """FHL 2005, eq. (8), in log space; the NBD tail sum is the regularised incomplete beta.

    ``1 - (α/(α+t))^r Σ_{j<n} Γ(r+j)/(Γ(r) j!) (t/(α+t))^j = I_{t/(α+t)}(n, r)``.
    """
    log_p0 = np.log(alpha) - np.log(alpha + t)
    log_p1 = np.log(np.where(t > 0, t, 1.0)) - np.log(alpha + t)
    nbd = np.where(
        t > 0,
        np.exp(
            betaln(a, b + n)
            - betaln(a, b)
            + gammaln(r + n)
            - gammaln(r)
            - gammaln(n + 1)
            + r * log_p0
            + n * log_p1
        ),
        np.where(n == 0, 1.0, 0.0),
    )
    tail_weight = np.exp(betaln(a + 1, np.maximum(b + n - 1, 1e-300)) - betaln(a, b))
    tail = np.where(n > 0, tail_weight * betainc(np.maximum(n, 1.0), r, t / (alpha + t)), 0.0)
    return np.asarray(nbd + tail, dtype=np.float64)


def _log_likelihood_function(x: FloatArray, t_x: FloatArray, t_cal: FloatArray) -> LogLikAndGrad:
    """Per-row log-likelihood (FHL 2005, eq. 6) and its exact gradient in log-parameters.

    ``ln L = ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x) - ln B(a, b) - (r+x) ln(α+T)
             + ln(1 + e^d)``, with ``d = ln(a/(b+x-1)) + (r+x) ln((α+T)/(α+t_x))`` for
    ``x > 0`` (``d = -inf`` otherwise), using ``B(a+1, b+x-1) = B(a, b+x) a/(b+x-1)``.
    ``d`` is also the log-odds of having dropped out (eq. 12), so the weights of the two
    terms of eq. (6) are ``expit(-d)`` and ``expit(d)``. Everything that depends on ``x``
    alone is computed once per distinct ``x``.
    """
    ux, xi = np.unique(x, return_inverse=True)
    xi = xi.reshape(-1)
    repeat_u = ux > 0

    def loglik(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        r, alpha, a, b = np.exp(theta)
        psi_ab = digamma(a + b)
        psi_abx = digamma(a + b + ux)
        bx1 = np.where(repeat_u, b + ux - 1, 1.0)
        # per distinct x: the constant part of ln L and of each derivative
        const = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux) - betaln(a, b)
        c_r = digamma(r + ux) - digamma(r) + np.log(alpha)
        c_a = psi_ab - psi_abx
        c_b = digamma(b + ux) - psi_abx - digamma(b) + psi_ab
        log_odds0 = np.where(repeat_u, np.log(a) - np.log(bx1), -np.inf)
        inv_bx1 = np.where(repeat_u, 1.0 / bx1, 0.0)

        rx = r + x
        log_aT = np.log(alpha + t_cal)
        gap = log_aT - np.log(alpha + t_x)
        d = log_odds0[xi] + rx * gap
        dead = expit(d)
        ll = const[xi] - rx * log_aT + np.logaddexp(0.0, d)

        grad = np.empty((x.size, 4))
        grad[:, 0] = r * (c_r[xi] - log_aT + dead * gap)
        grad[:, 1] = alpha * (
            r / alpha - rx * ((1 - dead) / (alpha + t_cal) + dead / (alpha + t_x))
        )
        grad[:, 2] = a * (c_a[xi] + dead / a)
        grad[:, 3] = b * (c_b[xi] - dead * inv_bx1[xi])
        return ll, grad

    return loglik


def _total_log_likelihood(
    x: FloatArray, t_x: FloatArray, t_cal: FloatArray, weights: FloatArray
) -> Objective:
    """``Σ w ln L`` (FHL 2005, eq. 6) and its gradient, for fitting on compressed rows.

    The same formula as :func:`_log_likelihood_function`, summed as it goes: every term that
    depends on ``x`` alone is weighted once per distinct ``x``, customers without a repeat
    purchase (``d = -inf``) need only ``-r ln(α+T)``, and each row costs one ``exp`` and
    one ``log1p`` beyond its two ``log``.
    """
    ux, xi = np.unique(x, return_inverse=True)
    xi = xi.reshape(-1)
    weight_x = np.bincount(xi, weights=weights, minlength=ux.size)
    total = float(weights.sum())
    repeat = x > 0
    w0, T0 = weights[~repeat], t_cal[~repeat]
    w1, x1, t1, T1, xi1 = weights[repeat], x[repeat], t_x[repeat], t_cal[repeat], xi[repeat]
    rep_u = ux > 0
    bx_shift = np.where(rep_u, ux - 1.0, 0.0)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = (float(v) for v in np.exp(theta))
        psi_ab = float(digamma(a + b))
        psi_abx = digamma(a + b + ux)
        const = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux) - betaln(a, b)
        c_r = digamma(r + ux) - digamma(r) + np.log(alpha)
        c_a = psi_ab - psi_abx
        c_b = digamma(b + ux) - psi_abx - digamma(b) + psi_ab
        log_odds0 = np.log(a) - np.log(np.where(rep_u, b + bx_shift, 1.0))
        inv_bx1 = np.where(rep_u, 1.0 / (b + bx_shift), 0.0)

        # no repeat purchase: ln L = const_0 - r ln(α+T)
        log_aT0 = np.log(alpha + T0)
        ll = float(np.sum(weight_x * const)) - r * float(np.sum(w0 * log_aT0))
        g_r = float(np.sum(weight_x * c_r)) - float(np.sum(w0 * log_aT0))
        g_alpha = r * total / alpha - r * float(np.sum(w0 / (alpha + T0)))
        g_a = float(np.sum(weight_x * c_a))
        g_b = float(np.sum(weight_x * c_b))
        if x1.size:
            inv_aT = 1.0 / (alpha + T1)
            inv_at = 1.0 / (alpha + t1)
            log_aT = np.log(alpha + T1)
            gap = log_aT - np.log(alpha + t1)
            rx = x1 + r
            d = log_odds0[xi1] + rx * gap
            e = np.exp(-np.abs(d))
            dead = np.where(d > 0, 1.0, e) / (1.0 + e)  # expit(d)
            w_dead = w1 * dead
            ll += float(np.sum(w1 * (np.maximum(d, 0.0) + np.log1p(e)))) - float(
                np.sum((w1 * rx) * log_aT)
            )
            g_r += float(np.sum(w_dead * gap)) - float(np.sum(w1 * log_aT))
            g_alpha -= float(np.sum((w1 * rx) * (inv_aT + dead * (inv_at - inv_aT))))
            g_a += float(np.sum(w_dead)) / a
            g_b -= float(np.sum(w_dead * inv_bx1[xi1]))
        return ll, np.array([r * g_r, alpha * g_alpha, a * g_a, b * g_b])

    return objective
