"""The Gamma-Gamma model of spend per purchase.

Colombo & Jiang (1999), "A stochastic RFM model", Journal of Interactive Marketing 13(3),
as used by Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer
Base Analysis", Journal of Marketing Research 42(4) ("FHL 2005b" below, with the equation
numbers of its technical appendix). Each purchase of a customer is worth
``z ~ Gamma(p, ν)``, and ``ν ~ Gamma(q, γ)`` across customers; spend is independent of the
purchase process. Only repeat purchases enter (the first one is often atypical).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, Self

import numpy as np
from numpy.typing import ArrayLike

from clientbase.errors import InvalidInput, ModelError
from clientbase.models.clv._base import (
    FloatArray,
    LifetimeModel,
    LogLikAndGrad,
    Objective,
    as_float_array,
    compress_rows,
    data_fingerprint,
    maximise_log_likelihood,
    validate_weights,
)

if TYPE_CHECKING:
    from clientbase.models.clv.clv import PurchaseModel

__all__ = ["GammaGammaModel"]

_MIN_CUSTOMERS = 3


class GammaGammaModel(LifetimeModel):
    """Gamma-Gamma spend model (Colombo & Jiang 1999; FHL 2005b).

    Parameters
    ----------
    nonpositive
        What to do with repeat buyers whose average spend is zero or negative (free orders,
        refunds): ``"error"`` (the default) raises :class:`InvalidInput`; ``"exclude"``
        leaves them out of the fit. The model has no mass at zero, so they cannot be used.
    max_iter
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``v`` (γ, the scale of the heterogeneity) after :meth:`fit`.
    n_excluded_ : int
        Repeat buyers left out because their average spend was not positive.
    """

    param_names = ("p", "q", "v")

    def __init__(
        self, *, nonpositive: Literal["error", "exclude"] = "error", max_iter: int = 2000
    ) -> None:
        self.nonpositive = nonpositive
        self.max_iter = max_iter

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Maximise the likelihood of the average spends of repeat buyers.

        The density of the mean ``z̄`` of ``x`` purchases (FHL 2005b, eq. A2 after
        integrating out ν) is, in logs,
        ``ln Γ(px+q) - ln Γ(px) - ln Γ(q) + q ln γ + (px-1) ln z̄ + px ln x - (px+q) ln(γ+x z̄)``.
        Customers with ``x = 0`` carry no spend information and are skipped.

        Parameters
        ----------
        frequency
            Repeat purchases ``x`` per customer.
        monetary_value
            Average value ``z̄`` of those repeat purchases.
        weights
            Optional number of customers each row stands for.
        """
        if self.nonpositive not in ("error", "exclude"):
            raise InvalidInput(
                f"nonpositive must be 'error' or 'exclude', not {self.nonpositive!r}."
            )
        x = as_float_array(frequency, "frequency")
        zbar = as_float_array(monetary_value, "monetary_value")
        if x.size != zbar.size:
            raise InvalidInput(
                f"frequency and monetary_value have different lengths ({x.size}, {zbar.size})."
            )
        if np.any(x < 0) or np.any(x != np.floor(x)):
            raise InvalidInput("frequency must hold whole numbers >= 0.")
        w = validate_weights(weights, x.size)
        repeat = x > 0
        bad = repeat & (zbar <= 0)
        if np.any(bad) and self.nonpositive == "error":
            raise InvalidInput(
                f"{int(bad.sum())} repeat buyer(s) have an average spend of zero or less; "
                "the Gamma-Gamma model needs positive spends.",
                hint="pass nonpositive='exclude' to leave them out",
            )
        use = repeat & ~bad & (w > 0)
        if int(w[use].sum()) < _MIN_CUSTOMERS:
            raise ModelError(
                f"Gamma-Gamma needs at least {_MIN_CUSTOMERS} repeat buyers with a positive "
                f"spend; found {int(w[use].sum())}."
            )
        (ux, uz), uw = compress_rows([x[use], zbar[use]], w[use])
        mean_spend = float(np.average(uz, weights=uw))
        start = {"p": 1.0, "q": 2.0, "v": mean_spend}
        params, ll, cov = maximise_log_likelihood(
            _total_log_likelihood(ux, uz, uw),
            float(uw.sum()),
            start,
            model="Gamma-Gamma",
            max_iter=self.max_iter,
        )
        self.n_excluded_ = int(w[bad].sum())
        self._set_fitted(
            params, ll, cov, data_fingerprint(x, zbar, w), int(w[use].sum()), int(ux.size)
        )
        return self

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """E[Z | p, q, γ, z̄, x]: expected value of a future purchase (FHL 2005b, eq. A5).

        ``(γ + x z̄) p / (px + q - 1)``, a weighted mean of the population mean
        ``γ p / (q - 1)`` and the customer's own average; ``x = 0`` gives the population mean.
        """
        p, q, v = self._param_values()
        x = as_float_array(frequency, "frequency")
        zbar = as_float_array(monetary_value, "monetary_value")
        if np.any(x < 0):
            raise InvalidInput("frequency must not be negative.")
        if q <= 1:
            raise ModelError(
                f"The fitted q = {q:.3g} is not above 1, so the mean spend is infinite."
            )
        zbar = np.where(x > 0, zbar, 0.0)
        return np.asarray((v + x * zbar) * p / (p * x + q - 1), dtype=np.float64)

    def population_mean_spend(self) -> float:
        """``γ p / (q - 1)``, the mean spend per purchase across customers (FHL 2005b)."""
        p, q, v = self._param_values()
        return v * p / (q - 1) if q > 1 else float("inf")

    def expected_clv(
        self,
        purchase_model: PurchaseModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        **options: object,
    ) -> FloatArray:
        """Customer lifetime value; see :func:`clientbase.models.clv.clv.expected_clv`."""
        from clientbase.models.clv.clv import expected_clv

        return expected_clv(
            purchase_model,
            self,
            frequency,
            recency,
            T,
            monetary_value,
            **options,  # type: ignore[arg-type]
        )


