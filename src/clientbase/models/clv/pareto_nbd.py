"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987, Management Science 33(1)).

While alive, a customer buys as a Poisson process with rate ``λ ~ Gamma(r, α)``; their
lifetime is exponential with rate ``μ ~ Gamma(s, β)``. The likelihood is the one of Fader &
Hardie's "A Note on Deriving the Pareto/NBD Model and Related Expressions" (2005), written
"FH note" below; its hypergeometric term is evaluated by :mod:`._pareto_series`.

A customer alive at ``T`` has the posterior ``λ ~ Gamma(r+x, α+T)``, ``μ ~ Gamma(s, β+T)``
and from ``T`` on behaves like a new customer with those parameters.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln, roots_legendre, zeta

from clientbase.errors import InvalidInput
from clientbase.models.clv._base import (
    Evaluation,
    FloatArray,
    LifetimeModel,
    LogLikAndGrad,
    as_horizon,
    compress_rows,
    data_fingerprint,
    maximise_by_newton,
    require_variety,
    validate_rfm,
    validate_weights,
)
from clientbase.models.clv._pareto_series import TailIntegral, log_tail_integral

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
        """Maximise the Pareto/NBD likelihood (FH note, eq. 22) on the unique rows, by
        Newton's method with its exact gradient and Hessian (see :class:`_Likelihood`).

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
        likelihood = _Likelihood(ux, ut, uT)
        params, ll, cov = maximise_by_newton(
            lambda theta: likelihood.total(theta, uw),
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
    log_g_tx = log_tail_integral(t_x, p, s + 1.0, alpha, beta, order=0).log_g
    log_g_T = log_tail_integral(t_cal, p, s + 1.0, alpha, beta, order=0).log_g
    return log_alive, _log_dead(log_g_tx, log_g_T, s)


def _log_dead(log_g_tx: FloatArray, log_g_T: FloatArray, s: float) -> FloatArray:
    delta = np.minimum(log_g_T - log_g_tx, 0.0)
    with np.errstate(divide="ignore"):
        return np.asarray(np.log(s) + log_g_tx + np.log(-np.expm1(delta)), dtype=np.float64)


class _Likelihood:
    """The Pareto/NBD log-likelihood (FH note, eq. 22) of rows ``(x, t_x, T)``,

    ``ln L = ln Γ(r+x) - ln Γ(r) + r ln α + s ln β + logaddexp(LA, LD)``,
    ``LA = -(r+x) ln(α+T) - s ln(β+T)`` (alive at ``T``),
    ``LD = ln s + ln(G(t_x) - G(T))`` (died in ``(t_x, T]``),

    with ``G`` of :mod:`._pareto_series`, and its exact derivatives. ``G(t_x)`` depends on
    ``(x, t_x)`` only and ``G(T)`` on ``(x, T)`` only: the series runs once on the distinct
    pairs of both kinds. The Hessian follows from the series' by the chain rule:

    ``∇² logaddexp(LA, LD) = w_A ∇²LA + w_D ∇²LD + w_A w_D (∇LA - ∇LD)(∇LA - ∇LD)ᵀ``,

    ``∇² ln(G1 - G2) = [(∇²ln G1 + ∇ln G1 ∇ln G1ᵀ) - ρ (∇²ln G2 + ∇ln G2 ∇ln G2ᵀ)] / (1 - ρ)
    - ∇D ∇Dᵀ`` with ``ρ = G2/G1``, ``D = ln(G1 - G2)``,

    where ``w_A, w_D`` are the shares of the two terms (``w_A`` is P(alive), eq. 18). Sums
    over the rows are pushed down to the distinct pairs (one weighted sum per pair).
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, t_cal: FloatArray) -> None:
        self.x, self.t_cal = x, t_cal
        self.ux, xi = np.unique(x, return_inverse=True)
        self.xi = xi.reshape(-1)
        (x_tx, u_tx), i_tx = _unique_pairs(x, t_x)
        (x_T, u_T), i_T = _unique_pairs(x, t_cal)
        self.x_pairs = np.concatenate([x_tx, x_T])
        self.y_pairs = np.concatenate([u_tx, u_T])
        self.i_tx, self.i_T = i_tx, i_T + u_tx.size

    def _common(self, theta: FloatArray, order: int) -> _Common:
        r, alpha, s, beta = (float(v) for v in np.exp(theta))
        t_cal = self.t_cal
        a_T = alpha + t_cal
        b_T = beta + t_cal
        log_aT = np.log(a_T)
        log_bT = np.log(b_T)
        p = self.x + r
        log_alive = -p * log_aT
        log_alive -= s * log_bT
        # one series evaluation for both limits (the cost is per term, not per row)
        tail = log_tail_integral(self.y_pairs, r + self.x_pairs, s + 1.0, alpha, beta, order)
        log_g_tx = tail.log_g[self.i_tx]
        delta = np.minimum(tail.log_g[self.i_T] - log_g_tx, 0.0)
        one_minus = -np.expm1(delta)
        with np.errstate(divide="ignore"):
            log_dead = np.log(one_minus)
        log_dead += log_g_tx + math.log(s)
        m = np.logaddexp(log_alive, log_dead)
        return _Common(
            r,
            alpha,
            s,
            beta,
            p,
            a_T,
            b_T,
            log_aT,
            log_bT,
            log_alive,
            log_dead,
            m,
            delta,
            one_minus,
            tail,
        )

    def rows(self, theta: FloatArray, order: int) -> tuple[FloatArray, FloatArray | None]:
        """Per-row ``ln L`` and, for ``order = 1``, its gradient in the natural parameters
        ``(r, α, s, β)`` as ``(4, n)``."""
        c = self._common(theta, order)
        r, alpha, s, beta = c.r, c.alpha, c.s, c.beta
        g1 = gammaln(r + self.ux) - gammaln(r)
        ll = g1[self.xi] + (r * math.log(alpha) + s * math.log(beta)) + c.m
        if order == 0:
            return ll, None
        w_alive = np.exp(c.log_alive - c.m)
        w_dead = np.exp(c.log_dead - c.m)
        d_dead = self._d_dead(c)
        d_dead[2] += 1.0 / s
        d_alive = np.stack([-c.log_alpha_t, -c.p / c.alpha_t, -c.log_beta_t, -s / c.beta_t])
        dg1 = digamma(r + self.ux) - digamma(r)
        grad = w_alive * d_alive + w_dead * d_dead
        grad[0] += dg1[self.xi] + math.log(alpha)
        grad[1] += r / alpha
        grad[2] += math.log(beta)
        grad[3] += s / beta
        return ll, grad

    def _d_dead(self, c: _Common) -> FloatArray:
        """``∇ ln(G(t_x) - G(T)) = (∇ln G1 - ρ ∇ln G2) / (1 - ρ)`` per row, ``(4, n)``; rows
        with ``t_x = T`` cannot have died in ``(t_x, T]`` (their weight is 0): 0 there."""
        grad_g = c.tail.grad
        assert grad_g is not None
        with np.errstate(divide="ignore"):
            inv_om = np.where(c.one_minus > 0, 1.0 / c.one_minus, 0.0)
        d_dead = grad_g[:, self.i_tx] - np.exp(c.delta) * grad_g[:, self.i_T]
        d_dead *= inv_om
        return d_dead

    def total(self, theta: FloatArray, weights: FloatArray) -> Evaluation:
        """``Σ w ln L``, its gradient and Hessian in the log-parameters."""
        c = self._common(theta, 2)
        r, alpha, s, beta = c.r, c.alpha, c.s, c.beta
        phi = np.array([r, alpha, s, beta])
        w = weights
        total_w = float(np.sum(w))
        w_x = np.bincount(self.xi, weights=w, minlength=self.ux.size)
        log_alpha, log_beta = math.log(alpha), math.log(beta)
        g1 = gammaln(r + self.ux) - gammaln(r)
        value = float(w_x @ g1 + np.sum(w * c.m)) + total_w * (r * log_alpha + s * log_beta)

        c_alive = w * np.exp(c.log_alive - c.m)
        w_dead = np.exp(c.log_dead - c.m)
        c_dead = w * w_dead
        d_dead = self._d_dead(c)  # ∇D, D = ln(G1 - G2)
        d_alive = np.stack([-c.log_alpha_t, -c.p / c.alpha_t, -c.log_beta_t, -s / c.beta_t])
        sum_dead = float(np.sum(c_dead))
        grad_phi = np.einsum("an,n->a", d_alive, c_alive) + np.einsum("an,n->a", d_dead, c_dead)
        dg1 = digamma(r + self.ux) - digamma(r)
        grad_phi += (
            float(w_x @ dg1) + total_w * log_alpha,
            total_w * r / alpha,
            total_w * log_beta + sum_dead / s,
            total_w * s / beta,
        )

        hess = np.zeros((4, 4))
        # Γ(r+x)/Γ(r) α^r β^s
        hess[0, 0] = float(w_x @ (zeta(2.0, r + self.ux) - zeta(2.0, r)))
        hess[0, 1] = total_w / alpha
        hess[1, 1] = -total_w * r / alpha**2
        hess[2, 3] = total_w / beta
        hess[3, 3] = -total_w * s / beta**2
        # alive: LA = -(r+x) ln(α+T) - s ln(β+T); d_alive[1] = -(r+x)/(α+T)
        inv_aT = c_alive / c.alpha_t
        inv_bT = c_alive / c.beta_t
        hess[0, 1] -= float(np.sum(inv_aT))
        hess[1, 1] -= float(np.sum(inv_aT * d_alive[1]))
        hess[2, 3] -= float(np.sum(inv_bT))
        hess[3, 3] -= float(np.sum(inv_bT * d_alive[3]))
        # dead: LD = ln s + D, its Hessian summed per distinct pair of the series:
        # ∇²D = [(∇²ln G1 + ∇ln G1 ∇ln G1ᵀ) - ρ (∇²ln G2 + ...)] / (1 - ρ) - ∇D ∇Dᵀ
        n_pairs = self.y_pairs.size
        with np.errstate(divide="ignore", invalid="ignore"):
            c_om = np.where(c.one_minus > 0, c_dead / c.one_minus, 0.0)
        per_pair = np.bincount(self.i_tx, weights=c_om, minlength=n_pairs)
        per_pair -= np.bincount(self.i_T, weights=c_om * np.exp(c.delta), minlength=n_pairs)
        grad_g, hess_g = c.tail.grad, c.tail.hess
        assert grad_g is not None and hess_g is not None
        hess += np.einsum("abn,n->ab", hess_g, per_pair)
        hess += np.einsum("an,bn,n->ab", grad_g, grad_g, per_pair)
        hess -= np.einsum("an,bn,n->ab", d_dead, d_dead, c_dead)
        hess[2, 2] -= sum_dead / s**2
        # the mixture of the two terms: w_A w_D (∇LA - ∇LD)(∇LA - ∇LD)ᵀ
        diff = d_alive - d_dead
        diff[2] -= 1.0 / s
        hess += np.einsum("an,bn,n->ab", diff, diff, c_alive * w_dead)
        hess = np.triu(hess) + np.triu(hess, 1).T
        # to the log-parameters: ∂²/∂θ_i∂θ_j = φ_i φ_j ∂²/∂φ_i∂φ_j + δ_ij φ_i ∂/∂φ_i
        grad = phi * grad_phi
        hess *= np.multiply.outer(phi, phi)
        hess[np.diag_indices(4)] += grad
        return Evaluation(value, grad, hess)


class _Common(NamedTuple):
    """What the value, the gradient and the Hessian share (per row)."""

    r: float
    alpha: float
    s: float
    beta: float
    p: FloatArray
    alpha_t: FloatArray
    beta_t: FloatArray
    log_alpha_t: FloatArray
    log_beta_t: FloatArray
    log_alive: FloatArray
    log_dead: FloatArray
    m: FloatArray
    delta: FloatArray
    one_minus: FloatArray
    tail: TailIntegral


def _log_likelihood_function(x: FloatArray, t_x: FloatArray, t_cal: FloatArray) -> LogLikAndGrad:
    """Per-row log-likelihood (FH note, eq. 22) and its exact gradient in log-parameters."""
    likelihood = _Likelihood(x, t_x, t_cal)

    def loglik(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        ll, grad = likelihood.rows(theta, 1)
        assert grad is not None
        return ll, (grad * np.exp(theta)[:, None]).T

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
