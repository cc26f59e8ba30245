"""Unit tests of the CLV models: edge cases, errors, gradients, compression, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import clientbase.models.clv as clv
from clientbase.errors import ConvergenceError, InvalidInput, ModelError, NotFittedError
from clientbase.models.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    expected_clv,
    load_model,
    monthly_discount_rate,
    summary_from_transactions,
)
from clientbase.models.clv.beta_geo import _log_likelihood_function as bg_loglik
from clientbase.models.clv.pareto_nbd import _log_likelihood_function as pnbd_loglik

PURCHASE_MODELS = [BetaGeoModel, ParetoNBDModel]


def _simulated(n: int = 3000, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD customers (r=0.25, α=4, a=0.8, b=2.5) observed for 20-40 weeks, on a day grid."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.25, 1 / 4.0, n)
    p = rng.beta(0.8, 2.5, n)
    T = rng.integers(140, 281, n) / 7
    x = np.zeros(n)
    t_x = np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
    return x, np.floor(t_x * 7) / 7, T


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _simulated()


@pytest.mark.parametrize("model_cls", PURCHASE_MODELS)
def test_fit_returns_self_and_recovers_structure(model_cls: type, data: tuple) -> None:
    model = model_cls()
    assert model.fit(*data) is model
    assert set(model.params_) == set(model_cls.param_names)
    assert model.n_customers_ == 3000
    assert model.n_unique_rows_ < 3000
    se = model.params_se_
    ci = model.confidence_intervals(0.9)
    for name, value in model.params_.items():
        assert se[name] > 0
        assert ci[name][0] < value < ci[name][1]


def test_bgnbd_recovers_simulation_parameters(data: tuple) -> None:
    params = BetaGeoModel().fit(*data).params_
    assert params["r"] == pytest.approx(0.25, rel=0.25)
    assert params["alpha"] == pytest.approx(4.0, rel=0.35)


@pytest.mark.parametrize("model_cls", PURCHASE_MODELS)
def test_weights_equal_repeated_rows(model_cls: type, data: tuple) -> None:
    x, t_x, T = (a[:600] for a in data)
    repeated = model_cls().fit(np.repeat(x, 3), np.repeat(t_x, 3), np.repeat(T, 3))
    weighted = model_cls().fit(x, t_x, T, weights=np.full(x.size, 3.0))
    for name in model_cls.param_names:
        assert repeated.params_[name] == pytest.approx(weighted.params_[name], rel=1e-6)
    assert repeated.log_likelihood_ == pytest.approx(weighted.log_likelihood_, rel=1e-9)


@pytest.mark.parametrize("loglik", [bg_loglik, pnbd_loglik])
@pytest.mark.parametrize(
    "theta",
    [[0.25, 4.0, 0.8, 2.5], [2.0, 0.5, 3.0, 0.2], [0.6, 50.0, 0.6, 2.0], [1.0, 1.0, 1.0, 1.0]],
)
def test_analytic_gradient_matches_finite_differences(
    loglik: object, theta: list[float], data: tuple
) -> None:
    f = loglik(*data)  # type: ignore[operator]
    point = np.log(theta)
    _, grad = f(point)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6
        numeric = (f(point + step)[0].sum() - f(point - step)[0].sum()) / 2e-6
        assert grad[:, i].sum() == pytest.approx(numeric, rel=1e-5, abs=1e-4)


@pytest.mark.parametrize("model_cls", PURCHASE_MODELS)
def test_predictions_before_fit_raise_not_fitted(model_cls: type) -> None:
    with pytest.raises(NotFittedError):
        model_cls().probability_alive(1, 2, 3)
    with pytest.raises(NotFittedError):
        GammaGammaModel().expected_spend(1, 2)


@pytest.mark.parametrize("model_cls", PURCHASE_MODELS)
@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1, 2], [3.0, 1.0], [2.0, 5.0], "greater than their age"),
        ([-1, 2], [0.0, 1.0], [2.0, 5.0], "negative frequency"),
        ([1, 2], [-1.0, 1.0], [2.0, 5.0], "negative recency"),
        ([1, 2], [1.0, 1.0], [-2.0, 5.0], "negative T"),
        ([1, np.nan], [1.0, 1.0], [2.0, 5.0], "missing or infinite"),
        ([1, 2], [1.0, np.inf], [2.0, 5.0], "missing or infinite"),
        ([1.5, 2], [1.0, 1.0], [2.0, 5.0], "whole number"),
        ([0, 2], [1.0, 1.0], [2.0, 5.0], "no repeat purchase but a non-zero recency"),
        ([], [], [], "No customers"),
        ([1, 2], [1.0], [2.0, 5.0], "same length"),
    ],
)
def test_invalid_input_is_rejected_clearly(
    model_cls: type, x: list, t_x: list, T: list, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        model_cls().fit(x, t_x, T)


@pytest.mark.parametrize("model_cls", PURCHASE_MODELS)
def test_no_repeat_buyers_is_a_clear_error(model_cls: type) -> None:
    with pytest.raises(InvalidInput, match="no customer made a repeat purchase"):
        model_cls().fit([0, 0, 0], [0, 0, 0], [10, 20, 30])


@pytest.mark.parametrize("model_cls", PURCHASE_MODELS)
def test_single_or_identical_customers_cannot_identify_the_model(model_cls: type) -> None:
    with pytest.raises(ModelError, match="same history"):
        model_cls().fit([2], [5.0], [10.0])
    with pytest.raises(ModelError, match="same history"):
        model_cls().fit([2] * 50, [5.0] * 50, [10.0] * 50)
    # two kinds of customer only: the optimum runs off to the edge of the parameter space
    with pytest.raises(ConvergenceError):
        model_cls().fit([2, 0] * 50, [5.0, 0.0] * 50, [10.0, 10.0] * 50)


@pytest.mark.parametrize("model_cls", PURCHASE_MODELS)
def test_edge_customers_get_sane_predictions(model_cls: type, data: tuple) -> None:
    model = model_cls().fit(*data)
    x = np.array([0, 1, 5, 5, 200, 0])
    t_x = np.array([0.0, 10.0, 30.0, 30.0, 39.0, 0.0])
    T = np.array([40.0, 10.0, 30.0, 40.0, 39.0, 0.0])  # t_x = T, and a brand-new customer
    alive = model.probability_alive(x, t_x, T)
    expected = model.expected_purchases(10, x, t_x, T)
    assert np.all((alive > 0) & (alive <= 1))
    assert alive[0] > alive[3] * 0  # finite
    assert alive[2] > alive[3]  # same history, longer silence: less likely alive
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    assert expected[4] > expected[1]
    single = model.expected_purchases(10, 5, 30.0, 40.0)
    assert single.shape == (1,) and single[0] == pytest.approx(expected[3])


@pytest.mark.parametrize("model_cls", PURCHASE_MODELS)
def test_pmf_sums_to_one_and_matches_the_mean(model_cls: type, data: tuple) -> None:
    model = model_cls().fit(*data)
    n = np.arange(400)
    for history in [(), (3, 20.0, 30.0), (0, 0.0, 25.0)]:
        pmf = model.probability_of_n_purchases(n, 26, *history)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-6)
        if history:
            mean = model.expected_purchases(26, *history)[0]
        else:
            mean = model.expected_purchases_new_customer(26)[0]
        assert (n * pmf).sum() == pytest.approx(mean, rel=1e-5)


def test_gamma_gamma_zero_spends_error_or_are_excluded() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, 500).astype(float)
    spend = np.where(x > 0, rng.gamma(6.0, 3.0, 500), 0.0)
    spend[np.flatnonzero(x > 0)[:2]] = 0.0  # two repeat buyers with free orders only
    with pytest.raises(InvalidInput, match="zero or less"):
        GammaGammaModel().fit(x, spend)
    model = GammaGammaModel(nonpositive="exclude").fit(x, spend)
    assert model.n_excluded_ == 2
    assert model.n_customers_ == int((x > 0).sum()) - 2
    with pytest.raises(ModelError, match="at least 3"):
        GammaGammaModel().fit([1, 0], [10.0, 0.0])
    with pytest.raises(InvalidInput):
        GammaGammaModel().fit([1, 2], [np.nan, 3.0])


def test_gamma_gamma_expected_spend_shrinks_to_the_mean() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(1, 8, 800).astype(float)
    nu = rng.gamma(4.0, 1 / 20.0, 800)
    zbar = np.array([rng.gamma(6.0, 1 / v, int(k)).mean() for v, k in zip(nu, x, strict=True)])
    model = GammaGammaModel().fit(x, zbar)
    spend = model.expected_spend([0, 1, 50], [0.0, 100.0, 100.0])
    assert spend[0] == pytest.approx(model.population_mean_spend())
    assert spend[0] < spend[1] < spend[2] < 100.0


def test_clv_combines_models_and_discounts(data: tuple) -> None:
    purchases = BetaGeoModel().fit(*data)
    rng = np.random.default_rng(1)
    x = data[0]
    spend = np.where(x > 0, rng.gamma(5.0, 6.0, x.size), 0.0)
    spend_model = GammaGammaModel().fit(x, spend)
    undiscounted = expected_clv(purchases, spend_model, *data, spend, margin=0.3)
    discounted = expected_clv(purchases, spend_model, *data, spend, margin=0.3, discount_rate=0.2)
    monthly = expected_clv(
        purchases,
        spend_model,
        *data,
        spend,
        margin=0.3,
        discount_rate=monthly_discount_rate(0.2),
        discount_period="month",
    )
    np.testing.assert_allclose(discounted, monthly)
    assert np.all(discounted < undiscounted) and np.all(discounted > 0)
    year = purchases.expected_purchases(365.2425 / 7, *data)
    np.testing.assert_allclose(
        undiscounted, 0.3 * spend_model.expected_spend(x, spend) * year, rtol=1e-9
    )
    via_method = spend_model.expected_clv(purchases, *data, spend, margin=0.3)
    np.testing.assert_allclose(via_method, undiscounted)
    with pytest.raises(InvalidInput):
        expected_clv(purchases, spend_model, *data, spend, horizon_months=0)


@pytest.mark.parametrize("model_cls", [BetaGeoModel, ParetoNBDModel, GammaGammaModel])
def test_json_round_trip(model_cls: type, data: tuple, tmp_path: Path) -> None:
    if model_cls is GammaGammaModel:
        x = data[0]
        spend = np.where(x > 0, 10.0 + x, 0.0) * np.random.default_rng(0).uniform(0.5, 2, x.size)
        model = model_cls().fit(x, spend)
    else:
        model = model_cls().fit(*data)
    path = tmp_path / "model.json"
    model.save(path)
    document = json.loads(path.read_text())
    assert document["model"] == model_cls.__name__
    assert document["data_fingerprint"].startswith("sha256:")
    assert document["library_version"]
    loaded = model_cls.load(path)
    assert loaded.params_ == model.params_
    assert loaded.params_se_ == model.params_se_
    assert loaded.data_fingerprint_ == model.data_fingerprint_
    assert isinstance(load_model(path), model_cls)
    other = BetaGeoModel if model_cls is not BetaGeoModel else ParetoNBDModel
    with pytest.raises(InvalidInput, match="holds a"):
        other.load(path)
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(InvalidInput):
        load_model(path)


def test_fingerprint_depends_on_the_data(data: tuple) -> None:
    a = BetaGeoModel().fit(*data)
    x = data[0].copy()
    x[0], x[1] = x[1], x[0]
    t_x = data[1].copy()
    t_x[0], t_x[1] = t_x[1], t_x[0]
    b = BetaGeoModel().fit(x, t_x, data[2])
    assert a.data_fingerprint_ != b.data_fingerprint_ or (x == data[0]).all()


def test_fit_accepts_pandas_columns(data: tuple) -> None:
    frame = pd.DataFrame({"x": data[0], "t_x": data[1], "T": data[2]})
    model = BetaGeoModel().fit(frame["x"], frame["t_x"], frame["T"])
    assert model.params_ == BetaGeoModel().fit(*data).params_


def test_summary_merges_same_day_and_splits_holdout() -> None:
    summary = summary_from_transactions(
        ["a", "a", "a", "a", "b", "c", "a"],
        [
            "2020-01-01",
            "2020-01-01",
            "2020-01-08",
            "2020-01-15",
            "2020-01-10",
            "2020-02-01",
            "2020-01-22",
        ],
        [10.0, 5.0, 0.0, 30.0, 7.0, 1.0, 4.0],
        calibration_end="2020-01-15",
        holdout_end="2020-01-31",
    )
    assert list(summary.customer_id) == ["a", "b"]  # c bought after the calibration end
    np.testing.assert_allclose(summary.frequency, [2, 0])
    np.testing.assert_allclose(summary.recency, [2.0, 0.0])
    np.testing.assert_allclose(summary.T, [2.0, 5 / 7])
    np.testing.assert_allclose(summary.monetary_value, [15.0, 0.0])
    np.testing.assert_allclose(summary.holdout_frequency, [1, 0])
    np.testing.assert_allclose(summary.holdout_monetary_value, [4.0, 0.0])
    assert summary.holdout_duration == pytest.approx(16 / 7)
    days = summary_from_transactions(
        ["a", "a"], ["2020-01-01", "2020-01-03"], calibration_end="2020-01-05", time_unit="days"
    )
    np.testing.assert_allclose([days.recency[0], days.T[0]], [2.0, 4.0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount": [-1.0]}, "negative amount"),
        ({"date": ["not a date"]}, "dates"),
        ({"holdout_end": "2019-01-01"}, "after calibration_end"),
        ({"time_unit": "months"}, "time_unit"),
    ],
)
def test_summary_rejects_bad_input(kwargs: dict, message: str) -> None:
    arguments: dict = {
        "customer_id": ["a"],
        "date": ["2020-01-01"],
        "amount": [1.0],
        "calibration_end": "2020-02-01",
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidInput, match=message):
        summary_from_transactions(**arguments)


def test_exported_members() -> None:
    exported = {name for name in dir(clv) if not name.startswith("_")}
    modules = {"beta_geo", "clv", "gamma_gamma", "pareto_nbd", "persistence", "summary"}
    assert set(clv.__all__) == exported - modules


@pytest.mark.parametrize(
    "theta",
    [[0.25, 4.0, 0.8, 2.5], [2.0, 0.5, 3.0, 0.2], [1e-3, 1e3, 50.0, 1e-3]],
)
def test_summed_bgnbd_objective_equals_weighted_per_row_sum(
    theta: list[float], data: tuple
) -> None:
    from clientbase.models.clv.beta_geo import _total_log_likelihood

    weights = np.random.default_rng(3).integers(1, 5, data[0].size).astype(float)
    point = np.log(theta)
    total, grad = _total_log_likelihood(*data, weights)(point)
    ll, per_row_grad = bg_loglik(*data)(point)
    assert total == pytest.approx(float(np.sum(weights * ll)), rel=1e-12)
    np.testing.assert_allclose(grad, np.sum(per_row_grad * weights[:, None], axis=0), rtol=1e-9)


@pytest.mark.parametrize("theta", [[6.0, 3.7, 15.0], [0.1, 20.0, 1e3], [50.0, 1.1, 1e-2]])
def test_summed_gamma_gamma_objective_equals_weighted_per_row_sum(theta: list[float]) -> None:
    from clientbase.models.clv.gamma_gamma import _log_likelihood_function, _total_log_likelihood

    rng = np.random.default_rng(5)
    x = rng.integers(1, 20, 500).astype(float)
    zbar = rng.gamma(2.0, 20.0, 500)
    weights = rng.integers(1, 4, 500).astype(float)
    point = np.log(theta)
    total, grad = _total_log_likelihood(x, zbar, weights)(point)
    ll, per_row_grad = _log_likelihood_function(x, zbar)(point)
    assert total == pytest.approx(float(np.sum(weights * ll)), rel=1e-12)
    np.testing.assert_allclose(grad, np.sum(per_row_grad * weights[:, None], axis=0), rtol=1e-9)


def test_compression_is_exact_on_float_and_whole_number_columns() -> None:
    from clientbase.models.clv._base import compress_rows

    rng = np.random.default_rng(11)
    x = rng.integers(0, 6, 5000).astype(float)
    t = rng.integers(0, 40, 5000) / 7
    T = np.round(rng.uniform(0, 3, 5000), 1)
    w = rng.integers(0, 3, 5000).astype(float)
    (ux, ut, uT), uw = compress_rows([x, t, T], w)
    expected: dict[tuple[float, float, float], float] = {}
    for row in zip(x, t, T, w, strict=True):
        expected[row[:3]] = expected.get(row[:3], 0.0) + row[3]
    expected = {key: value for key, value in expected.items() if value > 0}
    got = dict(zip(zip(ux, ut, uT, strict=True), uw, strict=True))
    assert got == expected


def test_bgnbd_expectation_grouped_by_distinct_rows_equals_row_by_row() -> None:
    from clientbase.models.clv.beta_geo import _log_odds_alive_inverse, _new_customer_mean

    rng = np.random.default_rng(7)
    x = rng.integers(0, 6, 500).astype(float)
    T = rng.integers(10, 14, 500).astype(float)
    t_x = np.where(x > 0, np.floor(T * rng.uniform(0, 1, 500)), 0.0)
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    model = BetaGeoModel()
    model._set_fitted(params, 0.0, np.eye(4), "", 1, 1)
    r, alpha, a, b = params.values()
    alive = _log_odds_alive_inverse(x, t_x, T, r, alpha, a, b)
    for horizon in (np.array([39.0]), rng.choice([13.0, 26.0, 52.0], 500)):
        by_row = alive * _new_customer_mean(horizon, r + x, alpha + T, a, b + x)
        grouped = model.expected_purchases(horizon, x, t_x, T)
        np.testing.assert_array_equal(grouped, by_row)


@pytest.mark.parametrize(
    "theta",
    [[0.25, 4.0, 0.8, 2.5], [2.0, 0.5, 3.0, 0.2], [0.6, 50.0, 0.6, 2.0], [1.0, 1.0, 1.0, 1.0]],
)
def test_pareto_hessian_matches_finite_differences_of_the_gradient(
    theta: list[float], data: tuple
) -> None:
    from clientbase.models.clv._base import compress_rows
    from clientbase.models.clv.pareto_nbd import _Likelihood

    (x, t_x, T), w = compress_rows(list(data), np.ones(data[0].size))
    likelihood = _Likelihood(x, t_x, T)
    point = np.log(theta)
    exact = likelihood.total(point, w)
    # the total equals the per-row function's sums
    ll, grad = pnbd_loglik(x, t_x, T)(point)
    assert exact.value == pytest.approx(float(np.sum(w * ll)), rel=1e-12)
    np.testing.assert_allclose(exact.gradient, np.sum(grad * w[:, None], axis=0), rtol=1e-9)
    numeric = np.empty((4, 4))
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6
        numeric[i] = (
            likelihood.total(point + step, w).gradient - likelihood.total(point - step, w).gradient
        ) / 2e-6
    np.testing.assert_allclose(exact.hessian, exact.hessian.T, rtol=0, atol=0)
    scale = np.sqrt(np.outer(np.abs(np.diag(numeric)), np.abs(np.diag(numeric))))
    assert np.max(np.abs(exact.hessian - numeric) / scale) < 1e-6


def test_pareto_newton_fit_matches_bfgs_and_finite_difference_errors(data: tuple) -> None:
    """The Newton fit (analytic Hessian) reaches the optimum of the BFGS search, and its
    standard errors are those of the finite-difference Hessian of the exact gradient."""
    from clientbase.models.clv._base import (
        compress_rows,
        maximise_log_likelihood,
        weighted_objective,
    )

    model = ParetoNBDModel().fit(*data)
    (x, t_x, T), w = compress_rows(list(data), np.ones(data[0].size))
    start = dict(zip(ParetoNBDModel.param_names, (1.0, 30.0, 1.0, 30.0), strict=True))
    params, ll, cov = maximise_log_likelihood(
        weighted_objective(pnbd_loglik(x, t_x, T), w), float(w.sum()), start, model="test"
    )
    assert model.log_likelihood_ >= ll - 1e-8
    for i, name in enumerate(ParetoNBDModel.param_names):
        assert model.params_[name] == pytest.approx(params[name], rel=1e-5)
        se = params[name] * float(np.sqrt(cov[i, i]))
        assert model.params_se_[name] == pytest.approx(se, rel=1e-4)


def test_symmetric_eigen_matches_the_definition() -> None:
    from clientbase.models.clv._base import _newton_direction, _symmetric_eigen

    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.normal(size=(4, 4))
        matrix = a + a.T
        values, vectors = _symmetric_eigen(matrix)
        for value, vector in zip(values, vectors, strict=True):
            np.testing.assert_allclose(matrix @ vector, value * vector, atol=1e-10)
            assert np.linalg.norm(vector) == pytest.approx(1.0)
        gradient = rng.normal(size=4)
        direction, positive = _newton_direction(matrix, gradient)
        assert not positive or np.all(np.linalg.eigvalsh(matrix) > 0)
        assert float(direction @ gradient) < 0  # always a descent direction


def test_compression_sort_path_equals_the_counting_path() -> None:
    """Few rows over many distinct values are summed over the sorted keys: same rows."""
    from clientbase.models.clv._base import compress_rows

    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, 400).astype(float)
    t = np.round(rng.uniform(0, 30, 400), 2)  # far more distinct keys than 4 x rows
    T = np.round(rng.uniform(30, 40, 400), 2)
    x, t, T = (np.concatenate([v, v[:100]]) for v in (x, t, T))  # some repeated rows
    w = np.ones(x.size)
    (ux, ut, uT), uw = compress_rows([x, t, T], w)
    expected: dict[tuple[float, float, float], float] = {}
    for row in zip(x, t, T, strict=True):
        expected[row] = expected.get(row, 0.0) + 1.0
    assert dict(zip(zip(ux, ut, uT, strict=True), uw, strict=True)) == expected
    keys = list(zip(ux, ut, uT, strict=True))
    assert keys == sorted(keys)
