"""The Gaussian hypergeometric term of the Pareto/NBD likelihood, stable everywhere.

Fader & Hardie's note "A Note on Deriving the Pareto/NBD Model and Related Expressions"
(2005, eqs. 21-23) writes the likelihood with

``A0 = ∫_{t_x}^{T} (α+y)^-(r+x) (β+y)^-(s+1) dy = G(t_x) - G(T)``,

``G(y) = ∫_y^∞ (α+u)^-p (β+u)^-q du``  with ``p = r + x``, ``q = s + 1``,

and evaluates ``G`` with ``2F1(r+s+x, s+1; r+s+x+1; (α-β)/(α+y)) / (α+y)^(r+s+x)`` when
``α >= β`` (the roles of the two rates swap when ``α < β``). Euler's transformation
``2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)`` with ``C = A + 1`` gives

``G(y) = (α+y)^-p (β+y)^-q (c+y) / A · S``,  ``S = Σ_k (m)_k / (A+1)_k z^k``,

with ``A = p + q - 1`` and, for ``α >= β``: ``m = p``, ``c = β``, ``z = (α-β)/(α+y)``;
for ``α < β``: ``m = q``, ``c = α``, ``z = (β-α)/(β+y)``. Every term of ``S`` is positive,
the ratio of consecutive terms ``z (m+k)/(A+1+k)`` is below ``z < 1``, so the series starts
at 1, decreases geometrically and never overflows, whatever ``x``, ``T`` or the parameters.
The derivatives of ``log S`` are weighted sums over the same terms, which gives the exact
gradient of the likelihood.
"""

from __future__ import annotations

import numpy as np

from clientbase.models.clv._base import FloatArray

__all__ = ["MAX_TERMS", "log_tail_integral"]

#: Terms at most; reached only when ``z > 0.999`` (one rate over a thousand times the other).
MAX_TERMS = 1 << 15
_RTOL = 1e-15


def log_tail_integral(
    y: FloatArray, p: FloatArray, q: float, alpha: float, beta: float
) -> tuple[FloatArray, FloatArray]:
    """``log G(y)`` and its gradient with respect to ``(p, q, α, β)`` (one row per ``y``).

    Parameters
    ----------
    y
        Lower limits of the integral (``t_x`` or ``T``), ``>= 0``.
    p
        ``r + x`` per row; ``q`` is ``s + 1``.
    alpha, beta
        The Gamma rates of the purchase and the dropout rate.
    """
    a_big = p + q - 1.0
    if alpha >= beta:
        m = p
        z = (alpha - beta) / (alpha + y)
    else:
        m = np.full_like(y, q)
        z = (beta - alpha) / (beta + y)
    s_sum, e_hm, e_ha, k_mean = _series(m, a_big, z)
    log_ay = np.log(alpha + y)
    log_by = np.log(beta + y)
    log_g = -p * log_ay - q * log_by - np.log(a_big) + np.log(s_sum)
    grad = np.empty((y.size, 4))
    if alpha >= beta:
        log_g += log_by
        grad[:, 0] = -log_ay - 1.0 / a_big + e_hm - e_ha
        grad[:, 1] = -log_by - 1.0 / a_big - e_ha
        grad[:, 2] = -p / (alpha + y) + k_mean * (beta + y) / (alpha + y) ** 2
        grad[:, 3] = (1.0 - q) / (beta + y) - k_mean / (alpha + y)
    else:
        log_g += log_ay
        grad[:, 0] = -log_ay - 1.0 / a_big - e_ha
        grad[:, 1] = -log_by - 1.0 / a_big + e_hm - e_ha
        grad[:, 2] = (1.0 - p) / (alpha + y) - k_mean / (beta + y)
        grad[:, 3] = -q / (beta + y) + k_mean * (alpha + y) / (beta + y) ** 2
    return log_g, grad


def _series(
    m: FloatArray, a_big: FloatArray, z: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``S = Σ t_k`` with ``t_k = Π_{j<k} z (m+j)/(A+1+j)`` and the weighted means needed
    for the gradient: ``E[H_m]``, ``E[H_A]`` (``H_m(k) = Σ_{j<k} 1/(m+j)``) and
    ``Σ_k k t_k / (z S)``.

    The terms are running products of ratios below one, so they are computed in linear
    space (they can only underflow to zero, harmlessly). The loop runs over terms with all
    rows at once; every 8 terms, rows whose tail is negligible leave it, so a hard row
    costs only its own terms.
    """
    total = np.ones(z.size)
    sum_hm = np.zeros(z.size)
    sum_ha = np.zeros(z.size)
    sum_ku = np.zeros(z.size)
    rows = np.arange(z.size)
    t = np.ones(z.size)
    u = np.ones(z.size)
    hm = np.zeros(z.size)
    ha = np.zeros(z.size)
    tot, shm, sha, sku = total.copy(), sum_hm.copy(), sum_ha.copy(), sum_ku.copy()
    mm, aa, zz = m, a_big + 1.0, z
    k = 0
    while rows.size:
        for _ in range(8):
            mj = mm + k
            aj = aa + k
            k += 1
            u = t * (mj / aj)  # u_k = t_k / z
            t = u * zz
            hm += 1.0 / mj
            ha += 1.0 / aj
            tot += t
            shm += t * hm
            sha += t * ha
            sku += k * u
        # the tail after term k is below u_k z (k + H) / (1 - z)^2 (the ratios are below z)
        running = u * (k + hm + ha) > _RTOL * tot * (1.0 - zz) ** 2
        if k >= MAX_TERMS:
            running[:] = False
        if not running.all():
            done = ~running
            total[rows[done]] = tot[done]
            sum_hm[rows[done]] = shm[done]
            sum_ha[rows[done]] = sha[done]
            sum_ku[rows[done]] = sku[done]
            rows = rows[running]
            mm, aa, zz, t, hm, ha = (v[running] for v in (mm, aa, zz, t, hm, ha))
            tot, shm, sha, sku = (v[running] for v in (tot, shm, sha, sku))
    return total, sum_hm / total, sum_ha / total, sum_ku / total
