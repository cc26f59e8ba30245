"""The lifetime-value step of a score run: fit, predict, or fall back and say why.

Given every buyer's repeat-purchase summary as of the run's day
(:func:`clientbase.analytics.lifetime.repeat_purchase_summary`), this fits the purchase
model chosen by the policy (BG/NBD or Pareto/NBD) and the Gamma-Gamma spend model, and
returns per customer P(alive), the expected number of purchases in the next 12 months, the
expected spend per purchase and the CLV over the policy's horizon at the business's gross
margin. Time is measured in weeks (days / 7) as in the papers.

When the data cannot carry a model (too few buyers or repeat buyers, every customer with the
same history, no positive spend, an optimiser that does not converge), the result has no
predictions and a ``reason`` in words; the run then uses the rhythm-based activity rule
instead of failing (issue #4 point 6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from clientbase.analytics.engine import Engine
from clientbase.analytics.lifetime import gross_margin_ratio, repeat_purchase_summary
from clientbase.domain.lifetime import LifetimeOptions
from clientbase.errors import ModelError
from clientbase.models.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    discounted_expected_purchases,
    expected_clv,
)

__all__ = ["LIFETIME_TYPES", "LifetimeResult", "lifetime_for_orders", "lifetime_values"]

WEEKS_PER_YEAR = 365.25 / 7

#: Columns of :attr:`LifetimeResult.table`.
LIFETIME_TYPES: dict[str, pa.DataType] = {
    "customer_id": pa.int64(),
    "p_alive": pa.float64(),
    "expected_purchases_12m": pa.float64(),
    "expected_spend_minor": pa.int64(),
    "clv_minor": pa.int64(),
}


@dataclass(frozen=True, slots=True)
class LifetimeResult:
    """Predictions per buyer (``table``) or ``None`` with the ``reason`` why not."""

    table: pa.Table | None
    reason: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def fitted(self) -> bool:
        return self.table is not None


def _column(table: pa.Table, name: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def lifetime_values(
    summary: pa.Table, options: LifetimeOptions, *, margin: float
) -> LifetimeResult:
    """Fit the models on ``summary`` and predict for every customer in it.

    Parameters
    ----------
    summary
        ``customer_id, x, t_x_days, T_days, repeat_revenue_minor, revenue_minor`` (one row
        per buyer), as :func:`clientbase.analytics.lifetime.repeat_purchase_summary` gives.
    options
        The policy's lifetime section.
    margin
        The business's gross margin ratio (gross margin / revenue), used for CLV.
    """
    n = summary.num_rows
    x = _column(summary, "x")
    repeat_buyers = int(np.count_nonzero(x > 0))
    if n < options.min_customers:
        return LifetimeResult(None, f"{n} buyers, at least {options.min_customers} needed")
    if repeat_buyers < options.min_repeat_buyers:
        return LifetimeResult(
            None,
            f"{repeat_buyers} repeat buyers, at least {options.min_repeat_buyers} needed",
        )
    t_x = _column(summary, "t_x_days") / 7.0
    T = _column(summary, "T_days") / 7.0
    repeat_revenue = _column(summary, "repeat_revenue_minor")
    purchase: BetaGeoModel | ParetoNBDModel = (
        BetaGeoModel() if options.model == "bgnbd" else ParetoNBDModel()
    )
    try:
        purchase.fit(x, t_x, T)
    except ModelError as exc:
        return LifetimeResult(None, f"the {options.model} model could not be fitted: {exc}")
    p_alive = purchase.probability_alive(x, t_x, T)
    expected = purchase.expected_purchases(WEEKS_PER_YEAR, x, t_x, T)
    params: dict[str, Any] = {"purchase": {options.model: dict(purchase.params_)}}

    mean_spend = np.divide(repeat_revenue, x, out=np.zeros_like(x), where=x > 0)
    clv_options: dict[str, Any] = {
        "horizon_months": options.horizon_months,
        "margin": max(margin, 1e-9),
        "discount_rate": options.annual_discount_rate,
        "discount_period": "year",
        "time_unit": "weeks",
    }
    reason = f"{options.model} fitted on {n} buyers ({repeat_buyers} repeat buyers)"
    try:
        spend_model = GammaGammaModel(nonpositive="exclude").fit(x, mean_spend)
        spend = spend_model.expected_spend(x, mean_spend)
        clv = expected_clv(purchase, spend_model, x, t_x, T, mean_spend, **clv_options)
        params["spend"] = dict(spend_model.params_)
    except ModelError as exc:
        # Without a spend model a future purchase is valued at the customer's own mean
        # revenue per occasion so far (first purchase included): simpler, and said so.
        revenue = _column(summary, "revenue_minor")
        spend = revenue / (x + 1.0)
        purchases = discounted_expected_purchases(
            purchase,
            x,
            t_x,
            T,
            horizon_months=options.horizon_months,
            discount_rate=options.annual_discount_rate,
            time_unit="weeks",
        )
        clv = clv_options["margin"] * spend * purchases
        reason += (
            f"; Gamma-Gamma not usable ({exc}), so CLV values a purchase at the customer's "
            "mean revenue per purchase occasion"
        )

    def money(values: np.ndarray[Any, Any]) -> pa.Array:
        finite = np.isfinite(values)
        rounded = np.where(finite, np.rint(values), 0).astype(np.int64)
        return pa.array(rounded, type=pa.int64(), mask=~finite)

    table = pa.table(
        {
            "customer_id": summary.column("customer_id").cast(pa.int64()),
            "p_alive": pa.array(p_alive, type=pa.float64()),
            "expected_purchases_12m": pa.array(expected, type=pa.float64()),
            "expected_spend_minor": money(spend),
            "clv_minor": money(clv),
        }
    )
    return LifetimeResult(table, reason, params)


def lifetime_for_orders(
    orders: pa.Table | ir.Table, as_of: date, options: LifetimeOptions, engine: Engine
) -> LifetimeResult:
    """Summarise the normalised ``orders`` as of ``as_of`` and run :func:`lifetime_values`.

    ``orders`` is an Arrow table, or an Ibis table where ``engine`` runs (the store's own
    orders when computing inside the database). The CLV margin is the business's gross
    margin ratio over the same orders.
    """
    table = engine.table(orders) if isinstance(orders, pa.Table) else orders
    summary = engine.to_arrow(repeat_purchase_summary(table, as_of))
    totals = engine.to_arrow(gross_margin_ratio(table, as_of)).to_pylist()[0]
    revenue = totals["revenue_minor"] or 0
    margin = (totals["gross_margin_minor"] or 0) / revenue if revenue > 0 else 1.0
    result = lifetime_values(summary, options, margin=margin)
    result.params["margin"] = round(margin, 6)
    return result
