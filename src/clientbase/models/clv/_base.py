"""What the lifetime-value models share: input checks, row compression, fitting, errors.

Every model maximises a log-likelihood written in log space, on the *unique* rows of its data
with integer weights (real customer bases repeat the same ``(x, t_x, T)`` many times), over
the logarithms of its parameters by BFGS with an exact analytic gradient. A few Newton steps
polish the optimum; the Hessian (forward differences of the exact gradient) gives the
standard errors and confidence intervals by the delta method. A model with an exact analytic
Hessian (Pareto/NBD) uses Newton's method from the start instead (:func:`maximise_by_newton`),
and its exact Hessian at the optimum for the standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from clientbase.errors import ConvergenceError, InvalidInput, ModelError, NotFittedError

__all__ = [
    "Evaluation",
    "FloatArray",
    "LifetimeModel",
    "LogLikAndGrad",
    "Objective",
    "SecondOrderObjective",
    "as_float_array",
    "as_horizon",
    "compress_rows",
    "data_fingerprint",
    "distinct_rows",
    "maximise_by_newton",
    "maximise_log_likelihood",
    "require_variety",
    "squeeze",
    "validate_rfm",
    "validate_weights",
    "weighted_objective",
]

FloatArray = NDArray[np.float64]
#: ``f(log_params) -> (per-row log-likelihood, per-row gradient w.r.t. the log-parameters)``.
LogLikAndGrad = Callable[[FloatArray], tuple[FloatArray, FloatArray]]
#: ``f(log_params) -> (total log-likelihood, its gradient w.r.t. the log-parameters)``.
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

_LOG_BOUND = 25.0  # parameters live in [e^-25, e^25]; an optimum on the bound is not one
_FLAT_LOG_VARIANCE = 100.0  # variance of a log-parameter beyond which it is not identified


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
    """The unique rows of ``columns`` with the summed weight of each (zero-weight rows dropped).

    Each column is coded on its own: a column of small whole numbers (frequencies) is its own
    code; any other column is coded by a binary search in its sorted distinct values. The
    codes are combined into one integer key per row; when the key space is at most four
    times the number of rows (many customers over a few hundred distinct ages and
    recencies) the weights are summed by ``bincount`` over it, in linear time, otherwise
    over the sorted keys (a few thousand customers: sorting them is cheaper than a key
    space of a million). No float rows are sorted lexicographically and nothing is hashed,
    so this is exact.
    """
    n = columns[0].size
    key = np.zeros(n, dtype=np.int64)
    uniques: list[FloatArray] = []
    span = 1
    for column in columns:
        values, codes = _code_column(column)
        if span * values.size >= 2**62:  # pragma: no cover - needs > 2**20 values per column
            raise ModelError("Too many distinct rows to compress.")
        uniques.append(values)
        if span == 1:
            key = codes
        else:
            key *= values.size
            key += codes
        span *= values.size
    if span <= 4 * n:
        summed = np.bincount(key, weights=weights, minlength=span)
        present = np.flatnonzero(summed > 0)
        summed = summed[present]
    else:
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        first = np.flatnonzero(np.concatenate(([True], sorted_key[1:] != sorted_key[:-1])))
        summed = np.add.reduceat(weights[order], first)
        present = sorted_key[first]
        keep = summed > 0
        present, summed = present[keep], summed[keep]
    rows: list[FloatArray] = []
    rest = present
    for values in reversed(uniques):
        rows.append(values[rest % values.size])
        rest = rest // values.size
    rows.reverse()
    return rows, np.asarray(summed, dtype=np.float64)


def distinct_rows(columns: Sequence[FloatArray]) -> tuple[list[FloatArray], NDArray[np.intp]]:
    """The distinct rows of ``columns`` and, for every row, the index of its distinct row.

    Predictions that depend on a few columns only (the BG/NBD expectation on ``(x, T)``)
    are computed once per distinct row and expanded with the index. Same exact integer
    coding as :func:`compress_rows`; linear time when the key space is small.
    """
    n = columns[0].size
    key = np.zeros(n, dtype=np.int64)
    uniques: list[FloatArray] = []
    span = 1
    for column in columns:
        values, codes = _code_column(column)
        if span * values.size >= 2**62:  # pragma: no cover - needs > 2**20 values per column
            raise ModelError("Too many distinct rows to group.")
        uniques.append(values)
        key = key * values.size + codes
        span *= values.size
    if span <= max(4 * n, 1 << 22):
        seen = np.zeros(span, dtype=bool)
        seen[key] = True
        present = np.flatnonzero(seen)
        rank = np.cumsum(seen) - 1
        inverse = rank[key]
    else:
        present, inverse = np.unique(key, return_inverse=True)
    rows: list[FloatArray] = []
    rest = present
    for values in reversed(uniques):
        rows.append(values[rest % values.size])
        rest = rest // values.size
    rows.reverse()
    return rows, np.asarray(inverse, dtype=np.intp).reshape(-1)


def _code_column(column: FloatArray) -> tuple[FloatArray, NDArray[np.int64]]:
    """The distinct values of a column (sorted) and each row's index among them."""
    low, high = float(column.min()), float(column.max())
    if low >= 0 and high < 4 * column.size + 1024:
        codes = column.astype(np.int64)
        if np.array_equal(codes, column):  # small whole numbers: the value is the code
            return np.arange(int(high) + 1, dtype=np.float64), codes
    values = np.unique(column + 0.0)  # + 0.0 turns -0.0 into 0.0
    return values, np.searchsorted(values, column).astype(np.int64)


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


