"""Orders and order lines of one block of customers, generated column-wise with numpy.

Every planted purchase occasion becomes one completed order (3 % get a second order the same
day). Besides them a few orders never make an occasion: cancelled and fully returned ones
inside the customer's history, and pending ones of active buyers in the last days. Money is
in minor units: ``total = sum(quantity x unit price - discount)`` over the lines and ``cost``
the cost of goods. Fully returned orders carry no return event (their money never counted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from clientbase.demo import plan
from clientbase.demo.campaigns import CampaignPlan
from clientbase.demo.population import CATEGORY_CODES, Population
from clientbase.demo.vocab import PRODUCT_CATEGORIES, SEGMENTS
from clientbase.domain.vocabulary import AcquisitionChannel, OrderStatus, Rung, ValueCategory

__all__ = [
    "COMPLETED",
    "ORDER_STATUSES",
    "Catalogue",
    "OrderBlock",
    "make_catalogue",
    "make_orders",
]

IntArray = NDArray[np.int64]
ORDER_STATUSES: tuple[OrderStatus, ...] = tuple(OrderStatus)
COMPLETED = ORDER_STATUSES.index(OrderStatus.COMPLETED)
TRAILING = 364  # days strictly inside the trailing 365-day window
PER_CATEGORY = 5
_DAY_SPAN = 1 << 16  # days back are below this


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Products: category index, price and unit cost (minor units)."""

    names: tuple[str, ...]
    category: IntArray
    price: IntArray
    cost: IntArray


