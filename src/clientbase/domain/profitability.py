"""Net contribution and its parts, loss drivers and the whale curve.

Net contribution over a window (DESIGN §1 "Money"), in integer minor units::

    gross sales (list price)            revenue_minor + discount_minor
  - discounts                           discount_minor
  = revenue (what the customer paid)    revenue_minor          completed orders only
  - cost of goods                       cogs_minor
  = gross margin                        gross_margin_minor
  - refunds and returns                 returns_minor          return/refund money + handling
  - bonuses, promotions, credits        bonuses_minor          money + handling of those events
  - complaints and claims               complaint_cost_minor   money + handling of those events
  - service contacts                    service_cost_minor     handling of service contacts
  - acquisition cost share              acquisition_cost_minor campaign spend / customers won
  = net contribution                    net_contribution_minor

A fully returned order (status ``returned``) brings neither revenue nor cost of goods; the
money of partial returns and refunds comes from the events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "COST_LINES",
    "COST_TO_SERVE_LINES",
    "ContributionParts",
    "WhaleCurve",
    "contribution_parts",
    "loss_drivers",
    "whale_curve",
]

Array = npt.NDArray[Any]

#: The lines of cost-to-serve (what claims, returns, bonuses and service eat of the margin).
COST_TO_SERVE_LINES: tuple[str, ...] = (
    "returns_minor",
    "bonuses_minor",
    "complaint_cost_minor",
    "service_cost_minor",
)

#: Every line subtracted from gross margin, in statement order.
COST_LINES: tuple[str, ...] = (*COST_TO_SERVE_LINES, "acquisition_cost_minor")


@dataclass(frozen=True, slots=True)
class ContributionParts:
    """One customer's profit and loss statement (whole history), in minor units."""

    revenue_minor: int
    discount_minor: int
    cogs_minor: int
    costs: dict[str, int]

    @property
    def gross_sales_minor(self) -> int:
        return self.revenue_minor + self.discount_minor

    @property
    def gross_margin_minor(self) -> int:
        return self.revenue_minor - self.cogs_minor

    @property
    def cost_to_serve_minor(self) -> int:
        return sum(self.costs[line] for line in COST_TO_SERVE_LINES)

    @property
    def net_contribution_minor(self) -> int:
        return self.gross_margin_minor - sum(self.costs.values())


def contribution_parts(row: Mapping[str, Any]) -> ContributionParts:
    """The statement of one customer from their features (missing money counts as 0)."""

    def money(name: str) -> int:
        value = row.get(name)
        return int(value) if value is not None else 0

    return ContributionParts(
        revenue_minor=money("revenue_minor"),
        discount_minor=money("discount_minor"),
        cogs_minor=money("cogs_minor"),
        costs={line: money(line) for line in COST_LINES},
    )


def loss_drivers(parts: ContributionParts) -> list[tuple[str, int]]:
    """The cost lines that put a loss-maker under water, largest first.

    The lines are taken largest first until what is left of the gross margin after them is
    negative; for a customer who is not losing money the list is empty. A negative gross
    margin (sold below cost) is itself a driver, named ``"gross_margin_minor"``.
    """
    if parts.net_contribution_minor >= 0:
        return []
    drivers: list[tuple[str, int]] = []
    left = parts.gross_margin_minor
    if left < 0:
        drivers.append(("gross_margin_minor", left))
    for line, amount in sorted(parts.costs.items(), key=lambda kv: (-kv[1], kv[0])):
        if amount <= 0:
            continue
        drivers.append((line, amount))
        left -= amount
        if left < 0:
            break
    return drivers


@dataclass(frozen=True, slots=True)
class WhaleCurve:
    """Cumulative net contribution over customers ranked from most to least profitable."""

    customer_share: Array  # float64: (i + 1) / n
    cumulative_minor: Array  # int64: running total of net contribution
    peak_minor: int  # the highest point: what the profitable customers earn
    total_minor: int  # where the curve ends: the business's total
    peak_customer_share: float  # the share of customers at the peak

    @property
    def peak_percent_of_total(self) -> float:
        """The peak as a percentage of the total (e.g. 150 % when losses eat a third)."""
        return 100.0 * self.peak_minor / self.total_minor if self.total_minor else float("nan")


def whale_curve(net_contribution_minor: Array) -> WhaleCurve:
    """The whale curve of the given customers' net contributions (ties broken stably)."""
    values = np.asarray(net_contribution_minor, dtype=np.int64)
    n = values.size
    if n == 0:
        empty = np.zeros(0)
        return WhaleCurve(empty, empty.astype(np.int64), 0, 0, 0.0)
    ordered = np.sort(values, kind="stable")[::-1]
    cumulative = np.cumsum(ordered)
    peak_at = int(np.argmax(cumulative))
    return WhaleCurve(
        customer_share=np.arange(1, n + 1, dtype=np.float64) / n,
        cumulative_minor=cumulative,
        peak_minor=int(cumulative[peak_at]),
        total_minor=int(cumulative[-1]),
        peak_customer_share=(peak_at + 1) / n,
    )
