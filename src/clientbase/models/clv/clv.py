"""Customer lifetime value from a purchase model and a spend model.

The expected number of purchases in each month of the horizon (from BG/NBD or Pareto/NBD)
times the expected spend per purchase (Gamma-Gamma) times the margin, discounted at the end
of each month: the discrete form of the "discounted expected residual transactions" of Fader,
Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", JMR
42(4), section "Computing CLV" (which discounts continuously; monthly steps are what finance
teams use and converge to it as the step shrinks). Spend is independent of the purchase
process in the Gamma-Gamma model, so the product of expectations is the expectation.
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike

from clientbase.errors import InvalidInput
from clientbase.models.clv._base import FloatArray
from clientbase.models.clv.gamma_gamma import GammaGammaModel

__all__ = [
    "DAYS_PER_MONTH",
    "PurchaseModel",
    "discounted_expected_purchases",
    "expected_clv",
    "monthly_discount_rate",
]

#: The mean Gregorian month.
DAYS_PER_MONTH = 365.2425 / 12
_UNIT_DAYS = {"days": 1.0, "weeks": 7.0}


class PurchaseModel(Protocol):
    """Anything with the conditional expectation of BG/NBD and Pareto/NBD."""

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...


def monthly_discount_rate(rate: float, period: Literal["month", "year"] = "year") -> float:
    """The monthly rate equivalent to ``rate`` per ``period`` (``(1+d)^(1/12) - 1`` a year)."""
    if not (rate > -1 and np.isfinite(rate)):
        raise InvalidInput(f"The discount rate must be above -100 %, got {rate}.")
    if period == "month":
        return rate
    if period == "year":
        return float((1.0 + rate) ** (1.0 / 12.0) - 1.0)
    raise InvalidInput(f"The discount period must be 'month' or 'year', not {period!r}.")


def expected_clv(
    purchase_model: PurchaseModel,
    spend_model: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    horizon_months: int = 12,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    discount_period: Literal["month", "year"] = "year",
    time_unit: Literal["days", "weeks"] = "weeks",
) -> FloatArray:
    """Expected discounted margin of each customer over the next ``horizon_months``.

    ``CLV = margin · E[Z] · Σ_{i=1..H} (E[X(i·M)] - E[X((i-1)·M)]) / (1+d)^i``, with ``M``
    one month in the model's time unit, ``E[X(t)]`` the purchase model's conditional
    expectation and ``E[Z]`` the Gamma-Gamma expected spend (FHL 2005b, eq. A5).

    Parameters
    ----------
    purchase_model
        A fitted :class:`BetaGeoModel` or :class:`ParetoNBDModel`.
    spend_model
        A fitted :class:`GammaGammaModel`.
    frequency, recency, T, monetary_value
        The customers' summary, in the time unit the purchase model was fitted in.
    horizon_months
        Number of months to sum over.
    margin
        Share of revenue that is profit, in ``(0, 1]`` (or above 1 for a multiplier).
    discount_rate, discount_period
        The cost of capital, per month or per year.
    time_unit
        The time unit of ``recency`` and ``T``.
    """
    if not isinstance(horizon_months, int) or horizon_months < 1:
        raise InvalidInput(f"horizon_months must be a whole number >= 1, got {horizon_months!r}.")
    if not (margin > 0 and np.isfinite(margin)):
        raise InvalidInput(f"The margin must be positive, got {margin}.")
    if time_unit not in _UNIT_DAYS:
        raise InvalidInput(f"time_unit must be 'days' or 'weeks', not {time_unit!r}.")
    spend = spend_model.expected_spend(frequency, monetary_value)
    value = discounted_expected_purchases(
        purchase_model,
        frequency,
        recency,
        T,
        horizon_months=horizon_months,
        discount_rate=discount_rate,
        discount_period=discount_period,
        time_unit=time_unit,
    )
    return np.asarray(margin * spend * value, dtype=np.float64)


def discounted_expected_purchases(
    purchase_model: PurchaseModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    horizon_months: int = 12,
    discount_rate: float = 0.0,
    discount_period: Literal["month", "year"] = "year",
    time_unit: Literal["days", "weeks"] = "weeks",
) -> FloatArray:
    """``Σ_{i=1..H} (E[X(i·M)] - E[X((i-1)·M)]) / (1+d)^i``: discounted expected purchases.

    The purchase part of :func:`expected_clv` (FHL 2005b, eq. A5), for callers that value a
    purchase by other means than the Gamma-Gamma model.
    """
    if not isinstance(horizon_months, int) or horizon_months < 1:
        raise InvalidInput(f"horizon_months must be a whole number >= 1, got {horizon_months!r}.")
    if time_unit not in _UNIT_DAYS:
        raise InvalidInput(f"time_unit must be 'days' or 'weeks', not {time_unit!r}.")
    monthly = monthly_discount_rate(discount_rate, discount_period)
    month = DAYS_PER_MONTH / _UNIT_DAYS[time_unit]
    value: FloatArray | None = None
    previous: FloatArray | None = None
    for i in range(1, horizon_months + 1):
        cumulative = np.asarray(
            purchase_model.expected_purchases(i * month, frequency, recency, T), dtype=np.float64
        )
        step = cumulative if previous is None else cumulative - previous
        value = (
            step / (1.0 + monthly) ** i if value is None else value + step / (1.0 + monthly) ** i
        )
        previous = cumulative
    assert value is not None
    return value
