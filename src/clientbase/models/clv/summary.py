"""From a transaction log to the per-customer summary the CLV models are fitted on.

The conventions are those of Fader, Hardie & Lee (2005) for the CDNOW data: purchases on the
same day are one purchase occasion; ``x`` counts the occasions after the first one up to the
calibration end; ``t_x`` and ``T`` are measured from the first purchase to the last one and
to the calibration end; the average spend ``z̄`` is over the repeat occasions only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from clientbase.errors import InvalidInput
from clientbase.models.clv._base import FloatArray, as_float_array

__all__ = ["TransactionSummary", "summary_from_transactions"]

_UNIT_DAYS = {"days": 1.0, "weeks": 7.0}


@dataclass(frozen=True)
class TransactionSummary:
    """One row per customer who bought by the calibration end (arrays of equal length).

    Attributes
    ----------
    customer_id
        The customer ids, sorted.
    frequency, recency, T
        ``x``, ``t_x`` and ``T`` in ``time_unit``.
    monetary_value
        Average value of the repeat purchase occasions in the calibration period (0 if none).
    first_purchase
        Day of the first purchase (``datetime64[D]``).
    holdout_frequency, holdout_monetary_value
        Purchase occasions and total spend in the holdout period (zeros without a holdout).
    holdout_duration
        Length of the holdout period in ``time_unit`` (0 without a holdout).
    """

    customer_id: NDArray[np.generic]
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray
    first_purchase: NDArray[np.datetime64]
    holdout_frequency: FloatArray
    holdout_monetary_value: FloatArray
    holdout_duration: float
    time_unit: str
    calibration_end: np.datetime64
    holdout_end: np.datetime64 | None

    def __len__(self) -> int:
        return int(self.frequency.size)


def _as_days(values: ArrayLike | str, name: str) -> NDArray[np.datetime64]:
    try:
        days = np.asarray(values, dtype="datetime64[D]")
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be dates ({exc}).") from exc
    if np.any(np.isnat(days)):
        raise InvalidInput(f"{name} has {int(np.isnat(days).sum())} missing date(s).")
    return days


def summary_from_transactions(
    customer_id: ArrayLike,
    date: ArrayLike,
    amount: ArrayLike | None = None,
    *,
    calibration_end: str | np.datetime64,
    holdout_end: str | np.datetime64 | None = None,
    time_unit: Literal["days", "weeks"] = "weeks",
) -> TransactionSummary:
    """Build ``(x, t_x, T, z̄)`` per customer, and the holdout actuals when asked.

    Parameters
    ----------
    customer_id
        Who made each transaction (any sortable values).
    date
        When (anything ``numpy.datetime64`` understands; the time of day is dropped).
    amount
        Value of each transaction (optional; zeros are allowed, negative values are not).
    calibration_end
        Last day of the calibration period (inclusive). Customers whose first purchase is
        later are not in the summary.
    holdout_end
        Last day of the holdout period (inclusive), which starts the day after
        ``calibration_end``; transactions after it are ignored.
    time_unit
        ``"weeks"`` (days / 7, as in the papers) or ``"days"``.
    """
    if time_unit not in _UNIT_DAYS:
        raise InvalidInput(f"time_unit must be 'days' or 'weeks', not {time_unit!r}.")
    unit = _UNIT_DAYS[time_unit]
    ids = np.asarray(customer_id)
    days = _as_days(date, "date")
    if ids.ndim != 1 or days.ndim != 1 or ids.size != days.size:
        raise InvalidInput("customer_id and date must be one-dimensional and of equal length.")
    if ids.size == 0:
        raise InvalidInput("There are no transactions.")
    values = np.zeros(ids.size) if amount is None else as_float_array(amount, "amount")
    if values.size != ids.size:
        raise InvalidInput("amount must have one value per transaction.")
    if np.any(values < 0):
        raise InvalidInput(
            f"{int((values < 0).sum())} transaction(s) have a negative amount; "
            "net returns out before summarising."
        )
    cal_end = np.datetime64(_as_days(calibration_end, "calibration_end").reshape(-1)[0], "D")
    hold_end = (
        None
        if holdout_end is None
        else np.datetime64(_as_days(holdout_end, "holdout_end").reshape(-1)[0], "D")
    )
    if hold_end is not None and hold_end <= cal_end:
        raise InvalidInput("holdout_end must be after calibration_end.")
    last_day = hold_end if hold_end is not None else cal_end
    keep = days <= last_day
    ids, days, values = ids[keep], days[keep], values[keep]

    # one occasion per customer and day, with the day's total
    customers, cust_index = np.unique(ids, return_inverse=True)
    cust_index = cust_index.reshape(-1)
    day_number = days.astype(np.int64)
    order = np.lexsort((day_number, cust_index))
    c_sorted, d_sorted = cust_index[order], day_number[order]
    new_occasion = np.ones(order.size, dtype=bool)
    new_occasion[1:] = (c_sorted[1:] != c_sorted[:-1]) | (d_sorted[1:] != d_sorted[:-1])
    occasion = np.cumsum(new_occasion) - 1
    occ_customer = c_sorted[new_occasion]
    occ_day = d_sorted[new_occasion]
    occ_value = np.bincount(occasion, weights=values[order])

    n = customers.size
    first_day = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_day, occ_customer, occ_day)
    cal_day = np.int64(cal_end.astype(np.int64))
    in_cal = occ_day <= cal_day
    is_first = occ_day == first_day[occ_customer]
    repeat_cal = in_cal & ~is_first
    x = np.bincount(occ_customer[repeat_cal], minlength=n).astype(np.float64)
    last_cal = first_day.copy()
    np.maximum.at(last_cal, occ_customer[in_cal], occ_day[in_cal])
    spend = np.bincount(occ_customer[repeat_cal], weights=occ_value[repeat_cal], minlength=n)
    in_hold = ~in_cal
    x_hold = np.bincount(occ_customer[in_hold], minlength=n).astype(np.float64)
    spend_hold = np.bincount(occ_customer[in_hold], weights=occ_value[in_hold], minlength=n).astype(
        np.float64
    )

    cohort = first_day <= cal_day
    if not np.any(cohort):
        raise InvalidInput("No customer made a purchase on or before the calibration end.")
    x = x[cohort]
    return TransactionSummary(
        customer_id=customers[cohort],
        frequency=x,
        recency=(last_cal[cohort] - first_day[cohort]) / unit,
        T=(cal_day - first_day[cohort]) / unit,
        monetary_value=np.divide(spend[cohort], x, out=np.zeros_like(x), where=x > 0),
        first_purchase=first_day[cohort].astype("datetime64[D]"),
        holdout_frequency=x_hold[cohort],
        holdout_monetary_value=spend_hold[cohort],
        holdout_duration=0.0
        if hold_end is None
        else float((hold_end - cal_end) / np.timedelta64(1, "D")) / unit,
        time_unit=time_unit,
        calibration_end=cal_end,
        holdout_end=hold_end,
    )
