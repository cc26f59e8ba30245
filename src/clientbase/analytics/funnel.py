"""Movement on the ladder across score runs, as Ibis expressions.

The input is the history of completed runs, one row per customer and run::

    history   customer_id, as_of: date, rung: int, category: string (nullable)

Runs are snapshots: a customer "entered" a rung at the first run that shows them on it, and
"climbed" at the first later run that shows them higher. Conversion within a window counts
only entries whose window the history covers in full (``entered + window <= last run``),
so a recent entry is not counted as a failure to climb.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

__all__ = ["funnel", "rung_counts", "transitions"]


def rung_counts(history: ir.Table, as_of: date) -> ir.Table:
    """Customers per rung in the run of ``as_of``."""
    snap = history.filter(history.as_of == ibis.date(as_of))
    return snap.group_by("rung").agg(customers=snap.count()).order_by("rung")


def transitions(history: ir.Table) -> ir.Table:
    """Moves between consecutive runs: ``from_rung``, ``to_rung``, ``customers``, and the
    ``kind`` of move (``climb``, ``stay``, ``fall_back``, ``drop_out`` = became lost)."""
    w = ibis.window(group_by=history.customer_id, order_by=history.as_of)
    moved = history.mutate(
        from_rung=history.rung.lag().over(w),
        from_category=history.category.lag().over(w),
    )
    moved = moved.filter(moved.from_rung.notnull())
    became_lost = (moved.category == "lost") & (
        moved.from_category.isnull() | (moved.from_category != "lost")
    )
    kind = ibis.cases(
        (became_lost, "drop_out"),
        (moved.rung > moved.from_rung, "climb"),
        (moved.rung < moved.from_rung, "fall_back"),
        else_="stay",
    )
    moved = moved.mutate(kind=kind, to_rung=moved.rung)
    return (
        moved.group_by("from_rung", "to_rung", "kind")
        .agg(customers=moved.count())
        .order_by("from_rung", "to_rung", "kind")
    )


def funnel(history: ir.Table, window_days: int) -> ir.Table:
    """Per rung: customers who entered it, how many climbed higher within ``window_days``,
    the conversion rate among entries the history can judge, and the median days to climb.
    """
    last = history.as_of.max().as_scalar()
    entered = history.group_by("customer_id", "rung").agg(entered_at=history.as_of.min())
    higher = history.select(hid=history.customer_id, hrung=history.rung, hat=history.as_of)
    pairs = entered.join(
        higher,
        (entered.customer_id == higher.hid)
        & (higher.hrung > entered.rung)
        & (higher.hat > entered.entered_at),
    )
    climbs = pairs.group_by("customer_id", "rung", "entered_at").agg(climbed_at=pairs.hat.min())
    joined = entered.left_join(
        climbs,
        (entered.customer_id == climbs.customer_id) & (entered.rung == climbs.rung),
    ).select(entered.customer_id, entered.rung, entered.entered_at, climbs.climbed_at)
    days = joined.climbed_at.delta(joined.entered_at, unit="day")
    judged = joined.entered_at + ibis.interval(days=window_days) <= last
    in_window = judged & joined.climbed_at.notnull() & (days <= window_days)
    out = joined.group_by("rung").agg(
        entered=joined.count(),
        judged=joined.count(where=judged),
        climbed_within_window=joined.count(where=in_window),
        median_days_to_climb=days.cast("float64").median(),
    )
    rate = ibis.ifelse(
        out.judged > 0, out.climbed_within_window.cast("float64") / out.judged, ibis.null()
    )
    return out.mutate(conversion=rate).order_by("rung")
