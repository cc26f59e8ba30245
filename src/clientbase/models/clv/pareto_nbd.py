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
from typing import Self

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

    def rows(self, theta: FloatArray, order: int) -> dict[str, FloatArray]:
        """Per-row pieces: ``ll`` and, for ``order >= 1``, the per-row gradient in the natural
        parameters ``(r, α, s, β)`` as ``(4, n)`` and what the Hessian needs."""
        r, alpha, s, beta = (float(v) for v in np.exp(theta))
        x, t_cal = self.x, self.t_cal
        p = r + x
        inv_aT = 1.0 / (alpha + t_cal)
        inv_bT = 1.0 / (beta + t_cal)
        log_aT = np.log(alpha + t_cal)
        log_bT = np.log(beta + t_cal)
        log_alive = -p * log_aT - s * log_bT
        # one series evaluation for both limits (the cost is per term, not per row)
        tail = log_tail_integral(self.y_pairs, r + self.x_pairs, s + 1.0, alpha, beta, order)
        log_g_tx, log_g_T = tail.log_g[self.i_tx], tail.log_g[self.i_T]
        delta = np.minimum(log_g_T - log_g_tx, 0.0)
        one_minus = -np.expm1(delta)
        with np.errstate(divide="ignore"):
            log_dead = np.log(s) + log_g_tx + np.log(one_minus)
        m = np.logaddexp(log_alive, log_dead)
        g1 = gammaln(r + self.ux) - gammaln(r)
        ll = g1[self.xi] + (r * math.log(alpha) + s * math.log(beta)) + m
        out = {"ll": ll}
        if order == 0:
            return out
        w_alive = np.exp(log_alive - m)
        w_dead = np.exp(log_dead - m)
        rho = np.exp(delta)
        # rows with t_x = T cannot have died in (t_x, T]: w_dead = 0 and ∇D is not needed
        with np.errstate(divide="ignore"):
            inv_om = np.where(one_minus > 0, 1.0 / one_minus, 0.0)
        grad_g = tail.grad
        assert grad_g is not None
        d_dead = (grad_g[:, self.i_tx] - rho * grad_g[:, self.i_T]) * inv_om  # ∇ ln(G1 - G2)
        d_alive = np.stack([-log_aT, -p * inv_aT, -log_bT, -s * inv_bT])
        d_dead[2] += 1.0 / s
        dg1 = digamma(r + self.ux) - digamma(r)
        grad = w_alive * d_alive + w_dead * d_dead
        grad[0] += dg1[self.xi] + math.log(alpha)
        grad[1] += r / alpha
        grad[2] += math.log(beta)
        grad[3] += s / beta
        out.update(
            grad=grad,
            w_alive=w_alive,
            w_dead=w_dead,
            rho_om=rho * inv_om,
            inv_om=inv_om,
            d_alive=d_alive,
            d_dead=d_dead,
            inv_aT=inv_aT,
            inv_bT=inv_bT,
            p=p,
        )
        if order == 2:
            assert tail.hess is not None
            out["hess_g"] = tail.hess
            out["grad_g"] = grad_g
        return out

    def total(self, theta: FloatArray, weights: FloatArray) -> Evaluation:
        """``Σ w ln L``, its gradient and Hessian in the log-parameters."""
        r, alpha, s, beta = phi = np.exp(theta)
        piece = self.rows(theta, 2)
        w = weights
        total_w = float(np.sum(w))
        value = float(np.sum(w * piece["ll"]))
        grad_phi = np.sum(piece["grad"] * w, axis=1)

        hess = np.zeros((4, 4))
        # Γ(r+x)/Γ(r) α^r β^s
        w_x = np.bincount(self.xi, weights=w, minlength=self.ux.size)
        hess[0, 0] = float(np.sum(w_x * (zeta(2.0, r + self.ux) - zeta(2.0, r))))
        hess[0, 1] = total_w / alpha
        hess[1, 1] = -total_w * r / alpha**2
        hess[2, 3] = total_w / beta
        hess[3, 3] = -total_w * s / beta**2
        # alive: LA = -(r+x) ln(α+T) - s ln(β+T)
        c_alive = w * piece["w_alive"]
        inv_aT, inv_bT = piece["inv_aT"], piece["inv_bT"]
        hess[0, 1] -= float(np.sum(c_alive * inv_aT))
        hess[1, 1] += float(np.sum(c_alive * piece["p"] * inv_aT * inv_aT))
        hess[2, 3] -= float(np.sum(c_alive * inv_bT))
        hess[3, 3] += s * float(np.sum(c_alive * inv_bT * inv_bT))
        # dead: LD = ln s + ln(G1 - G2), summed per distinct pair of the series
        c_dead = w * piece["w_dead"]
        n_pairs = self.y_pairs.size
        per_pair = np.bincount(
            self.i_tx, weights=c_dead * piece["inv_om"], minlength=n_pairs
        ) - np.bincount(self.i_T, weights=c_dead * piece["rho_om"], minlength=n_pairs)
        grad_g = piece["grad_g"]
        hess += np.einsum("abn,n->ab", piece["hess_g"], per_pair)
        hess += np.einsum("an,bn,n->ab", grad_g, grad_g, per_pair)
        d_dead = piece["d_dead"].copy()
        d_dead[2] -= 1.0 / s  # back to ∇D
        hess -= np.einsum("an,bn,n->ab", d_dead, d_dead, c_dead)
        hess[2, 2] -= float(np.sum(c_dead)) / s**2
        # the mixture of the two terms
        diff = piece["d_alive"] - piece["d_dead"]
        hess += np.einsum("an,bn,n->ab", diff, diff, c_alive * piece["w_dead"])
        hess = np.triu(hess) + np.triu(hess, 1).T
        # to the log-parameters: ∂²/∂θ_i∂θ_j = φ_i φ_j ∂²/∂φ_i∂φ_j + δ_ij φ_i ∂/∂φ_i
        grad = phi * grad_phi
        hess = hess * np.multiply.outer(phi, phi)
        hess[np.diag_indices(4)] += grad
        return Evaluation(value, grad, hess)


def _log_likelihood_function(x: FloatArray, t_x: FloatArray, t_cal: FloatArray) -> LogLikAndGrad:
    """Per-row log-likelihood (FH note, eq. 22) and its exact gradient in log-parameters."""
    likelihood = _Likelihood(x, t_x, t_cal)

    def loglik(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        piece = likelihood.rows(theta, 1)
        return piece["ll"], (piece["grad"] * np.exp(theta)[:, None]).T

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
