"""Property tests: the likelihoods and predictions stay finite and accurate everywhere."""

from __future__ import annotations

import math

import mpmath as mp  # type: ignore[import-untyped]
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientbase.models.clv import BetaGeoModel, ParetoNBDModel
from clientbase.models.clv._pareto_series import log_tail_integral
from clientbase.models.clv.beta_geo import _log_likelihood_function as bg_loglik
from clientbase.models.clv.beta_geo import _new_customer_mean as bg_mean
from clientbase.models.clv.pareto_nbd import _log_likelihood_function as pnbd_loglik

log_param = st.floats(min_value=-12.0, max_value=12.0)
customer = st.tuples(
    st.integers(min_value=0, max_value=100_000),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=1e-3, max_value=1e5),
)


def _rows(customers: list[tuple[int, float, float]]) -> tuple[np.ndarray, ...]:
    x = np.array([c[0] for c in customers], dtype=float)
    T = np.array([c[2] for c in customers])
    t_x = np.where(x > 0, T * np.array([c[1] for c in customers]), 0.0)
    return x, t_x, T


@settings(max_examples=60, deadline=None)
@given(st.lists(customer, min_size=1, max_size=6), st.lists(log_param, min_size=4, max_size=4))
def test_log_likelihoods_and_gradients_are_finite(
    customers: list[tuple[int, float, float]], theta: list[float]
) -> None:
    rows = _rows(customers)
    for make in (bg_loglik, pnbd_loglik):
        ll, grad = make(*rows)(np.array(theta))
        assert np.all(np.isfinite(ll)), (make.__module__, theta, customers)
        assert np.all(np.isfinite(grad)), (make.__module__, theta, customers)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(min_value=0.05, max_value=60.0),
    st.floats(min_value=0.05, max_value=5.0),
    st.floats(min_value=0.05, max_value=60.0),
    st.floats(min_value=0.05, max_value=60.0),
    st.floats(min_value=0.0, max_value=50.0),
)
def test_tail_integral_matches_quadrature(
    p: float, s: float, alpha: float, beta: float, y: float
) -> None:
    q = s + 1.0
    log_g = log_tail_integral(np.array([y]), np.array([p]), q, alpha, beta, order=0).log_g
    # The reference, in 30-digit arithmetic: with W = beta + y and z = (beta - alpha) / W,
    # the integral of (alpha + u)^-p (beta + u)^-q from y to infinity is
    # W^(1-p-q) / (p+q-1) * 2F1(p, p+q-1; p+q; z) (substitute t = W / (beta + u)).
    with mp.workdps(30):
        w = mp.mpf(beta) + y
        b = mp.mpf(p) + q - 1
        hyp = mp.hyp2f1(p, b, b + 1, (mp.mpf(beta) - alpha) / w)
        expected = float(-b * mp.log(w) - mp.log(b) + mp.log(hyp))
    assert log_g[0] == pytest.approx(expected, rel=1e-8, abs=1e-8)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=-3.0, max_value=3.0), min_size=4, max_size=4),
    st.lists(customer, min_size=1, max_size=4),
)
def test_predictions_stay_finite_for_extreme_parameters(
    theta: list[float], customers: list[tuple[int, float, float]]
) -> None:
    x, t_x, T = _rows(customers)
    for cls in (BetaGeoModel, ParetoNBDModel):
        model = cls()
        model._set_fitted(
            dict(zip(cls.param_names, np.exp(theta).tolist(), strict=True)),
            0.0,
            np.eye(4),
            "test",
            1,
            1,
        )
        if cls is BetaGeoModel and abs(model.params_["a"] - 1.0) < 1e-6:
            continue  # (a+b-1)/(a-1) is singular at a = 1 exactly
        alive = model.probability_alive(x, t_x, T)
        assert np.all((alive >= 0) & (alive <= 1))
        expected = model.expected_purchases(52.0, x, t_x, T)
        assert np.all(np.isfinite(expected)), (cls.__name__, theta, customers)
        assert np.all(expected >= -1e-9)


