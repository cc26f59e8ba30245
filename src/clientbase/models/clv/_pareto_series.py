"""The Gaussian hypergeometric term of the Pareto/NBD likelihood, stable everywhere.

Fader & Hardie's note "A Note on Deriving the Pareto/NBD Model and Related Expressions"
(2005, eqs. 21-23) writes the likelihood with

``A0 = ∫_{t_x}^{T} (α+y)^-(r+x) (β+y)^-(s+1) dy = G(t_x) - G(T)``,

``G(y) = ∫_y^∞ (α+u)^-p (β+u)^-q du``  with ``p = r + x``, ``q = s + 1``,

and evaluates ``G`` with ``2F1(r+s+x, s+1; r+s+x+1; (α-β)/(α+y)) / (α+y)^(r+s+x)`` when
``α >= β`` (the roles of the two rates swap when ``α < β``: ``G`` is symmetric in
``(p, α) <-> (q, β)``). Euler's transformation ``2F1(A, B; C; z) = (1-z)^(C-A-B)
2F1(C-A, C-B; C; z)`` with ``C = A + 1`` gives, writing ``(e, R)`` for the exponent and rate
of the larger rate and ``(f, Q)`` for the other pair,

``G(y) = (R+y)^-e (Q+y)^-(f-1) / A · S``,  ``S = Σ_k t_k``,  ``t_k = (e)_k / (A+1)_k z^k``,

with ``A = e + f - 1`` and ``z = (R-Q)/(R+y)`` in ``[0, 1)``. Every term of ``S`` is
positive, the ratio of consecutive terms ``z (e+k)/(A+1+k)`` is below ``z``, so the series
starts at 1, decreases geometrically and never overflows, whatever ``x``, ``T`` or the
parameters.

Derivatives. With ``log t_k = k log z + Σ_{j<k} [log(e+j) - log(A+1+j)]``, the derivatives
of ``log S`` with respect to ``(e, A, z)`` are moments of the weights ``π_k = t_k / S``:

``∂ log S = E_π[∂ log t_k]``,   ``∂² log S = E_π[∂² log t_k] + Cov_π(∂ log t_k)``,

where ``∂_e log t_k = H_e(k) = Σ_{j<k} 1/(e+j)``, ``∂_A log t_k = -H_A(k)`` (over
``1/(A+1+j)``), ``∂_z log t_k = k/z``, ``∂²_e = -Σ_{j<k} 1/(e+j)²``,
``∂²_A = +Σ_{j<k} 1/(A+1+j)²``, ``∂²_z = -k/z²`` and no cross terms. The chain rule through
``A = e + f - 1`` and ``z(R, Q)`` then gives the exact gradient and Hessian of ``log G``
with respect to ``(p, α, q, β)``.

Near ``z = 1``. The ratio of the terms tends to ``z``, so the series needs about
``35 / (1 - z)`` terms: beyond ``z = _Z_QUADRATURE`` (one rate about 20 times the other, or
``y`` small against the larger rate) ``G`` is integrated instead. Euler's integral
(Abramowitz & Stegun 15.3.1; DLMF 15.6.1),
``2F1(a, b; c; z) = Γ(c)/(Γ(b)Γ(c-b)) ∫_0^1 u^(b-1) (1-u)^(c-b-1) (1-zu)^(-a) du``, for the
FH note's ``2F1(f, A; A+1; z)`` (``b = A``, ``c - b = 1``) is ``A ∫_0^1 u^(A-1) (1-zu)^-f du``,
which ``u = (R+y)/(R+y+v)`` turns into ``A (R+y)^A G(y)``: the integral defining ``G``. On
the variable ``t = ln((Q+y+v)/(Q+y))``,

``G(y) = (Q+y)^(1-f) (R-Q)^-e ∫_0^∞ exp(g(t)) dt``,
``g(t) = -(f-1) t - e ln(1 + e^(t-L))``,  ``L = ln((R-Q)/(Q+y))``,

whose integrand is smooth, log-concave and has one mode ``t*`` (``0`` unless ``f < 1``):
its log falls with slope ``f-1`` up to about ``L - ln e`` and with slope ``e+f-1`` after
``L``, however close ``z = 1 - (Q+y)/(R+y)`` is to 1 (``L = ln(z/(1-z))``). The integral is
a composite Gauss-Legendre rule (``_PANEL_NODES`` per panel) on panels that end where ``g``
has fallen by fixed amounts below its maximum (found by Newton's method, which converges
monotonically on a concave function), up to a fall of 45 (a tail below ``e^-45``); where
``g + 2 min(t-L, 0)`` has, likewise (the variance of ``ln(1 + e^(t-L)) ≈ e^(t-L)`` below
needs the integrand weighted by up to ``e^(2(t-L))``, whose mass can lie far right of the
density's); and at fixed distances from ``L``, where ``g`` bends (``ln(1 + e^(t-L))`` has
poles at ``L ± iπ``; its departure from a line, ``e · e^-|t-L|``, has scale 1 and can
matter over tens of units of ``t`` when ``e+f-1`` or ``f-1`` is small), and at fixed ``t``.
The same nodes serve the value and the derivatives, which are taken under the integral, in
``v``: with ``ℓ = -e ln(R+y+v) - f ln(Q+y+v)``, ``∇ ln G = E[∇ℓ]`` and
``∇² ln G = E[∇²ℓ] + Cov(∇ℓ)`` under the density ``∝ exp(ℓ)``, the
covariance from centred features shifted so that none is a constant plus a small part.
Checked against mpmath's ``hyp2f1`` at 50 digits for ``z`` up to ``1 - 1e-9``, ``x`` up to
10,000 (tests/unit/models/test_clv_numerics.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from clientbase.models.clv._base import FloatArray

__all__ = ["MAX_TERMS", "TailIntegral", "log_tail_integral"]

#: Terms at most (a guard: rows with ``z > _Z_QUADRATURE`` are integrated, not summed).
MAX_TERMS = 1 << 15
#: Beyond this ``z`` the series (over ``35 / (1 - z)`` terms) gives way to the quadrature.
_Z_QUADRATURE = 0.95
#: Gauss-Legendre nodes per panel, and the falls of ``g`` below its mode that end the panels.
_PANEL_NODES = 20
_FALLS = (0.5, 2.0, 5.0, 10.0, 18.0, 28.0, 45.0)
_NEWTON_STEPS = 40
#: Extra panel ends around the bend of ``g`` at ``t = L``, 1.5 apart near it and 8 apart up
#: to where ``e · e^-|t-L|``, what ``g`` has of not linear, is below ``e · 4e-24``; and at
#: fixed ``t`` (``e^-t`` in the derivatives in ``Q``).
_BEND = tuple(
    float(d) for d in (-54, -46, -38, -30, -22, -14, -6, -4.5, -3, -1.5, 0, 1.5, 3, 4.5, 6)
) + tuple(float(d) for d in (14, 22, 30, 38, 46, 54))
_FIXED = (8.0, 16.0, 24.0, 32.0, 40.0)
_RTOL = 1e-15
#: Largest block of terms times rows held at once (2-d arrays of 8 MB at most).
_BLOCK_ELEMENTS = 1 << 20
#: ``z`` is never below this: at ``α = β`` (``z = 0``) the derivatives in ``z`` are the
#: limits, and the value moves by ``1e-100`` relative.
_Z_FLOOR = 1e-100


class TailIntegral(NamedTuple):
    """``log G(y)`` per row, its gradient ``(4, n)`` and Hessian ``(4, 4, n)`` (or ``None``),
    both with respect to ``(p, α, q, β)``."""

    log_g: FloatArray
    grad: FloatArray | None
    hess: FloatArray | None


def log_tail_integral(
    y: FloatArray, p: FloatArray, q: float, alpha: float, beta: float, order: int = 1
) -> TailIntegral:
    """``log G(y)`` and, up to ``order`` (0, 1 or 2), its derivatives in ``(p, α, q, β)``.

    Parameters
    ----------
    y
        Lower limits of the integral (``t_x`` or ``T``), ``>= 0``.
    p
        ``r + x`` per row; ``q`` is ``s + 1``.
    alpha, beta
        The Gamma rates of the purchase and the dropout rate.
    order
        0: the value only; 1: and the gradient; 2: and the Hessian.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    hard = np.abs(alpha - beta) > _Z_QUADRATURE * (max(alpha, beta) + y)
    if np.any(hard):
        return _split(y, p, q, alpha, beta, order, hard)
    # (e, R): exponent and rate of the larger rate; (f, Q): the other pair
    swapped = alpha < beta
    if swapped:
        e: FloatArray | float = q
        f: FloatArray | float = p
        big, small = beta, alpha
    else:
        e, f, big, small = p, q, alpha, beta
    a_big = e + f - 1.0
    by = big + y
    sy = small + y
    inv_b = 1.0 / by
    z = np.maximum((big - small) * inv_b, _Z_FLOOR)
    sums = _series(e, np.asarray(a_big + 1.0, dtype=np.float64), z, order)
    log_by = np.log(by)
    log_sy = np.log(sy)
    log_g = np.log(sums[0]) - e * log_by - (f - 1.0) * log_sy - np.log(a_big)
    if order == 0:
        return TailIntegral(np.asarray(log_g, dtype=np.float64), None, None)

    inv_a = 1.0 / a_big
    e_hm, e_ha, s_z = sums[1], sums[2], sums[3]
    s_m, s_a = e_hm, -e_ha
    inv_s = 1.0 / sy
    z_r = sy * inv_b * inv_b  # ∂z/∂R
    z_q = -inv_b  # ∂z/∂Q
    n = y.size
    grad = np.empty((4, n))
    d_e, d_r, d_f, d_q = (0, 1, 2, 3) if not swapped else (2, 3, 0, 1)
    grad[d_e] = s_m + s_a - log_by - inv_a
    grad[d_f] = s_a - log_sy - inv_a
    grad[d_r] = s_z * z_r - e * inv_b
    grad[d_q] = s_z * z_q - (f - 1.0) * inv_s
    if order == 1:
        return TailIntegral(np.asarray(log_g, dtype=np.float64), grad, None)

    s_mm = sums[4] - e_hm * e_hm
    s_aa = sums[5] - e_ha * e_ha
    s_ma = e_hm * e_ha - sums[6]
    s_mz = sums[7] - s_z * e_hm
    s_az = s_z * e_ha - sums[8]
    s_zz = sums[9] - s_z * s_z
    inv_a2 = inv_a * inv_a
    hess = np.empty((4, 4, n))

    def put(i: int, j: int, value: FloatArray) -> None:
        hess[i, j] = value
        hess[j, i] = value

    put(d_e, d_e, inv_a2 + s_mm + 2.0 * s_ma + s_aa)
    put(d_e, d_f, inv_a2 + s_ma + s_aa)
    put(d_f, d_f, inv_a2 + s_aa)
    s_ez = s_mz + s_az
    put(d_e, d_r, s_ez * z_r - inv_b)
    put(d_e, d_q, s_ez * z_q)
    put(d_f, d_r, s_az * z_r)
    put(d_f, d_q, s_az * z_q - inv_s)
    # ∂²z/∂R² = -2 z_R / (R+y), ∂²z/∂R∂Q = 1/(R+y)², ∂²z/∂Q² = 0
    put(d_r, d_r, e * inv_b * inv_b + s_zz * z_r * z_r - 2.0 * s_z * z_r * inv_b)
    put(d_r, d_q, s_zz * z_r * z_q + s_z * inv_b * inv_b)
    put(d_q, d_q, (f - 1.0) * inv_s * inv_s + s_zz * z_q * z_q)
    return TailIntegral(np.asarray(log_g, dtype=np.float64), grad, hess)


