"""Property tests: the likelihoods and predictions stay finite and accurate everywhere."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from clientbase.models.clv import BetaGeoModel, ParetoNBDModel
from clientbase.models.clv._pareto_series import log_tail_integral
from clientbase.models.clv.beta_geo import _log_likelihood_function as bg_loglik
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
    log_g, _ = log_tail_integral(np.array([y]), np.array([p]), q, alpha, beta)
    log_f = -p * math.log(alpha + y) - q * math.log(beta + y)
    integral, _ = quad(
        lambda u: math.exp(-p * math.log(alpha + u) - q * math.log(beta + u) - log_f),
        y,
        math.inf,
        epsabs=0,
        epsrel=1e-12,
        limit=400,
    )
    assert log_g[0] == pytest.approx(log_f + math.log(integral), rel=1e-8, abs=1e-8)


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