def test_pareto_alive_and_expectation_for_very_large_histories() -> None:
    model = ParetoNBDModel()
    model._set_fitted({"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}, 0.0, np.eye(4), "", 1, 1)
    alive = model.probability_alive([10_000, 10_000], [1000.0, 500.0], [1000.0, 1000.0])
    assert alive[0] == pytest.approx(1.0) and alive[1] < 1e-100
    expected = model.expected_purchases(52, [10_000], [1000.0], [1000.0])
    assert expected[0] == pytest.approx(10_000 / 1000 * 52, rel=0.05)


def _bg_mean_reference(t: float, r: float, alpha: float, a: float, b: float) -> float:
    """FHL 2005, eq. (9) in mpmath, raising the precision until two evaluations agree.

    The bracket ``1 - (α/(α+t))^r 2F1(r, b; a+b-1; t/(α+t))`` can cancel catastrophically, so
    a fixed precision is not enough (at 40 digits it can be wrong in the first digit).
    """
    previous = None
    for digits in (40, 80, 160, 320):
        with mp.workdps(digits):
            tm, rm, am, aa, bm = (mp.mpf(v) for v in (t, r, alpha, a, b))
            z = tm / (am + tm)
            bracket = 1 - (am / (am + tm)) ** rm * mp.hyp2f1(rm, bm, aa + bm - 1, z, maxterms=10**6)
            value = float((aa + bm - 1) / (aa - 1) * bracket)
        if previous is not None and abs(value - previous) <= 1e-12 * abs(value):
            return value
        previous = value
    raise AssertionError(f"mpmath did not settle on eq. (9) at {(t, r, alpha, a, b)}")


def _bg_model(theta: list[float]) -> BetaGeoModel:
    model = BetaGeoModel()
    params = dict(zip(BetaGeoModel.param_names, np.exp(theta).tolist(), strict=True))
    model._set_fitted(params, 0.0, np.eye(4), "test", 1, 1)
    return model


wide_log_param = st.floats(min_value=-8.0, max_value=8.0)
long_horizon = st.floats(min_value=1e-3, max_value=math.exp(8.0))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(wide_log_param, min_size=4, max_size=4),
    st.lists(customer, min_size=1, max_size=6),
    long_horizon,
)
def test_bg_expectation_is_finite_for_wide_parameters_and_long_horizons(
    theta: list[float], customers: list[tuple[int, float, float]], t: float
) -> None:
    x, t_x, T = _rows(customers)
    model = _bg_model(theta)
    expected = model.expected_purchases(t, x, t_x, T)
    assert np.all(np.isfinite(expected)), (theta, customers, t)
    # E[X(t) | alive] lies between g(1) and g(0) of g(p) = (1 - (1 + p t/α')^-r')/p
    r, alpha = model.params_["r"], model.params_["alpha"]
    alive = model.probability_alive(x, t_x, T)
    upper = alive * (r + x) * t / (alpha + T)
    assert np.all(expected <= upper * (1 + 1e-9) + 1e-300), (theta, customers, t)
    assert np.all(expected >= 0.0)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(wide_log_param, min_size=4, max_size=4),
    st.integers(min_value=0, max_value=1000),
    st.floats(min_value=1e-2, max_value=math.exp(8.0)),
    long_horizon,
)
def test_bg_expectation_matches_mpmath(theta: list[float], x: int, T: float, t: float) -> None:
    r, alpha, a, b = np.exp(theta).tolist()
    if abs(a - 1.0) < 1e-9:
        return  # eq. (9) is 0/0 there; covered by test_bg_expectation_at_a_equal_one
    row = (t, r + x, alpha + T, a, b + x)
    got = bg_mean(np.array([t]), np.array([r + x]), np.array([alpha + T]), a, np.array([b + x]))
    assert got[0] == pytest.approx(_bg_mean_reference(*row), rel=1e-6), row