def make_catalogue(rng: np.random.Generator) -> Catalogue:
    """Five products per category with a price and a unit cost inside its ranges."""
    names: list[str] = []
    cats, prices, costs = [], [], []
    for ci, pc in enumerate(PRODUCT_CATEGORIES):
        for name in pc.names:
            price = int(rng.integers(pc.price_huf[0] // 10, pc.price_huf[1] // 10 + 1)) * 1000
            margin = pc.margin[0] + rng.random() * (pc.margin[1] - pc.margin[0])
            names.append(name)
            cats.append(ci)
            prices.append(price)
            costs.append(round(price * (1 - margin)))
    return Catalogue(tuple(names), np.array(cats), np.array(prices), np.array(costs))


@dataclass(slots=True)
class OrderBlock:
    """Order and line columns for customers ``lo`` to ``hi - 1`` (0-based indices)."""

    order_customer: IntArray
    order_day: IntArray
    order_ts: IntArray  # epoch seconds
    order_status: IntArray
    order_total: IntArray
    order_discount: IntArray
    order_cost: IntArray
    order_handler: IntArray  # user id, 0 = none
    order_campaign: IntArray  # campaign id, 0 = none
    line_order: IntArray  # index into the block's orders
    line_no: IntArray
    line_product: IntArray  # 0-based product index
    line_qty: IntArray
    line_price: IntArray
    line_cost: IntArray
    line_discount: IntArray
    gm_whole: NDArray[np.float64]  # per customer of the block
    gm_trailing: NDArray[np.float64]
    last_order: IntArray  # index of the latest completed order, -1 none
    last_total: IntArray


def _slice(keys: IntArray, lo: int, hi: int) -> slice:
    a, b = np.searchsorted(keys, [lo, hi])
    return slice(int(a), int(b))


def make_orders(
    pop: Population,
    camp: CampaignPlan,
    cat: Catalogue,
    lo: int,
    hi: int,
    rng: np.random.Generator,
) -> OrderBlock:
    """Generate the orders and lines of customers ``lo <= index < hi``."""
    s = _slice(pop.occ_customer, lo, hi)
    cust, day = pop.occ_customer[s], pop.occ_day[s]
    dup = rng.random(len(cust)) < 0.03
    e = _slice(camp.extra_customer, lo, hi)
    idx = np.arange(lo, hi)
    rung, lost = pop.rung[idx], pop.category[idx] == CATEGORY_CODES.index(ValueCategory.LOST)
    buyer = rung >= Rung.FIRST_TIME_BUYER
    noisy = buyer & (rng.random(len(idx)) < 0.10)
    span = pop.first_day[idx] - pop.last_day[idx]
    noise_day = pop.last_day[idx] + np.floor(rng.random(len(idx)) * (span + 1)).astype(np.int64)
    pending = buyer & ~lost & (rng.random(len(idx)) < 0.02)
    customers = np.concatenate([cust, cust[dup], camp.extra_customer[e], idx[noisy], idx[pending]])
    days = np.concatenate(
        [day, day[dup], camp.extra_day[e], noise_day[noisy], rng.integers(1, 4, int(pending.sum()))]
    )
    status = np.full(len(customers), COMPLETED, dtype=np.int64)
    k0 = len(cust) + int(dup.sum()) + (e.stop - e.start)
    n_noisy = int(noisy.sum())
    status[k0 : k0 + n_noisy] = np.where(
        rng.random(n_noisy) < 0.5,
        ORDER_STATUSES.index(OrderStatus.CANCELLED),
        ORDER_STATUSES.index(OrderStatus.RETURNED),
    )
    status[k0 + n_noisy :] = ORDER_STATUSES.index(OrderStatus.PENDING)
    campaign = np.zeros(len(customers), dtype=np.int64)
    campaign[len(cust) + int(dup.sum()) : k0] = camp.extra_campaign[e]
    # By customer, then oldest first; stable, so same-day orders keep their order (one
    # integer key sorts much faster than a lexsort of two columns).
    assert len(days) == 0 or (days.min() >= 0 and days.max() < _DAY_SPAN)
    order = np.argsort(customers * _DAY_SPAN + (_DAY_SPAN - 1 - days), kind="stable")
    customers, days, status, campaign = (
        customers[order],
        days[order],
        status[order],
        campaign[order],
    )
    n = len(customers)
    ts = plan.AS_OF_EPOCH - days * 86_400 + rng.integers(8 * 3600, 21 * 3600, n)

    seg = pop.segment[customers]
    lines_lo = np.array([sg.lines[0] for sg in SEGMENTS])[seg]
    lines_hi = np.array([sg.lines[1] for sg in SEGMENTS])[seg]
    n_lines = lines_lo + np.floor(rng.random(n) * (lines_hi - lines_lo + 1)).astype(np.int64)
    line_order = np.repeat(np.arange(n), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    line_no = np.arange(len(line_order)) - np.repeat(starts, n_lines) + 1
    lseg = seg[line_order]
    pcat = np.zeros(len(line_order), dtype=np.int64)
    for si, sg in enumerate(SEGMENTS):
        m = lseg == si
        w = np.array(sg.categories)
        pcat[m] = rng.choice(len(w), size=int(m.sum()), p=w / w.sum())
    product = pcat * PER_CATEGORY + rng.integers(0, PER_CATEGORY, len(line_order))
    q_lo = np.array([sg.quantity[0] for sg in SEGMENTS])[lseg]
    q_hi = np.array([sg.quantity[1] for sg in SEGMENTS])[lseg]
    qty = q_lo + np.floor(rng.random(len(line_order)) * (q_hi - q_lo + 1)).astype(np.int64)
    price, unit_cost = cat.price[product], cat.cost[product]
    rate = np.array([plan.CHANNEL_DISCOUNT[AcquisitionChannel(c)] for c in plan.CHANNELS])
    disc_rate = rate[pop.channel[customers[line_order]]] * (0.5 + rng.random(len(line_order)))
    discounted = rng.random(len(line_order)) < 0.3
    discount = np.where(discounted, np.rint(qty * price * disc_rate / 100) * 100, 0).astype(
        np.int64
    )
    total = _sum(line_order, qty * price - discount, n)
    cost = _sum(line_order, qty * unit_cost, n)
    disc_sum = _sum(line_order, discount, n)

    handler = np.where(
        pop.company[customers]
        | (pop.channel[customers] == plan.CHANNELS.index(AcquisitionChannel.PERSONAL)),
        pop.owner[customers],
        0,
    )
    local = customers - lo
    completed = status == COMPLETED
    margin = np.where(completed, total - cost, 0).astype(np.float64)
    gm_whole = np.bincount(local, weights=margin, minlength=hi - lo)
    gm_trailing = np.bincount(
        local, weights=np.where(days <= TRAILING, margin, 0), minlength=hi - lo
    )
    last_order = np.full(hi - lo, -1, dtype=np.int64)
    comp_idx = np.flatnonzero(completed)
    last_order[local[comp_idx]] = comp_idx  # orders ascend in time within a customer
    last_total = np.where(last_order >= 0, total[np.maximum(last_order, 0)], 0)
    return OrderBlock(
        order_customer=customers,
        order_day=days,
        order_ts=ts,
        order_status=status,
        order_total=total,
        order_discount=disc_sum,
        order_cost=cost,
        order_handler=handler,
        order_campaign=campaign,
        line_order=line_order,
        line_no=line_no,
        line_product=product,
        line_qty=qty,
        line_price=price,
        line_cost=unit_cost,
        line_discount=discount,
        gm_whole=gm_whole.astype(np.float64),
        gm_trailing=gm_trailing.astype(np.float64),
        last_order=last_order,
        last_total=last_total,
    )


def _sum(group: IntArray, values: IntArray, n: int) -> IntArray:
    return np.bincount(group, weights=values, minlength=n).astype(np.int64)