def _log_likelihood_function(x: FloatArray, zbar: FloatArray) -> LogLikAndGrad:
    """Per-row log-likelihood of the mean spend and its gradient in log-parameters."""
    from scipy.special import digamma, gammaln

    log_z = np.log(zbar)
    log_x = np.log(x)
    xz = x * zbar

    def loglik(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        p, q, v = np.exp(theta)
        px = p * x
        log_vxz = np.log(v + xz)
        ll = (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(v)
            + (px - 1) * log_z
            + px * log_x
            - (px + q) * log_vxz
        )
        psi_pxq = digamma(px + q)
        grad = np.empty((x.size, 3))
        grad[:, 0] = px * (psi_pxq - digamma(px) + log_z + log_x - log_vxz)
        grad[:, 1] = q * (psi_pxq - digamma(q) + np.log(v) - log_vxz)
        grad[:, 2] = q - v * (px + q) / (v + xz)
        return ll, grad

    if np.any(~np.isfinite(log_z)):  # pragma: no cover - guarded by fit
        raise ModelError("Gamma-Gamma received a non-positive spend.")
    return loglik


def _total_log_likelihood(x: FloatArray, zbar: FloatArray, weights: FloatArray) -> Objective:
    """``Σ w ln f(z̄ | x)`` and its gradient, for fitting (same formula as above).

    The Gamma-function terms depend on ``x`` alone and are weighted once per distinct
    ``x``; ``Σ w x ln z̄`` and ``Σ w ln z̄`` do not depend on the parameters and are summed
    once. Each evaluation then costs one ``log`` and one division per row.
    """
    from scipy.special import digamma, gammaln

    log_z = np.log(zbar)
    if np.any(~np.isfinite(log_z)):  # pragma: no cover - guarded by fit
        raise ModelError("Gamma-Gamma received a non-positive spend.")
    ux, xi = np.unique(x, return_inverse=True)
    weight_x = np.bincount(xi.reshape(-1), weights=weights, minlength=ux.size)
    log_ux = np.log(ux)
    total = float(weights.sum())
    wx = weights * x
    sum_wx_log_z = float(np.sum(wx * log_z))
    sum_w_log_z = float(np.sum(weights * log_z))
    xz = x * zbar

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, v = (float(value) for value in np.exp(theta))
        pux = p * ux
        psi_pxq = digamma(pux + q)
        log_vxz = np.log(v + xz)
        inv_vxz = 1.0 / (v + xz)
        s_wx_log, s_w_log = float(np.sum(wx * log_vxz)), float(np.sum(weights * log_vxz))
        s_wx_inv, s_w_inv = float(np.sum(wx * inv_vxz)), float(np.sum(weights * inv_vxz))
        ll = (
            float(np.sum(weight_x * (gammaln(pux + q) - gammaln(pux) + pux * log_ux)))
            - total * (float(gammaln(q)) - q * math.log(v))
            + p * sum_wx_log_z
            - sum_w_log_z
            - p * s_wx_log
            - q * s_w_log
        )
        g_p = (
            float(np.sum(weight_x * ux * (psi_pxq - digamma(pux) + log_ux)))
            + sum_wx_log_z
            - s_wx_log
        )
        g_q = (
            float(np.sum(weight_x * psi_pxq)) - total * (float(digamma(q)) - math.log(v)) - s_w_log
        )
        g_v = total * q / v - p * s_wx_inv - q * s_w_inv
        return ll, np.array([p * g_p, q * g_q, v * g_v])

    return objective