def weighted_objective(loglik: LogLikAndGrad, weights: FloatArray) -> Objective:
    """The total ``sum(weights * loglik)`` and its gradient, from a per-row function."""

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, grad = loglik(theta)
        # plain reductions, never BLAS: a threaded BLAS call stalls when the machine is busy
        return float(np.sum(weights * ll)), np.sum(grad * weights[:, None], axis=0)

    return objective


def maximise_log_likelihood(
    objective: Objective,
    total_weight: float,
    start: Mapping[str, float],
    *,
    model: str,
    max_iter: int = 2000,
) -> tuple[dict[str, float], float, FloatArray]:
    """Maximise a total log-likelihood over the log-parameters.

    ``objective(log_params)`` returns the total log-likelihood and its exact gradient.
    A quasi-Newton (BFGS) search on the mean log-likelihood reaches the neighbourhood of the
    optimum; Newton steps with the Hessian there (forward differences of the exact gradient)
    finish to machine precision, and the same Hessian gives the covariance. Everything is
    written with small element-wise numpy operations on 3-4 parameters: no BLAS or LAPACK
    call whose thread pool could stall on a loaded machine.

    Returns the parameters, the total log-likelihood and the covariance matrix of the
    *log*-parameters (inverse Hessian of the negative log-likelihood).

    Raises
    ------
    ConvergenceError
        When the search stops without converging, the optimum lies on the edge of the
        parameter space (the data cannot identify the model) or the Hessian is not
        positive definite.
    """
    names = list(start)

    def mean_negative(theta: FloatArray) -> tuple[float, FloatArray]:
        value, gradient = objective(theta)
        value, gradient = -value / total_weight, -np.asarray(gradient) / total_weight
        if not math.isfinite(value) or not np.all(np.isfinite(gradient)):
            return math.inf, np.zeros_like(theta)
        return value, gradient

    theta0 = np.clip(
        np.log(np.array([start[name] for name in names], dtype=np.float64)),
        -_LOG_BOUND + 1.0,
        _LOG_BOUND - 1.0,
    )
    theta, value, gradient, message = _bfgs(mean_negative, theta0, max_iter)
    if not math.isfinite(value):
        raise ConvergenceError(f"{model}: the likelihood is not finite at any point tried.")
    _check_edge(names, theta, model)
    hessian = _hessian(mean_negative, theta, gradient)
    # Newton polish: the quasi-Newton search stops a little short of the optimum, and one to
    # three Newton steps reach it to machine precision
    for _ in range(10):
        if float(np.max(np.abs(gradient))) < 1e-11:
            break
        step = _solve_spd(hessian, gradient)
        if step is None:
            break
        candidate = np.clip(theta - step, -_LOG_BOUND, _LOG_BOUND)
        new_value, new_gradient = mean_negative(candidate)
        if not new_value <= value:
            break
        theta, value, gradient = candidate, new_value, new_gradient
    return _finish(names, theta, value, gradient, hessian, total_weight, model, message)


