"""The repeat-purchase summary the lifetime-value models are fitted on, as of a date.

For every customer with at least one purchase occasion on or before the as-of day (a day
with a completed order; fully returned, cancelled and pending orders do not count, as in
DESIGN §1), the expression gives the quantities of Fader, Hardie & Lee (2005)::

    x         repeat purchase occasions (occasions after the first)
    t_x_days  days from the first to the last occasion
    T_days    days from the first occasion to the as-of day
    repeat_revenue_minor  revenue of the repeat occasions (for Gamma-Gamma's mean spend)
    revenue_minor         revenue of all occasions

Same-day orders are one occasion, exactly as the CDNOW summary of the papers merges them.
The builder never executes (``analytics/engine.py`` runs it).
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from clientbase.analytics.features import ORDER_STATUS_CODES
from clientbase.domain.vocabulary import OrderStatus

__all__ = ["gross_margin_ratio", "repeat_purchase_summary"]


def _completed(orders: ir.Table, as_of: date) -> ir.Table:
    done: str | int = OrderStatus.COMPLETED.value
    if orders.status.type().is_integer():
        done = ORDER_STATUS_CODES[OrderStatus.COMPLETED.value]
    return orders.filter((orders.day <= ibis.literal(as_of)) & (orders.status == done))


def gross_margin_ratio(orders: ir.Table, as_of: date) -> ir.Table:
    """One row: ``revenue_minor`` and ``gross_margin_minor`` of completed orders to ``as_of``.

    Orders without a known cost of goods count at zero cost, so a store without costs gets
    a ratio of 1 (CLV is then expected revenue, not margin).
    """
    completed = _completed(orders, as_of)
    return completed.aggregate(
        revenue_minor=completed.total_minor.sum(),
        gross_margin_minor=(completed.total_minor - completed.cost_minor.fill_null(0)).sum(),
    )


def repeat_purchase_summary(orders: ir.Table, as_of: date) -> ir.Table:
    """Per-customer ``x``, ``t_x_days``, ``T_days`` and repeat revenue as of ``as_of``.

    Parameters
    ----------
    orders
        Normalised orders: ``customer_id``, ``day`` (date), ``status`` (the status text, or
        its integer code of :data:`clientbase.analytics.features.ORDER_STATUS_CODES`) and
        ``total_minor`` (net revenue of the order in minor units).
    as_of
        The last day that counts; the customer's age ``T`` runs to its end.
    """
    cutoff = ibis.literal(as_of)
    completed = _completed(orders, as_of)
    days = completed.group_by(["customer_id", "day"]).aggregate(
        revenue_minor=completed.total_minor.sum()
    )
    per_customer = days.group_by("customer_id").aggregate(
        occasions=days.day.count(),
        first_day=days.day.min(),
        last_day=days.day.max(),
        revenue_minor=days.revenue_minor.sum(),
        first_revenue_minor=days.revenue_minor.argmin(days.day),
    )
    return per_customer.select(
        "customer_id",
        x=(per_customer.occasions - 1).cast("int64"),
        t_x_days=per_customer.last_day.delta(per_customer.first_day, unit="day").cast("int64"),
        T_days=cutoff.delta(per_customer.first_day, unit="day").cast("int64"),
        repeat_revenue_minor=(per_customer.revenue_minor - per_customer.first_revenue_minor).cast(
            "int64"
        ),
        revenue_minor=per_customer.revenue_minor.cast("int64"),
    )