@pytest.mark.parametrize(
    ("t", "r", "alpha", "b"),
    [
        (10.0, 2.0, 5.0, 3.0),
        (1e3, 0.5, 0.01, 0.2),
        (1e-3, 5.0, 100.0, 50.0),
        (2900.0, 3e-4, 1e-3, 2e3),
    ],
)
def test_bg_expectation_at_a_equal_one(t: float, r: float, alpha: float, b: float) -> None:
    """At ``a = 1`` eq. (9) is 0/0; compare with its integral ``E_p[(1 - (1+pt/α)^-r)/p]``."""
    with mp.workdps(40):
        k = mp.mpf(t) / alpha

        def integrand(p: mp.mpf) -> mp.mpf:
            return (1 - (1 + k * p) ** (-r)) / p * b * (1 - p) ** (b - 1)

        cuts = [mp.mpf(0), *(mp.mpf(10) ** -e for e in range(12, 0, -1)), 1 - mp.mpf(10) ** -3, 1]
        reference = float(mp.quad(integrand, cuts))
    got = bg_mean(np.array([t]), np.array([r]), np.array([alpha]), 1.0, np.array([b]))
    assert got[0] == pytest.approx(reference, rel=1e-6)


def _log_g_reference(y: float, p: float, q: float, alpha: float, beta: float) -> mp.mpf:
    """``log G(y)`` (FH note, eqs. 21-23) from mpmath's ``hyp2f1`` at 50 digits."""
    e, big, f, small = (p, alpha, q, beta) if alpha >= beta else (q, beta, p, alpha)
    a_big = e + f - 1
    z = (big - small) / (big + y)
    return (
        -e * mp.log(big + y)
        - (f - 1) * mp.log(small + y)
        - mp.log(a_big)
        + mp.log(mp.hyp2f1(e, 1, a_big + 1, z))
    )


