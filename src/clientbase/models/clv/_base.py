"""What the lifetime-value models share: input checks, row compression, fitting, errors.

Every model maximises a log-likelihood written in log space, on the *unique* rows of its data
with integer weights (real customer bases repeat the same ``(x, t_x, T)`` many times), over
the logarithms of its parameters with L-BFGS-B and an exact analytic gradient. A few Newton
steps polish the optimum; the Hessian (central differences of the exact gradient) gives the
standard errors and confidence intervals by the delta method.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import ndtri

from clientbase.errors import ConvergenceError, InvalidInput, ModelError, NotFittedError

__all__ = [
    "FloatArray",
    "LifetimeModel",
    "LogLikAndGrad",
    "as_float_array",
    "as_horizon",
    "compress_rows",
    "data_fingerprint",
    "maximise_log_likelihood",
    "require_variety",
    "squeeze",
    "validate_rfm",
    "validate_weights",
]

FloatArray = NDArray[np.float64]
#: ``f(log_params) -> (per-row log-likelihood, per-row gradient w.r.t. the log-parameters)``.
LogLikAndGrad = Callable[[FloatArray], tuple[FloatArray, FloatArray]]

_LOG_BOUND = 25.0  # parameters live in [e^-25, e^25]; an optimum on the bound is not one


def as_float_array(values: ArrayLike, name: str) -> FloatArray:
    """A 1-d float array from an array-like or a pandas column, or :class:`InvalidInput`."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be numbers ({exc}).") from exc
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise InvalidInput(f"{name} must be one-dimensional, got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise InvalidInput(f"{name} has {bad} missing or infinite value(s).")
    return array


def validate_rfm(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check ``(x, t_x, T)``: finite, same length, ``x`` whole and ``0 <= t_x <= T``.

    Raises
    ------
    InvalidInput
        With the number of offending customers in the message (never their data).
    """
    x = as_float_array(frequency, "frequency")
    t_x = as_float_array(recency, "recency")
    t_cal = as_float_array(T, "T")
    if not (x.shape == t_x.shape == t_cal.shape):
        raise InvalidInput(
            f"frequency, recency and T must have the same length "
            f"(got {x.size}, {t_x.size}, {t_cal.size})."
        )
    if x.size == 0:
        raise InvalidInput("No customers were given.")
    checks = (
        (x < 0, "have a negative frequency"),
        (x != np.floor(x), "have a frequency that is not a whole number"),
        (t_x < 0, "have a negative recency"),
        (t_cal < 0, "have a negative T (age)"),
        (t_x > t_cal * (1 + 1e-12), "have recency t_x greater than their age T"),
        ((x == 0) & (t_x != 0), "have no repeat purchase but a non-zero recency"),
    )
    for mask, what in checks:
        if np.any(mask):
            raise InvalidInput(f"{int(np.count_nonzero(mask))} customer(s) {what}.")
    return x, np.minimum(t_x, t_cal), t_cal


def validate_weights(weights: ArrayLike | None, n: int) -> FloatArray:
    """Non-negative finite weights of length ``n`` (ones when ``None``)."""
    if weights is None:
        return np.ones(n)
    w = as_float_array(weights, "weights")
    if w.size != n:
        raise InvalidInput(f"weights has {w.size} values for {n} customers.")
    if np.any(w < 0) or not np.any(w > 0):
        raise InvalidInput("weights must be non-negative and not all zero.")
    return w


def compress_rows(
    columns: Sequence[FloatArray], weights: FloatArray
) -> tuple[list[FloatArray], FloatArray]:
    """The unique rows of ``columns`` with the summed weight of each.

    Each column is factorised on its own, then the codes are combined into one integer key,
    which is much faster than a lexicographic unique over float rows.
    """
    key = np.zeros(columns[0].size, dtype=np.int64)
    uniques: list[FloatArray] = []
    span = 1
    for column in columns:
        values, codes = np.unique(column, return_inverse=True)
        uniques.append(values)
        if span * values.size >= 2**62:  # pragma: no cover - needs > 2**20 values per column
            raise ModelError("Too many distinct rows to compress.")
        key = key * values.size + codes.reshape(-1)
        span *= values.size
    unique_keys, inverse = np.unique(key, return_inverse=True)
    summed = np.bincount(inverse.reshape(-1), weights=weights, minlength=unique_keys.size).astype(
        np.float64
    )
    rows: list[FloatArray] = []
    rest = unique_keys
    for values in reversed(uniques):
        rows.append(values[rest % values.size])
        rest = rest // values.size
    rows.reverse()
    keep = summed > 0
    return [row[keep] for row in rows], summed[keep]


def require_variety(n_unique_rows: int, model: str) -> None:
    """Raise :class:`ModelError` when every customer has the same history.

    One customer, or many identical ones, say nothing about how customers differ, which is
    what the mixing distributions of these models describe.
    """
    if n_unique_rows < 2:
        raise ModelError(
            f"{model} cannot be fitted: every customer has the same history "
            "(the model needs customers that differ, and many of them)."
        )


def maximise_log_likelihood(
    loglik: LogLikAndGrad,
    weights: FloatArray,
    start: Mapping[str, float],
    *,
    model: str,
    max_iter: int = 2000,
) -> tuple[dict[str, float], float, FloatArray]:
    """Maximise ``sum(weights * loglik)`` over the log-parameters.

    Returns the parameters, the total log-likelihood and the covariance matrix of the
    *log*-parameters (inverse Hessian of the negative log-likelihood).

    Raises
    ------
    ConvergenceError
        When the optimiser stops without success, the optimum lies on the edge of the
        parameter space (the data cannot identify the model) or the Hessian is not
        positive definite.
    """
    names = list(start)
    total = float(weights.sum())

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, grad = loglik(theta)
        # plain reductions, not BLAS: a threaded BLAS call per evaluation stalls badly when
        # other processes load the machine
        value = -float(np.sum(weights * ll)) / total
        gradient = -np.sum(grad * weights[:, None], axis=0) / total
        if not math.isfinite(value) or not np.all(np.isfinite(gradient)):
            return math.inf, np.zeros_like(theta)
        return value, gradient

    theta0 = np.log(np.array([start[name] for name in names], dtype=np.float64))
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(names)
    result = minimize(
        objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": 1e-12, "gtol": 1e-6, "maxcor": 10},
    )
    theta = np.asarray(result.x, dtype=np.float64)
    value = float(result.fun)
    if not math.isfinite(value):
        raise ConvergenceError(f"{model}: the likelihood is not finite at any point tried.")
    gradient = np.asarray(result.jac, dtype=np.float64)
    hessian = _hessian(objective, theta, gradient)
    # Newton polish with the Hessian at the L-BFGS-B end point: L-BFGS-B stops a little short
    # of the optimum, and two or three steps reach it to machine precision
    for _ in range(10):
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            break
        candidate = np.clip(theta - step, -_LOG_BOUND, _LOG_BOUND)
        new_value, new_gradient = objective(candidate)
        if not new_value < value:
            break
        theta, value, gradient = candidate, new_value, new_gradient
    params = {name: float(value) for name, value in zip(names, np.exp(theta), strict=True)}
    at_edge = [n for n, t in zip(names, theta, strict=True) if abs(t) > _LOG_BOUND - 1e-3]
    if at_edge:
        raise ConvergenceError(
            f"{model}: the maximum of the likelihood lies at the edge of the parameter space "
            f"({', '.join(at_edge)}); the data cannot identify the model "
            "(too few customers, too few repeat buyers, or identical customers)."
        )
    grad_norm = float(np.max(np.abs(gradient)))
    if grad_norm > 1e-5:
        raise ConvergenceError(
            f"{model}: the optimiser stopped before the maximum "
            f"({result.message}; largest gradient component {grad_norm:.2e})."
        )
    try:
        eigenvalues = np.linalg.eigvalsh(hessian)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - non-finite Hessian
        raise ConvergenceError(f"{model}: the Hessian at the optimum is not finite.") from exc
    if not np.all(np.isfinite(eigenvalues)) or eigenvalues.min() <= 0:
        raise ConvergenceError(
            f"{model}: the likelihood is flat or not a maximum at the optimum "
            "(the parameters are not identified by these data)."
        )
    covariance = np.asarray(np.linalg.inv(hessian) / total, dtype=np.float64)
    return params, -value * total, covariance


def _hessian(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    theta: FloatArray,
    gradient: FloatArray,
) -> FloatArray:
    """Forward differences of the exact gradient (one gradient per parameter), symmetrised."""
    k = theta.size
    hess = np.empty((k, k))
    for i in range(k):
        h = 1e-6 * max(1.0, abs(theta[i]))
        moved = theta.copy()
        moved[i] += h
        hess[i] = (objective(moved)[1] - gradient) / h
    return np.asarray(0.5 * (hess + hess.T), dtype=np.float64)


class LifetimeModel:
    """Shared scikit-learn-style plumbing of the CLV models (not used directly).

    Subclasses set ``param_names`` and implement ``fit``; fitted state ends in ``_``.
    """

    param_names: ClassVar[tuple[str, ...]] = ()

    params_: dict[str, float]
    log_likelihood_: float
    n_customers_: int
    n_unique_rows_: int
    data_fingerprint_: str
    _log_covariance: FloatArray

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword parameters (the model's configuration)."""
        return {
            key: value
            for key, value in vars(self).items()
            if not key.endswith("_") and not key.startswith("_")
        }

    def check_is_fitted(self) -> None:
        """Raise :class:`NotFittedError` unless :meth:`fit` (or ``load``) has run."""
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit() or load() first."
            )

    def _param_values(self) -> tuple[float, ...]:
        self.check_is_fitted()
        return tuple(self.params_[name] for name in self.param_names)

    @property
    def params_se_(self) -> dict[str, float]:
        """Standard errors of the parameters (delta method from the log-scale Hessian)."""
        self.check_is_fitted()
        se_log = np.sqrt(np.diag(self._log_covariance))
        return {
            name: self.params_[name] * float(se)
            for name, se in zip(self.param_names, se_log, strict=True)
        }

    def confidence_intervals(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Wald intervals on the log scale, mapped back (always positive).

        Parameters
        ----------
        level
            Coverage of the intervals, in (0, 1).
        """
        self.check_is_fitted()
        if not 0 < level < 1:
            raise InvalidInput(f"level must be between 0 and 1, got {level}.")
        z = float(ndtri(0.5 + level / 2))
        se_log = np.sqrt(np.diag(self._log_covariance))
        return {
            name: (
                self.params_[name] * math.exp(-z * float(se)),
                self.params_[name] * math.exp(z * float(se)),
            )
            for name, se in zip(self.param_names, se_log, strict=True)
        }

    def _set_fitted(
        self,
        params: dict[str, float],
        log_likelihood: float,
        log_covariance: FloatArray,
        fingerprint: str,
        n_customers: int,
        n_unique_rows: int,
    ) -> None:
        self.params_ = params
        self.log_likelihood_ = log_likelihood
        self._log_covariance = log_covariance
        self.data_fingerprint_ = fingerprint
        self.n_customers_ = n_customers
        self.n_unique_rows_ = n_unique_rows

    def save(self, path: str | Any) -> None:
        """Write the fitted model to a JSON file (see :mod:`.persistence`)."""
        from clientbase.models.clv.persistence import save_model

        save_model(self, path)

    @classmethod
    def load(cls, path: str | Any) -> Self:
        """Read a model written by :meth:`save`; the file must hold this model class."""
        from clientbase.models.clv.persistence import load_model

        model = load_model(path)
        if not isinstance(model, cls):
            raise InvalidInput(f"The file holds a {type(model).__name__}, not a {cls.__name__}.")
        return model

    def __repr__(self) -> str:
        config = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({config})"


def data_fingerprint(*arrays: FloatArray) -> str:
    """SHA-256 of the fitted arrays (their float64 bytes, in order), to tie a model to data."""
    import hashlib

    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        digest.update(b"|")
    return "sha256:" + digest.hexdigest()


def as_horizon(t: ArrayLike, name: str = "t") -> FloatArray:
    """A non-negative, finite time horizon (scalar or array)."""
    horizon = as_float_array(t, name)
    if np.any(horizon < 0):
        raise InvalidInput(f"{name} must not be negative.")
    return horizon


def squeeze(values: FloatArray) -> FloatArray:
    """Keep arrays as arrays (the public predictions always return 1-d arrays)."""
    return np.asarray(values, dtype=np.float64).reshape(-1)
