"""Profitability over scored customers: profit by group, loss-makers, whale-curve points.

The input is a run's scores (features and classification, one row per customer) as an
Ibis table; builders return expressions, except :func:`whale_points`, which summarises the
curve computed by :func:`clientbase.domain.profitability.whale_curve` from a column.
"""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir
import numpy as np

from clientbase.domain.profitability import COST_LINES, whale_curve

__all__ = ["loss_makers", "profit_by", "whale_points"]


def profit_by(scores: ir.Table, key: str) -> ir.Table:
    """Customers, revenue, margin, cost lines and net contribution per ``key`` value
    (``"rung"`` or ``"category"``), buyers and non-buyers alike."""
    s = scores
    lines = {line: s[line].sum() for line in COST_LINES}
    return (
        s.group_by(key)
        .agg(
            customers=s.count(),
            revenue_minor=s.revenue_minor.sum(),
            gross_margin_minor=s.gross_margin_minor.sum(),
            **lines,
            net_contribution_minor=s.net_contribution_minor.sum(),
            loss_makers=s.count(where=s.net_contribution_minor < 0),
        )
        .order_by(key)
    )


def loss_makers(scores: ir.Table, limit: int = 20) -> ir.Table:
    """The customers who lose the most money, with their statement columns."""
    s = scores.filter(scores.net_contribution_minor < 0)
    cols = [
        "customer_id",
        "rung",
        "category",
        "revenue_minor",
        "discount_minor",
        "cogs_minor",
        "gross_margin_minor",
        *COST_LINES,
        "net_contribution_minor",
    ]
    return s.select(*cols).order_by([s.net_contribution_minor.asc(), s.customer_id]).limit(limit)


def whale_points(net_contribution_minor: Any, points: int = 20) -> dict[str, Any]:
    """The whale curve summarised: its peak, its end and ``points`` evenly spaced points."""
    curve = whale_curve(np.asarray(net_contribution_minor, dtype=np.int64))
    n = curve.cumulative_minor.size
    rows = []
    if n:
        idx = np.unique(np.linspace(0, n - 1, num=min(points, n)).round().astype(np.int64))
        rows = [
            {
                "customer_share": float(curve.customer_share[i]),
                "cumulative_net_contribution_minor": int(curve.cumulative_minor[i]),
            }
            for i in idx
        ]
    return {
        "customers": n,
        "peak_minor": curve.peak_minor,
        "peak_customer_share": curve.peak_customer_share,
        "total_minor": curve.total_minor,
        "peak_percent_of_total": curve.peak_percent_of_total,
        "points": rows,
    }
