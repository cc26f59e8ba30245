"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987, Management Science 33(1)).

While alive, a customer buys as a Poisson process with rate ``λ ~ Gamma(r, α)``; their
lifetime is exponential with rate ``μ ~ Gamma(s, β)``. The likelihood is the one of Fader &
Hardie's "A Note on Deriving the Pareto/NBD Model and Related Expressions" (2005), written
"FH note" below; its hypergeometric term is evaluated by :mod:`._pareto_series`.

A customer alive at ``T`` has the posterior ``λ ~ Gamma(r+x, α+T)``, ``μ ~ Gamma(s, β+T)``
and from ``T`` on behaves like a new customer with those parameters.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln, roots_legendre

from clientbase.errors import InvalidInput
from clientbase.models.clv._base import (
    FloatArray,
    LifetimeModel,
    LogLikAndGrad,
    as_horizon,
    compress_rows,
    data_fingerprint,
    maximise_log_likelihood,
    require_variety,
    validate_rfm,
    validate_weights,
    weighted_objective,
)
from clientbase.models.clv._pareto_series import log_tail_integral

__all__ = ["ParetoNBDModel"]

MODEL_NAME = "Pareto/NBD"

_QUADRATURE_NODES = 64


class ParetoNBDModel(LifetimeModel):
    """Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), fitted by maximum likelihood.

    Parameters
    ----------
    max_iter
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (purchase rate) and ``s``, ``beta`` (dropout rate) after :meth:`fit`.
    log_likelihood_ : float
        Total log-likelihood at the optimum (FH note, eq. 22).
    """

    param_names = ("r", "alpha", "s", "beta")

    def __init__(self, *, max_iter: int = 2000) -> None:
        self.max_iter = max_iter

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Maximise the Pareto/NBD likelihood (FH note, eq. 22) on the unique rows.

        Parameters
        ----------
        frequency, recency, T
            Repeat purchases ``x``, time of the last purchase ``t_x`` and age ``T``.
        weights
            Optional number of customers each row stands for.
        """
        x, t_x, t_cal = validate_rfm(frequency, recency, T)
        w = validate_weights(weights, x.size)
        if not np.any((x > 0) & (w > 0)):
            raise InvalidInput("Pareto/NBD cannot be fitted: no customer made a repeat purchase.")
        (ux, ut, uT), uw = compress_rows([x, t_x, t_cal], w)
        require_variety(ux.size, MODEL_NAME)
        scale = max(float(np.mean(uT)), 1e-3)
        start = {"r": 1.0, "alpha": scale, "s": 1.0, "beta": scale}
        params, ll, cov = maximise_log_likelihood(
            weighted_objective(_log_likelihood_function(ux, ut, uT), uw),
            float(uw.sum()),
            start,
            model="Pareto/NBD",
            max_iter=self.max_iter,
        )
        self._set_fitted(
            params, ll, cov, data_fingerprint(x, t_x, t_cal, w), int(w.sum()), int(ux.size)
        )
        return self

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Per-customer log-likelihood at the fitted parameters (FH note, eq. 22)."""
        x, t_x, t_cal = validate_rfm(frequency, recency, T)
        theta = np.log(np.array(self._param_values()))
        return _log_likelihood_function(x, t_x, t_cal)(theta)[0]

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(alive at ``T`` | x, t_x, T) (FH note, eq. 18; SMC 1987, eq. 11).

        The "still alive" term of the likelihood over the whole likelihood, in log space.
        """
        x, t_x, t_cal = validate_rfm(frequency, recency, T)
        log_alive, log_dead = _likelihood_terms(x, t_x, t_cal, *self._param_values())
        return np.asarray(np.exp(log_alive - np.logaddexp(log_alive, log_dead)), dtype=np.float64)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T] (SMC 1987, eq. 22; FH note, eq. 19).

        ``(r+x)(β+T) / ((α+T)(s-1)) · [1 - ((β+T)/(β+T+t))^(s-1)] · P(alive)``,
        with its limit ``(r+x)(β+T)/(α+T) · ln(1 + t/(β+T))`` at ``s = 1``.
        """
        r, alpha, s, beta = self._param_values()
        x, t_x, t_cal = validate_rfm(frequency, recency, T)
        alive = self.probability_alive(x, t_x, t_cal)
        return alive * _new_customer_mean(as_horizon(t), r + x, alpha + t_cal, s, beta + t_cal)

    def expected_purchases_new_customer(self, t: ArrayLike) -> FloatArray:
        """E[X(t)] for a customer just acquired (SMC 1987, eq. 17; FH note, eq. 20)."""
        r, alpha, s, beta = self._param_values()
        return _new_customer_mean(as_horizon(t), r, alpha, s, beta)

    def probability_of_n_purchases(
        self,
        n: ArrayLike,
        t: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """P(X = n purchases in the next ``t``).

        From the model's definition (SMC 1987, section 2): the customer buys as an NBD over
        ``min(τ, t)`` with ``P(τ > u) = (β/(β+u))^s``, so

        ``P(X(t)=n) = S(t) NBD(n; r, α/(α+t)) + ∫_{S(t)}^1 NBD(n; r, α/(α+u(v))) dv``,
        ``u(v) = β (v^(-1/s) - 1)``, integrated by 64-point Gauss-Legendre (the integrand is
        smooth and bounded by 1). With a history: ``P(alive)`` times this at the posterior
        parameters ``(r+x, α+T, s, β+T)``, plus ``1 - P(alive)`` when ``n = 0``.
        """
        r, alpha, s, beta = self._param_values()
        count = as_horizon(n, "n")
        if np.any(count != np.floor(count)):
            raise InvalidInput("n must be a whole number of purchases.")
        horizon = as_horizon(t)
        if frequency is None and recency is None and T is None:
            return _new_customer_pmf(count, horizon, r, alpha, s, beta)
        if frequency is None or recency is None or T is None:
            raise InvalidInput("Give all of frequency, recency and T, or none of them.")
        x, t_x, t_cal = validate_rfm(frequency, recency, T)
        alive = self.probability_alive(x, t_x, t_cal)
        pmf = _new_customer_pmf(count, horizon, r + x, alpha + t_cal, s, beta + t_cal)
        return np.asarray(alive * pmf + (1 - alive) * (count == 0), dtype=np.float64)


def _new_customer_mean(
    t: FloatArray,
    r: FloatArray | float,
    alpha: FloatArray | float,
    s: float,
    beta: FloatArray | float,
) -> FloatArray:
    """``r β / (α (s-1)) · [1 - (β/(β+t))^(s-1)]`` (SMC 1987, eq. 17), stable near s = 1."""
    log_ratio = np.log1p(t / beta)
    near_one = abs(s - 1.0) < 1e-9
    factor = log_ratio if near_one else -np.expm1(-(s - 1.0) * log_ratio) / (s - 1.0)
    return np.asarray(r * beta / alpha * factor, dtype=np.float64)


def _new_customer_pmf(
    n: FloatArray,
    t: FloatArray,
    r: FloatArray | float,
    alpha: FloatArray | float,
    s: float,
    beta: FloatArray | float,
) -> FloatArray:
    """P(X(t) = n) by Gauss-Legendre over the survival probability (see the method)."""
    n, t, r, alpha, beta = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (n, t, r, alpha, beta))
    )
    nodes, weights = roots_legendre(_QUADRATURE_NODES)

    def nbd(u: FloatArray) -> FloatArray:
        log_p1 = np.log(np.where(u > 0, u, 1.0)) - np.log(alpha[..., None] + u)
        log_pmf = (
            gammaln(r[..., None] + n[..., None])
            - gammaln(r[..., None])
            - gammaln(n[..., None] + 1)
            + r[..., None] * (np.log(alpha[..., None]) - np.log(alpha[..., None] + u))
            + n[..., None] * log_p1
        )
        return np.asarray(
            np.where(u > 0, np.exp(log_pmf), (n[..., None] == 0).astype(np.float64)),
            dtype=np.float64,
        )

    survival_t = np.exp(-s * np.log1p(t / beta))
    v = survival_t[..., None] + (1 - survival_t[..., None]) * (nodes + 1) / 2
    u = beta[..., None] * np.expm1(-np.log(v) / s)
    integral = (1 - survival_t) / 2 * (nbd(u) @ weights)
    return np.asarray(survival_t * nbd(t[..., None])[..., 0] + integral, dtype=np.float64)


