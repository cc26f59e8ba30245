"""The score run's lifetime step falls back, with a reason, when the data cannot carry it."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from clientbase.domain.lifetime import LifetimeOptions
from clientbase.errors import ConfigurationError
from clientbase.services.lifetime import lifetime_values


def _summary(x: list[int], t_x: list[int], T: list[int], spend: list[int]) -> pa.Table:
    return pa.table(
        {
            "customer_id": list(range(1, len(x) + 1)),
            "x": x,
            "t_x_days": t_x,
            "T_days": T,
            "repeat_revenue_minor": spend,
            "revenue_minor": [s + 5000 for s in spend],
        }
    )


def test_too_few_buyers_is_a_fallback_with_a_reason() -> None:
    result = lifetime_values(
        _summary([1, 0], [10, 0], [100, 50], [500, 0]), LifetimeOptions(), margin=0.3
    )
    assert not result.fitted
    assert result.reason == "2 buyers, at least 100 needed"


def test_too_few_repeat_buyers_is_a_fallback_with_a_reason() -> None:
    n = 200
    x = [0] * n
    x[:5] = [1, 2, 1, 3, 1]
    result = lifetime_values(
        _summary(x, [7 * v for v in x], [300] * n, [1000 * v for v in x]),
        LifetimeOptions(),
        margin=0.3,
    )
    assert not result.fitted
    assert result.reason == "5 repeat buyers, at least 30 needed"


def test_identical_histories_cannot_carry_a_model() -> None:
    n = 150
    result = lifetime_values(
        _summary([2] * n, [70] * n, [300] * n, [4000] * n), LifetimeOptions(), margin=0.3
    )
    assert not result.fitted
    assert "could not be fitted" in result.reason


def test_a_healthy_base_gets_predictions_for_every_buyer() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    x = rng.poisson(1.5, n)
    T = rng.integers(200, 500, n)
    t_x = np.where(x > 0, (T * rng.uniform(0.2, 1.0, n)).astype(int), 0)
    spend = x * rng.integers(2000, 9000, n)
    result = lifetime_values(
        _summary(list(x), list(t_x), list(T), list(spend)), LifetimeOptions(), margin=0.4
    )
    assert result.fitted, result.reason
    assert result.table is not None and result.table.num_rows == n
    p = np.asarray(result.table.column("p_alive"))
    assert ((p > 0) & (p <= 1)).all()
    # A customer who bought recently is more likely alive than one silent for long.
    recent = (x >= 2) & (t_x > 0.9 * T)
    silent = (x >= 2) & (t_x < 0.3 * T)
    assert p[recent].mean() > p[silent].mean()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": "gamma"},
        {"min_repeat_buyers": 1},
        {"horizon_months": 0},
        {"annual_discount_rate": 1.5},
    ],
)
def test_bad_options_are_configuration_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        LifetimeOptions(**kwargs)  # type: ignore[arg-type]


def test_without_a_spend_model_clv_uses_the_customers_mean_revenue() -> None:
    rng = np.random.default_rng(5)
    n = 500
    x = rng.poisson(2.0, n)
    T = rng.integers(200, 500, n)
    t_x = np.where(x > 0, (T * rng.uniform(0.3, 1.0, n)).astype(int), 0)
    # No positive repeat spend at all: Gamma-Gamma has nothing to fit.
    summary = pa.table(
        {
            "customer_id": list(range(1, n + 1)),
            "x": list(x),
            "t_x_days": list(t_x),
            "T_days": list(T),
            "repeat_revenue_minor": [0] * n,
            "revenue_minor": list((x + 1) * 10_000),
        }
    )
    result = lifetime_values(summary, LifetimeOptions(), margin=0.5)
    assert result.fitted
    assert "Gamma-Gamma not usable" in result.reason
    assert result.table is not None
    spend = np.asarray(result.table.column("expected_spend_minor"))
    assert (spend == 10_000).all()
    clv = np.asarray(result.table.column("clv_minor"))
    expected = np.asarray(result.table.column("expected_purchases_12m"))
    # Discounting makes CLV a little less than margin x spend x expected purchases.
    assert (clv <= np.rint(0.5 * 10_000 * expected) + 1).all()
    assert (clv > 0.85 * 0.5 * 10_000 * expected - 1).all()