def _check_edge(names: Sequence[str], theta: FloatArray, model: str) -> None:
    """Raise :class:`ConvergenceError` when a log-parameter sits on the box ``[-25, 25]``."""
    at_edge = [n for n, t in zip(names, theta, strict=True) if abs(t) > _LOG_BOUND - 1e-3]
    if at_edge:
        raise ConvergenceError(
            f"{model}: the maximum of the likelihood lies at the edge of the parameter space "
            f"({', '.join(at_edge)}); the data cannot identify the model "
            "(too few customers, too few repeat buyers, or identical customers)."
        )


def _finish(
    names: Sequence[str],
    theta: FloatArray,
    value: float,
    gradient: FloatArray,
    hessian: FloatArray,
    total_weight: float,
    model: str,
    message: str,
) -> tuple[dict[str, float], float, FloatArray]:
    """The checks every optimum passes: small gradient, positive definite and not flat
    Hessian; returns the parameters, the total log-likelihood and the log-scale covariance."""
    params = {name: float(v) for name, v in zip(names, np.exp(theta), strict=True)}
    grad_norm = float(np.max(np.abs(gradient)))
    if grad_norm > 1e-5:
        raise ConvergenceError(
            f"{model}: the optimiser stopped before the maximum "
            f"({message}; largest gradient component {grad_norm:.2e})."
        )
    covariance = _inverse_spd(hessian)
    if covariance is not None:
        covariance = covariance / total_weight
    # a standard error of 10 on the log scale (an interval over a factor e^20 wide) means the
    # likelihood is flat in that direction: the optimum drifts off to the edge of the space
    if covariance is None or float(np.max(np.diag(covariance))) > _FLAT_LOG_VARIANCE:
        raise ConvergenceError(
            f"{model}: the likelihood is flat or not a maximum at the optimum "
            "(the parameters are not identified by these data)."
        )
    return params, -value * total_weight, covariance


class Evaluation(NamedTuple):
    """Total log-likelihood with its exact gradient and Hessian in the log-parameters."""

    value: float
    gradient: FloatArray
    hessian: FloatArray


#: ``f(log_params) -> Evaluation`` (totals over the weighted rows).
SecondOrderObjective = Callable[[FloatArray], Evaluation]