def _split(
    y: FloatArray,
    p: FloatArray,
    q: float,
    alpha: float,
    beta: float,
    order: int,
    hard: NDArray[np.bool_],
) -> TailIntegral:
    """The series on the rows with ``z <= _Z_QUADRATURE``, the quadrature on the others."""
    p = np.broadcast_to(p, y.shape)
    n = y.size
    log_g = np.empty(n)
    grad = np.empty((4, n)) if order >= 1 else None
    hess = np.empty((4, 4, n)) if order == 2 else None
    easy = np.flatnonzero(~hard)
    if easy.size:
        part = log_tail_integral(y[easy], p[easy], q, alpha, beta, order)
        log_g[easy] = part.log_g
        if grad is not None and part.grad is not None:
            grad[:, easy] = part.grad
        if hess is not None and part.hess is not None:
            hess[:, :, easy] = part.hess
    index = np.array([0, 1, 2, 3] if alpha >= beta else [2, 3, 0, 1])
    hard_rows = np.flatnonzero(hard)
    # rows by chunks: the nodes times the rows stay within _BLOCK_ELEMENTS
    panels = 4 * len(_FALLS) + len(_BEND) + len(_FIXED) + 1
    chunk = max(1, _BLOCK_ELEMENTS // (_PANEL_NODES * panels))
    for start in range(0, hard_rows.size, chunk):
        rows = hard_rows[start : start + chunk]
        qs = np.full(rows.size, q)
        if alpha >= beta:
            part = _quadrature(y[rows], p[rows], alpha, qs, beta, order)
        else:
            part = _quadrature(y[rows], qs, beta, p[rows], alpha, order)
        log_g[rows] = part.log_g
        if grad is not None and part.grad is not None:
            grad[np.ix_(index, rows)] = part.grad
        if hess is not None and part.hess is not None:
            hess[np.ix_(index, index, rows)] = part.hess
    return TailIntegral(log_g, grad, hess)


def _quadrature(
    y: FloatArray, e: FloatArray, big: float, f: FloatArray, small: float, order: int
) -> TailIntegral:
    """``log G(y)`` and its derivatives in ``(e, R, f, Q)`` (``R = big > Q = small``) by the
    integral in ``t`` of the module's docstring, for rows with ``z`` near 1."""
    d = big - small
    q1 = small + y
    log_d = np.log(d)
    log_q1 = np.log(q1)
    ell = log_d - log_q1  # L
    c = f - 1.0

    # the density's panels (k = 0) and those of the weight the variance of ln(R+y+v) puts on
    # it, up to e^(2(t-L)) before L (k = 2): the value, gradient and Hessian share them
    edges = np.concatenate([_panel_ends(e, c, ell, 0.0), _panel_ends(e, c, ell, 2.0)])
    # the bend of g around L (softplus has its poles at L ± iπ): short panels there
    lo, hi = np.min(edges, axis=0), np.max(edges, axis=0)
    bend = np.clip(ell + np.array(_BEND)[:, None], lo, hi)
    fixed = np.clip(np.array(_FIXED)[:, None], lo, hi)
    edges = np.sort(np.concatenate([edges, bend, fixed]), axis=0)
    half = 0.5 * (edges[1:] - edges[:-1])
    mid = 0.5 * (edges[1:] + edges[:-1])
    nodes, weights = _GAUSS
    t = (mid[:, None] + half[:, None] * nodes[:, None]).reshape(-1, y.size)
    w = (half[:, None] * weights[:, None]).reshape(-1, y.size)
    softplus = np.logaddexp(0.0, t - ell)
    log_dens = -c * t - e * softplus
    g_star = np.max(log_dens, axis=0)
    dens = w * np.exp(log_dens - g_star)
    total = np.add.reduce(dens, axis=0)
    log_g = (1.0 - f) * log_q1 - e * log_d + g_star + np.log(total)
    if order == 0:
        return TailIntegral(log_g, None, None)
    dens /= total
    # ∂ℓ: -ln(R+y+v) = -ln D - softplus, -ln(Q+y+v) = -ln(Q+y) - t, -e/(R+y+v), -f/(Q+y+v)
    inv_r = expit(ell - t) / d  # 1/(R+y+v)
    inv_q = np.exp(-t) / q1  # 1/(Q+y+v)
    feats = [-softplus, -e * inv_r, -t, -f * inv_q]
    means = [np.einsum("kn,kn->n", dens, x) for x in feats]
    grad = np.array(means)
    grad[0] -= log_d
    grad[2] -= log_q1
    if order == 1:
        return TailIntegral(log_g, grad, None)
    # the covariance of ∂ℓ from features shifted by constants so that none is a constant plus
    # a small variation (which centring would cancel): e/D σ(t-L) = -e/(R+y+v) + e/D and
    # f/(Q+y) (1 - e^-t) = -f/(Q+y+v) + f/(Q+y)
    feats[1] = (e / d) * expit(t - ell)
    feats[3] = (f / q1) * -np.expm1(-t)
    centred = [x - np.einsum("kn,kn->n", dens, x) for x in feats]
    hess = np.empty((4, 4, y.size))
    for i in range(4):
        for j in range(i, 4):
            hess[i, j] = np.einsum("kn,kn,kn->n", dens, centred[i], centred[j])
            hess[j, i] = hess[i, j]
    # E[∇²ℓ]: ∂e∂R = -1/(R+y+v), ∂R² = e/(R+y+v)², ∂f∂Q = -1/(Q+y+v), ∂Q² = f/(Q+y+v)²
    cross_r = np.einsum("kn,kn->n", dens, inv_r)
    cross_q = np.einsum("kn,kn->n", dens, inv_q)
    hess[0, 1] -= cross_r
    hess[1, 0] -= cross_r
    hess[1, 1] += e * np.einsum("kn,kn,kn->n", dens, inv_r, inv_r)
    hess[2, 3] -= cross_q
    hess[3, 2] -= cross_q
    hess[3, 3] += f * np.einsum("kn,kn,kn->n", dens, inv_q, inv_q)
    return TailIntegral(log_g, grad, hess)


def _panel_ends(e: FloatArray, c: FloatArray, ell: FloatArray, k: float) -> FloatArray:
    """Where ``h(t) = g(t) + k min(t - L, 0)`` has fallen by ``_FALLS`` below its maximum, on
    both sides of its mode, and the mode (``(2 len(_FALLS) + 1, rows)``).

    ``h`` is concave: Newton's steps from a point where the fall exceeds the level move
    towards the root and never cross it (with the left slope at the kink ``t = L``)."""

    def h(t: FloatArray) -> FloatArray:
        return np.asarray(
            -c * t - e * np.logaddexp(0.0, t - ell) + k * np.minimum(t - ell, 0.0),
            dtype=np.float64,
        )

    def slope(t: FloatArray) -> FloatArray:
        return np.asarray(-c - e * expit(t - ell) + k * (t < ell), dtype=np.float64)

    # the mode: h' = 0 before L where σ(t-L) = (k-c)/e < 1/2, after L where σ(t-L) = -c/e
    # >= 1/2, else at the kink L; never below 0
    with np.errstate(divide="ignore", invalid="ignore"):
        before = ell + np.log(k - c) - np.log(e - k + c)
        after = ell + np.log(-c) - np.log(e + c)
    mode = np.where(2.0 * (k - c) < e, before, np.where(-2.0 * c > e, after, ell))
    mode = np.where(k - c <= 0.0, 0.0, np.maximum(mode, 0.0))
    top = h(mode)
    falls = np.array(_FALLS)[:, None]
    t_a = np.maximum(mode, ell) + 1.0
    right = t_a + np.maximum(h(t_a) - top + falls, 0.0) / -slope(t_a)
    for _ in range(_NEWTON_STEPS):
        step = (h(right) - top + falls) / slope(right)
        right = np.maximum(right - step, mode)
        if np.max(np.abs(step)) < 1e-6:  # the panel ends need no more
            break
    left = np.zeros_like(right)
    above = h(left) - top + falls >= 0.0
    if not np.all(above):
        for _ in range(_NEWTON_STEPS):
            gap = h(left) - top + falls
            safe = np.where(above | (gap >= 0.0), 1.0, slope(left))
            step = np.where(above, 0.0, -np.minimum(gap, 0.0) / safe)
            left = np.minimum(left + step, mode)
            if np.max(step) < 1e-6:
                break
    return np.concatenate([left[::-1], mode[None], right])


_GAUSS = np.polynomial.legendre.leggauss(_PANEL_NODES)


def _series(m: FloatArray | float, a1: FloatArray, z: FloatArray, order: int) -> FloatArray:
    """``S = Σ_k t_k``, ``t_k = Π_{j<k} z (m+j)/(a1+j)`` and the moments of ``π_k = t_k/S``
    that the derivatives need (rows of the result, one column per element of ``z``):

    0. ``S``; 1. ``E[H_m]``; 2. ``E[H_A]``; 3. ``E[k]/z``;
    4. ``E[H_m² - Q_m]``; 5. ``E[H_A² + Q_A]``; 6. ``E[H_m H_A]``; 7. ``E[k H_m]/z``;
    8. ``E[k H_A]/z``; 9. ``E[k(k-1)]/z²``

    with ``H_m(k) = Σ_{j<k} 1/(m+j)``, ``Q_m(k) = Σ_{j<k} 1/(m+j)²`` and ``H_A``, ``Q_A``
    the same over ``1/(a1+j)`` (rows 1-3 for ``order >= 1``, 4-9 for ``order = 2``).

    The terms are computed by blocks of ``B`` at once for all rows still running, as 2-d
    arrays ``(B, rows)``: running products and sums down the block, then one reduction per
    moment. After each block the rows whose tail is negligible leave, and the next block is
    twice as long, so a hard row (``z`` near 1) costs only its own terms. ``m`` is a scalar
    (``α < β``: ``m = s + 1``) or one value per row.
    """
    n = z.size
    out = np.empty(((1, 4, 10)[order], n))
    scalar_m = np.ndim(m) == 0
    m_run: FloatArray | float = float(m) if scalar_m else np.asarray(m, dtype=np.float64)
    a1_run, z_run = a1, z
    rows = np.arange(n)
    acc = np.zeros_like(out)
    acc[0] = 1.0  # the term k = 0: t_0 = 1, H = Q = 0
    t: FloatArray | None = None  # the last term of the previous block (None: t_0 = 1)
    h_q: FloatArray | None = None  # (H_A, Q_A) at the last term
    hm: FloatArray | float = 0.0  # H_m at the last term
    pm: FloatArray | float = 0.0  # H_m² - Q_m at the last term
    k0 = 0
    z_max = float(np.max(z)) if n else 0.0
    block = _first_block(z_max, order)
    while True:
        nr = rows.size
        size = max(4, min(block, MAX_TERMS - k0, _BLOCK_ELEMENTS // nr))
        j = np.arange(k0, k0 + size, dtype=np.float64)
        k = j + 1.0  # the terms of this block are t_{k0+1} .. t_{k0+size}
        # the running sums H_A (and Q_A, and H_m for a per-row m) share one loop
        n_inc = order + (0 if scalar_m or order == 0 else 1)
        inc = np.empty((size, max(n_inc, 1), nr))
        inv_a1 = np.divide(1.0, np.add.outer(j, a1_run), out=inc[:, 0])
        if scalar_m:
            mj = m_run + j
            ratio = inv_a1 * np.multiply.outer(mj, z_run)
        else:
            mj2 = np.add.outer(j, m_run)
            ratio = mj2 * inv_a1
            ratio *= z_run
            if order >= 1:
                inv_m2 = np.divide(1.0, mj2, out=inc[:, n_inc - 1])
        terms = _cumulative(np.multiply, t, ratio)
        acc[0] += np.add.reduce(terms, axis=0)
        if order >= 1:
            if order == 2:
                np.multiply(inv_a1, inv_a1, out=inc[:, 1])
            h_q = _cumulative(np.add, h_q, inc)
            h_a = h_q[:, 0]
            acc[2] += np.einsum("ki,ki->i", terms, h_a)
            acc[3] += np.einsum("ki,k->i", terms, k)
            if scalar_m:
                inv_m = 1.0 / mj
                h_m_all = np.cumsum(np.concatenate((np.array([hm], dtype=np.float64), inv_m)))
                h_m_prev, h_mv = h_m_all[:-1], h_m_all[1:]  # H_m at terms k-1 and k
                acc[1] += np.einsum("ki,k->i", terms, h_mv)
            else:
                h_m = h_q[:, n_inc - 1]
                acc[1] += np.einsum("ki,ki->i", terms, h_m)
        if order == 2:
            assert h_q is not None
            acc[5] += np.einsum("ki,ki,ki->i", terms, h_a, h_a)
            acc[5] += np.einsum("ki,ki->i", terms, h_q[:, 1])
            acc[8] += np.einsum("ki,ki,k->i", terms, h_a, k)
            acc[9] += np.einsum("ki,k->i", terms, k * (k - 1.0))
            # H_m² - Q_m grows by 2 H_m(k) / (m+k) from term k to k+1 (no cancellation)
            if scalar_m:
                p_mv = pm + np.cumsum(2.0 * inv_m * h_m_prev)
                acc[4] += np.einsum("ki,k->i", terms, p_mv)
                acc[6] += np.einsum("ki,ki,k->i", terms, h_a, h_mv)
                acc[7] += np.einsum("ki,k->i", terms, k * h_mv)
            else:
                grow = np.empty((size, nr))
                np.multiply(inv_m2[0], hm, out=grow[0])
                np.multiply(inv_m2[1:], h_m[:-1], out=grow[1:])
                grow *= 2.0
                p_m = _cumulative(np.add, pm if k0 else None, grow)
                acc[4] += np.einsum("ki,ki->i", terms, p_m)
                acc[6] += np.einsum("ki,ki,ki->i", terms, h_a, h_m)
                acc[7] += np.einsum("ki,ki,k->i", terms, h_m, k)
        k0 += size
        t = terms[-1]
        # the tail after term k0 is below t_k0 z/(1-z) (the ratios are below z); the
        # moments weigh term k by at most (k + H)², whose tail sum adds (1-z)^-2
        one_minus = 1.0 - z_run
        if order == 0:
            running = t > _RTOL * acc[0] * one_minus
        else:
            assert h_q is not None
            hm = float(h_mv[-1]) if scalar_m else h_q[-1, n_inc - 1]
            weight = (k0 + 1.0) + hm + h_q[-1, 0]
            bound = one_minus * one_minus
            if order == 2:
                weight = weight * weight
                bound *= one_minus
                pm = float(p_mv[-1]) if scalar_m else p_m[-1]
            running = t * weight > _RTOL * z_run * acc[0] * bound
        if k0 >= MAX_TERMS:
            running[:] = False
        keep = np.flatnonzero(running)
        if keep.size == 0:
            out[:, rows] = acc
            break
        if keep.size < nr:
            done = np.flatnonzero(~running)
            out[:, rows[done]] = acc[:, done]
            rows, acc, a1_run, z_run, t = (
                rows[keep],
                acc[:, keep],
                a1_run[keep],
                z_run[keep],
                t[keep],
            )
            if h_q is not None:
                h_q = h_q[-1][:, keep]
            if not scalar_m:
                m_run = m_run[keep]  # type: ignore[index]
                if order >= 1:
                    hm = hm[keep]  # type: ignore[index]
                if order == 2:
                    pm = pm[keep]  # type: ignore[index]
        elif h_q is not None:
            h_q = h_q[-1]
        block *= 2
    total = out[0]
    if order >= 1:
        out[1:] /= total
        out[3] /= z
    if order == 2:
        out[7:9] /= z
        out[9] /= z * z
    return out


def _first_block(z_max: float, order: int) -> int:
    """Terms in the first block: enough for the row with the largest ``z`` when the ratios
    are near ``z`` (they are smaller for large ``x``), between 8 and 32."""
    if z_max <= 1e-3:
        return 8
    size = 8
    while size < 32 and z_max**size * (size + 1.0) ** order > _RTOL * (1.0 - z_max) ** 3:
        size += 2
    return size


def _cumulative(op: np.ufunc, start: FloatArray | float | None, steps: FloatArray) -> FloatArray:
    """``out[0] = start op steps[0]``, ``out[i] = out[i-1] op steps[i]`` down the first axis
    (``start = None``: ``out[0] = steps[0]``).

    numpy's ``accumulate`` runs one inner loop per column, which is fast for a few wide
    columns and slow for many short ones; then a loop over the (short) first axis is used.
    """
    if steps[0].size <= 4 * steps.shape[0]:
        out = op.accumulate(steps, axis=0)
        if start is not None:
            op(out, start, out=out)
        return np.asarray(out, dtype=np.float64)
    out = np.empty_like(steps)
    if start is None:
        out[0] = steps[0]
    else:
        op(start, steps[0], out=out[0])
    for i in range(1, steps.shape[0]):
        op(out[i - 1], steps[i], out=out[i])
    return out