@pytest.mark.parametrize(
    ("y", "p", "q", "alpha", "beta"),
    [
        (0.0, 0.55, 1.61, 10.6, 11.7),  # CDNOW optimum, α < β: the series in q
        (30.0, 5.55, 1.61, 10.6, 11.7),
        (0.0, 3.7, 1.4, 3.0, 1.0),  # α > β: the series in p
        (2.0, 0.02, 1.2, 50.0, 0.05),  # z near 1, a small p
        (7.0, 12.0, 2.5, 4.0, 4.0),  # α = β: z = 0, the derivatives in z are limits
        (1e3, 1e4 + 0.5, 1.6, 10.6, 11.7),  # a very long history
    ],
)
def test_tail_integral_hessian_matches_mpmath(
    y: float, p: float, q: float, alpha: float, beta: float
) -> None:
    got = log_tail_integral(np.array([y]), np.array([p]), q, alpha, beta, order=2)
    assert got.grad is not None and got.hess is not None
    point = (p, alpha, q, beta)  # the order of the gradient and Hessian

    def f(pp: mp.mpf, aa: mp.mpf, qq: mp.mpf, bb: mp.mpf) -> mp.mpf:
        return _log_g_reference(mp.mpf(y), pp, qq, aa, bb)

    with mp.workdps(50):
        value = float(f(*(mp.mpf(v) for v in point)))
        hess = np.array(
            [
                [
                    float(mp.diff(f, point, tuple(int(k == i) + int(k == j) for k in range(4))))
                    for j in range(4)
                ]
                for i in range(4)
            ]
        )
        grad = np.array(
            [float(mp.diff(f, point, tuple(int(k == i) for k in range(4)))) for i in range(4)]
        )
    assert got.log_g[0] == pytest.approx(value, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(got.grad[:, 0], grad, rtol=1e-9, atol=1e-12)
    # each entry relative to the geometric mean of its diagonal entries (a scale-free check)
    scale = np.sqrt(np.outer(np.abs(np.diag(hess)), np.abs(np.diag(hess))))
    assert np.max(np.abs(got.hess[:, :, 0] - hess) / scale) < 1e-8


@settings(max_examples=40, deadline=None)
@given(st.lists(customer, min_size=1, max_size=6), st.lists(log_param, min_size=4, max_size=4))
def test_tail_integral_orders_agree_and_stay_finite(
    customers: list[tuple[int, float, float]], theta: list[float]
) -> None:
    x, t_x, _ = _rows(customers)
    r, alpha, s, beta = np.exp(theta).tolist()
    results = [log_tail_integral(t_x, r + x, s + 1.0, alpha, beta, order=o) for o in (0, 1, 2)]
    for res in results[1:]:
        np.testing.assert_allclose(res.log_g, results[0].log_g, rtol=1e-13, atol=1e-13)
    assert results[1].grad is not None and results[2].grad is not None
    np.testing.assert_allclose(results[2].grad, results[1].grad, rtol=1e-12, atol=1e-300)
    assert np.all(np.isfinite(results[2].grad))
    assert results[2].hess is not None and np.all(np.isfinite(results[2].hess))


@settings(max_examples=60, deadline=None)
@given(st.lists(customer, min_size=1, max_size=6), st.lists(log_param, min_size=4, max_size=4))
def test_pareto_total_hessian_is_finite(
    customers: list[tuple[int, float, float]], theta: list[float]
) -> None:
    from clientbase.models.clv.pareto_nbd import _Likelihood

    x, t_x, T = _rows(customers)
    result = _Likelihood(x, t_x, T).total(np.array(theta), np.ones(x.size))
    assert math.isfinite(result.value)
    assert np.all(np.isfinite(result.gradient)) and np.all(np.isfinite(result.hessian))


def _log_g_euler(y: float, p: float, q: float, alpha: float, beta: float) -> mp.mpf:
    """``log G(y)`` from the FH note's own form (eqs. 21-23), ``2F1(r+s+x, s+1; r+s+x+1;
    (α-β)/(α+y)) / ((r+s+x)(α+y)^(r+s+x))`` (roles swapped when ``α < β``), at 50 digits."""
    a = p + q - 1
    b, big = (q, alpha) if alpha >= beta else (p, beta)
    z = abs(alpha - beta) / (big + y)
    return mp.log(mp.hyp2f1(a, b, a + 1, z)) - mp.log(a) - a * mp.log(big + y)


def _near_one(big: float, z: float, share: float, swap: bool) -> tuple[float, float, float]:
    """``(y, α, β)`` with ``|α-β|/(max(α, β)+y) = z`` and ``y`` a share of its largest value."""
    y = share * big * (1 - z) / z
    small = big - z * (big + y)
    return (y, small, big) if swap else (y, big, small)


@pytest.mark.parametrize(
    ("z", "x", "r", "s", "big", "swap"),
    [
        (0.99, 0, 0.5, 2.0, 1.0, False),
        (0.9999, 1, 0.01, 0.01, 1.0, True),
        (0.999999, 10, 5.0, 0.3, 1e3, False),
        (1 - 1e-9, 0, 0.2, 30.0, 1e-2, True),  # f = r < 1: the integrand has an inner mode
        (1 - 1e-9, 10_000, 0.5, 2.0, 1.0, False),
        (0.9999, 1000, 0.01, 0.01, 1.0, True),
    ],
)
def test_tail_integral_near_z_one_matches_mpmath(
    z: float, x: int, r: float, s: float, big: float, swap: bool
) -> None:
    """Where the series would need over ``35/(1-z)`` terms (the quadrature path): the value
    to 1e-9, the gradient and Hessian to 1e-6 of mpmath's (differences at 50 digits on
    relative steps)."""
    y, alpha, beta = _near_one(big, z, 0.5, swap)
    p, q = r + x, s + 1.0
    got = log_tail_integral(np.array([y]), np.array([p]), q, alpha, beta, order=2)
    assert got.grad is not None and got.hess is not None
    point = [mp.mpf(v) for v in (p, alpha, q, beta)]

    def f(*u: mp.mpf) -> mp.mpf:
        pp, aa, qq, bb = (v * (1 + du) for v, du in zip(point, u, strict=True))
        return _log_g_euler(mp.mpf(y), pp, qq, aa, bb)

    with mp.workdps(50):
        zero = [mp.mpf(0)] * 4
        step = mp.mpf(10) ** -18
        value = f(*zero)
        grad = np.array(
            [
                float(mp.diff(f, zero, tuple(int(k == i) for k in range(4)), h=step) / point[i])
                for i in range(4)
            ]
        )
        hess = np.array(
            [
                [
                    float(
                        mp.diff(f, zero, tuple(int(k == i) + int(k == j) for k in range(4)), h=step)
                        / (point[i] * point[j])
                    )
                    for j in range(4)
                ]
                for i in range(4)
            ]
        )
        assert abs(float(mp.expm1(mp.mpf(float(got.log_g[0])) - value))) < 1e-9
    np.testing.assert_allclose(got.grad[:, 0], grad, rtol=1e-6)
    np.testing.assert_allclose(got.hess[:, :, 0], hess, rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(min_value=-9.0, max_value=-1.5),  # log10(1 - z): z from 0.968 to 1 - 1e-9
    st.integers(min_value=0, max_value=100_000),
    st.floats(min_value=-6.0, max_value=6.0),
    st.floats(min_value=-6.0, max_value=6.0),
    st.floats(min_value=-6.0, max_value=6.0),
    st.floats(min_value=0.0, max_value=1.0),
    st.booleans(),
)
def test_tail_integral_near_z_one_is_accurate_and_finite(
    log_gap: float, x: int, log_r: float, log_s: float, log_big: float, share: float, swap: bool
) -> None:
    """z near 1 for any parameters: the value within 1e-9 of mpmath's, finite derivatives,
    and the three orders agree."""
    y, alpha, beta = _near_one(math.exp(log_big), 1 - 10.0**log_gap, share, swap)
    p, q = math.exp(log_r) + x, math.exp(log_s) + 1.0
    results = [
        log_tail_integral(np.array([y]), np.array([p]), q, alpha, beta, order=o) for o in (0, 1, 2)
    ]
    with mp.workdps(50):
        value = _log_g_euler(mp.mpf(y), mp.mpf(p), mp.mpf(q), mp.mpf(alpha), mp.mpf(beta))
        error = abs(float(mp.expm1(mp.mpf(float(results[0].log_g[0])) - value)))
    # 1e-9, or a few units in the last place of log G where it exceeds 10^5 (x near 10^5)
    assert error < 1e-9 + 1e-15 * abs(float(value)), (error, y, p, q, alpha, beta)
    for res in results[1:]:
        assert res.log_g[0] == results[0].log_g[0]
    assert results[1].grad is not None and results[2].grad is not None
    assert results[2].hess is not None
    np.testing.assert_array_equal(results[1].grad, results[2].grad)
    assert np.all(np.isfinite(results[2].grad)) and np.all(np.isfinite(results[2].hess))


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("p", [0.01, 0.7, 12.0, 10_000.5])
@pytest.mark.parametrize("z", [0.951, 0.99])
def test_tail_integral_series_and_quadrature_agree(
    p: float, swap: bool, z: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ``_Z_QUADRATURE`` (where the series still converges, if slowly) the quadrature
    and the series give the same value and derivatives: no step where a row changes path."""
    from clientbase.models.clv import _pareto_series as series

    y, alpha, beta = _near_one(2.0, z, 0.3, swap)
    args = (np.array([y]), np.array([p]), 1.8, alpha, beta)
    quadrature = log_tail_integral(*args, order=2)
    monkeypatch.setattr(series, "_Z_QUADRATURE", 0.999)
    summed = log_tail_integral(*args, order=2)
    assert quadrature.grad is not None and quadrature.hess is not None
    assert summed.grad is not None and summed.hess is not None
    assert quadrature.log_g[0] == pytest.approx(summed.log_g[0], rel=1e-14, abs=1e-11)
    np.testing.assert_allclose(quadrature.grad, summed.grad, rtol=1e-8)
    hess = summed.hess[:, :, 0]
    scale = np.sqrt(np.outer(np.abs(np.diag(hess)), np.abs(np.diag(hess))))
    assert np.max(np.abs(quadrature.hess[:, :, 0] - hess) / scale) < 1e-7


def test_tail_integral_with_a_slow_tail_after_the_bend() -> None:
    """A found case: ``f = r + x`` tiny, ``e + f - 1 = 1.7e-4``: the integrand's slope
    approaches ``-(e+f-1)`` only as ``e^-(t-L)``, its mode lies 8.7 past ``L`` and the tail
    spans ``2.7e5`` in ``t`` (the panels near ``L`` alone left an error of 3e-8)."""
    y, p, q = 1.766761658090454e-09, 1.56546797347528e-05, 1.0001517984866277
    alpha, beta = 7.715357241977472e-10, 12.691144055306411
    got = log_tail_integral(np.array([y]), np.array([p]), q, alpha, beta, order=0)
    with mp.workdps(50):
        value = _log_g_euler(mp.mpf(y), mp.mpf(p), mp.mpf(q), mp.mpf(alpha), mp.mpf(beta))
        assert abs(float(mp.expm1(mp.mpf(float(got.log_g[0])) - value))) < 1e-12