def _likelihood_terms(
    x: FloatArray,
    t_x: FloatArray,
    t_cal: FloatArray,
    r: float,
    alpha: float,
    s: float,
    beta: float,
) -> tuple[FloatArray, FloatArray]:
    """Log of the "alive at T" and the "died in (t_x, T]" terms (FH note, eq. 22), without
    the common factor ``Γ(r+x) α^r β^s / Γ(r)``."""
    p = r + x
    log_alive = -p * np.log(alpha + t_cal) - s * np.log(beta + t_cal)
    log_g_tx, _ = log_tail_integral(t_x, p, s + 1.0, alpha, beta)
    log_g_T, _ = log_tail_integral(t_cal, p, s + 1.0, alpha, beta)
    return log_alive, _log_dead(log_g_tx, log_g_T, s)


def _log_dead(log_g_tx: FloatArray, log_g_T: FloatArray, s: float) -> FloatArray:
    delta = np.minimum(log_g_T - log_g_tx, 0.0)
    with np.errstate(divide="ignore"):
        return np.asarray(np.log(s) + log_g_tx + np.log(-np.expm1(delta)), dtype=np.float64)


def _log_likelihood_function(x: FloatArray, t_x: FloatArray, t_cal: FloatArray) -> LogLikAndGrad:
    """Per-row log-likelihood (FH note, eq. 22) and its exact gradient in log-parameters.

    ``ln L = ln Γ(r+x) - ln Γ(r) + r ln α + s ln β
             + logaddexp(-(r+x) ln(α+T) - s ln(β+T),  ln s + ln(G(t_x) - G(T)))``.
    """
    ux, xi = np.unique(x, return_inverse=True)
    xi = xi.reshape(-1)
    # G(t_x) depends on (x, t_x) only and G(T) on (x, T) only: evaluate each pair once
    (x_tx, u_tx), i_tx = _unique_pairs(x, t_x)
    (x_T, u_T), i_T = _unique_pairs(x, t_cal)
    x_both = np.concatenate([x_tx, x_T])
    y_both = np.concatenate([u_tx, u_T])
    i_T = i_T + u_tx.size

    def loglik(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        r, alpha, s, beta = np.exp(theta)
        p = r + x
        log_aT = np.log(alpha + t_cal)
        log_bT = np.log(beta + t_cal)
        log_alive = -p * log_aT - s * log_bT
        # one series evaluation for both limits (the cost is per term, not per row)
        log_g, d_g = log_tail_integral(y_both, r + x_both, s + 1.0, alpha, beta)
        log_g_tx, d_tx, log_g_T, d_T = log_g[i_tx], d_g[i_tx], log_g[i_T], d_g[i_T]
        log_dead = _log_dead(log_g_tx, log_g_T, s)
        m = np.logaddexp(log_alive, log_dead)
        w_alive = np.exp(log_alive - m)
        w_dead = np.exp(log_dead - m)
        delta = np.minimum(log_g_T - log_g_tx, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            d_dead = (d_tx - np.exp(delta)[:, None] * d_T) / -np.expm1(delta)[:, None]
        d_dead = np.where(w_dead[:, None] > 0, d_dead, 0.0)
        g1 = gammaln(r + ux) - gammaln(r)
        dg1 = digamma(r + ux) - digamma(r)
        ll = g1[xi] + r * np.log(alpha) + s * np.log(beta) + m

        grad = np.empty((x.size, 4))
        grad[:, 0] = r * (dg1[xi] + np.log(alpha) - w_alive * log_aT + w_dead * d_dead[:, 0])
        grad[:, 1] = alpha * (r / alpha - w_alive * p / (alpha + t_cal) + w_dead * d_dead[:, 2])
        grad[:, 2] = s * (np.log(beta) - w_alive * log_bT + w_dead * (1.0 / s + d_dead[:, 1]))
        grad[:, 3] = beta * (s / beta - w_alive * s / (beta + t_cal) + w_dead * d_dead[:, 3])
        return ll, grad

    return loglik


def _unique_pairs(a: FloatArray, b: FloatArray) -> tuple[list[FloatArray], NDArray[np.intp]]:
    """The distinct ``(a, b)`` pairs and, for each row, the index of its pair."""
    index = np.lexsort((b, a))
    sorted_a, sorted_b = a[index], b[index]
    new = np.ones(a.size, dtype=bool)
    new[1:] = (sorted_a[1:] != sorted_a[:-1]) | (sorted_b[1:] != sorted_b[:-1])
    inverse = np.empty(a.size, dtype=np.intp)
    inverse[index] = np.cumsum(new) - 1
    return [sorted_a[new], sorted_b[new]], inverse