def maximise_by_newton(
    objective: SecondOrderObjective,
    total_weight: float,
    start: Mapping[str, float],
    *,
    model: str,
    max_iter: int = 200,
) -> tuple[dict[str, float], float, FloatArray]:
    """Maximise a total log-likelihood over the log-parameters by Newton's method with the
    exact Hessian, for models that provide one.

    Each iteration solves ``H d = -g`` on the mean negative log-likelihood. Where ``H`` is
    not positive definite (away from the optimum, along a ridge) the step uses ``|H|``
    (the absolute values of its eigenvalues, the "saddle-free" Newton step of Dauphin et
    al. 2014), which is a descent direction with the Newton scaling. Steps change a
    parameter by at most a factor ``e^2`` and are halved until the value decreases (Armijo).
    It stops when the Newton decrement ``gᵀ H⁻¹ g / 2`` — the predicted gain left in the
    *total* log-likelihood — is below ``1e-10`` (Boyd & Vandenberghe, Convex Optimization,
    §9.5.1). The Hessian at the optimum gives the covariance. No BLAS or LAPACK call.

    Returns the same as :func:`maximise_log_likelihood`; raises :class:`ConvergenceError`
    in the same cases, and when the iteration limit is reached.
    """
    names = list(start)

    def mean_negative(theta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        value, gradient, hessian = objective(theta)
        value = -value / total_weight
        gradient = -np.asarray(gradient) / total_weight
        hessian = -np.asarray(hessian) / total_weight
        if (
            not math.isfinite(value)
            or not np.all(np.isfinite(gradient))
            or not np.all(np.isfinite(hessian))
        ):
            return math.inf, np.zeros_like(theta), np.zeros((theta.size, theta.size))
        return value, gradient, hessian

    theta = np.clip(
        np.log(np.array([start[name] for name in names], dtype=np.float64)),
        -_LOG_BOUND + 1.0,
        _LOG_BOUND - 1.0,
    )
    value, gradient, hessian = mean_negative(theta)
    if not math.isfinite(value):
        raise ConvergenceError(f"{model}: the likelihood is not finite at the starting point.")
    message = f"no convergence in {max_iter} iterations"
    stalled = 0
    for _ in range(max_iter):
        direction, positive = _newton_direction(hessian, gradient)
        slope = float(np.sum(direction * gradient))
        if positive and -slope * total_weight < 2e-10:
            message = "converged"
            break
        outward = ((theta <= -_LOG_BOUND) & (direction < 0)) | (
            (theta >= _LOG_BOUND) & (direction > 0)
        )
        if outward.any():
            message = "a parameter reached the edge"
            break
        step = min(1.0, 2.0 / float(np.max(np.abs(direction))))
        while True:
            candidate = np.clip(theta + step * direction, -_LOG_BOUND, _LOG_BOUND)
            new_value, new_gradient, new_hessian = mean_negative(candidate)
            if new_value <= value + 1e-4 * step * slope:
                break
            step *= 0.25 if not math.isfinite(new_value) else 0.5
            if step < 1e-12:
                break
        if step < 1e-12:
            message = "the line search failed"
            break
        stalled = stalled + 1 if value - new_value <= 1e-15 * abs(value) else 0
        theta, value, gradient, hessian = candidate, new_value, new_gradient, new_hessian
        if stalled >= 3:
            message = "converged (no further decrease)"
            break
    _check_edge(names, theta, model)
    return _finish(names, theta, value, gradient, hessian, total_weight, model, message)


def _newton_direction(hessian: FloatArray, gradient: FloatArray) -> tuple[FloatArray, bool]:
    """``-H⁻¹ g`` when ``H`` is positive definite (and ``True``); otherwise ``-|H|⁻¹ g``
    with ``|H|`` from the eigen-decomposition (and ``False``), its eigenvalues floored at
    1/1000 of the largest: along a nearly flat direction the step stays moderate."""
    step = _solve_spd(hessian, gradient)
    if step is not None:
        return -step, True
    values, vectors = _symmetric_eigen(hessian)
    floor = 1e-3 * max(1e-300, max(abs(v) for v in values))
    direction = np.zeros(gradient.size)
    for value, vector in zip(values, vectors, strict=True):
        along = float(np.sum(vector * gradient))
        direction -= vector * (along / max(abs(value), floor))
    return direction, False


def _symmetric_eigen(matrix: FloatArray) -> tuple[list[float], list[FloatArray]]:
    """Eigenvalues and unit eigenvectors of a small symmetric matrix by cyclic Jacobi
    rotations (Numerical Recipes, 3rd ed., §11.1), in plain Python floats."""
    k = matrix.shape[0]
    a = [[float(matrix[i, j]) for j in range(k)] for i in range(k)]
    v = [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]
    for _ in range(50):
        off = sum(a[i][j] ** 2 for i in range(k) for j in range(i + 1, k))
        if off <= 1e-30 * sum(a[i][i] ** 2 for i in range(k)) or off == 0.0:
            break
        for p in range(k):
            for q in range(p + 1, k):
                apq = a[p][q]
                if apq == 0.0:
                    continue
                h = (a[q][q] - a[p][p]) / (2.0 * apq)
                t = math.copysign(1.0, h) / (abs(h) + math.sqrt(h * h + 1.0))
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for r in range(k):
                    arp, arq = a[r][p], a[r][q]
                    a[r][p], a[r][q] = c * arp - s * arq, s * arp + c * arq
                for r in range(k):
                    apr, aqr = a[p][r], a[q][r]
                    a[p][r], a[q][r] = c * apr - s * aqr, s * apr + c * aqr
                for r in range(k):
                    vrp, vrq = v[r][p], v[r][q]
                    v[r][p], v[r][q] = c * vrp - s * vrq, s * vrp + c * vrq
    values = [a[i][i] for i in range(k)]
    vectors = [np.array([v[r][i] for r in range(k)]) for i in range(k)]
    return values, vectors


def _bfgs(
    f: Callable[[FloatArray], tuple[float, FloatArray]], theta: FloatArray, max_iter: int
) -> tuple[FloatArray, float, FloatArray, str]:
    """Minimise ``f`` (value and gradient) by BFGS with a backtracking Armijo line search.

    Parameters stay in the box ``[-25, 25]``: steps are projected on it, and a parameter
    pressed against the box by its gradient counts as converged there (the caller reports
    it). Stops when the projected gradient is below ``1e-6`` or the value stops decreasing.
    """
    value, gradient = f(theta)
    if not math.isfinite(value):
        return theta, value, gradient, "the likelihood is not finite at the start"
    k = theta.size
    # the inverse Hessian at the start, when it is positive definite, saves many iterations
    start_inverse = _inverse_spd(_hessian(f, theta, gradient))
    inverse = np.eye(k) if start_inverse is None else start_inverse
    scaled = start_inverse is not None
    refresh_below = 1e-2 * float(np.max(np.abs(gradient)))
    stalled = 0
    for _ in range(max_iter):
        pinned = ((theta <= -_LOG_BOUND) & (gradient > 0)) | (
            (theta >= _LOG_BOUND) & (gradient < 0)
        )
        free_gradient = np.where(pinned, 0.0, gradient)
        largest = float(np.max(np.abs(free_gradient)))
        if largest < 1e-6:  # the Newton polish of the caller finishes from here
            return theta, value, gradient, "converged"
        if 1e-4 < largest < refresh_below and not pinned.any():
            # the curvature changes along the long ridges of these likelihoods (s and β of
            # the Pareto/NBD, say): a fresh Hessian turns the rest into Newton-like steps
            refresh_below = 1e-2 * largest
            fresh = _inverse_spd(_hessian(f, theta, gradient))
            if fresh is not None:
                inverse = fresh
        direction = -np.sum(inverse * free_gradient, axis=1)
        direction[pinned] = 0.0
        slope = float(np.sum(direction * free_gradient))
        if not slope < 0:  # not a descent direction: restart from steepest descent
            inverse = np.eye(k)
            scaled = False
            direction = -free_gradient
            slope = float(np.sum(direction * direction)) * -1.0
        step = min(1.0, 2.0 / float(np.max(np.abs(direction))))  # at most e^2 at once
        while True:
            candidate = np.clip(theta + step * direction, -_LOG_BOUND, _LOG_BOUND)
            new_value, new_gradient = f(candidate)
            if new_value <= value + 1e-4 * step * slope:
                break
            step *= 0.25 if not math.isfinite(new_value) else 0.5
            if step < 1e-12:
                return theta, value, gradient, "the line search failed"
        s = candidate - theta
        y = new_gradient - gradient
        sy = float(np.sum(s * y))
        if sy > 1e-12 * math.sqrt(float(np.sum(s * s)) * float(np.sum(y * y))):
            if not scaled:
                inverse = np.eye(k) * (sy / float(np.sum(y * y)))
                scaled = True
            hy = np.sum(inverse * y, axis=1)
            rho = 1.0 / sy
            inverse = (
                inverse
                - rho * (np.multiply.outer(s, hy) + np.multiply.outer(hy, s))
                + (rho * rho * float(np.sum(y * hy)) + rho) * np.multiply.outer(s, s)
            )
        stalled = stalled + 1 if value - new_value <= 1e-15 * abs(value) else 0
        theta, value, gradient = candidate, new_value, new_gradient
        if stalled >= 3:
            return theta, value, gradient, "converged (no further decrease)"
    return theta, value, gradient, f"no convergence in {max_iter} iterations"


def _cholesky(matrix: FloatArray) -> FloatArray | None:
    """Lower Cholesky factor of a small symmetric matrix, or ``None`` if not positive definite."""
    k = matrix.shape[0]
    lower = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1):
            rest = float(matrix[i, j]) - sum(float(lower[i, m] * lower[j, m]) for m in range(j))
            if i == j:
                if not rest > 0 or not math.isfinite(rest):
                    return None
                lower[i, i] = math.sqrt(rest)
            else:
                lower[i, j] = rest / lower[j, j]
    return lower


def _solve_spd(matrix: FloatArray, rhs: FloatArray) -> FloatArray | None:
    """``matrix^-1 rhs`` for a small symmetric positive definite matrix (else ``None``)."""
    lower = _cholesky(matrix)
    if lower is None:
        return None
    k = rhs.size
    forward = np.zeros(k)
    for i in range(k):
        forward[i] = (rhs[i] - sum(lower[i, m] * forward[m] for m in range(i))) / lower[i, i]
    out = np.zeros(k)
    for i in reversed(range(k)):
        out[i] = (forward[i] - sum(lower[m, i] * out[m] for m in range(i + 1, k))) / lower[i, i]
    return out


def _inverse_spd(matrix: FloatArray) -> FloatArray | None:
    """Inverse of a small symmetric positive definite matrix (else ``None``)."""
    k = matrix.shape[0]
    columns = [_solve_spd(matrix, unit) for unit in np.eye(k)]
    if any(column is None for column in columns):
        return None
    inverse = np.array(columns)
    return np.asarray(0.5 * (inverse + inverse.T), dtype=np.float64)


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
