"""The demo business as a stream of tables, ready for a bulk writer.

:func:`generate` yields ``(table name, polars DataFrame)`` pairs in an order that respects
foreign keys (customers before their orders, orders before their events). Same ``customers``
and ``seed`` give exactly the same rows. Planted truths go to ``demo_truths`` (one row per
customer: rung, category, segment, traits with the as-of date, archetype, channel, loss-maker
flag and net contribution) and ``demo_campaign_truths`` (one row per campaign: purpose,
planted uplift per treated customer and the realised extra revenue).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from numpy.typing import NDArray

from clientbase.demo import plan
from clientbase.demo.campaigns import plant_campaigns
from clientbase.demo.cast import CAMPAIGNS
from clientbase.demo.events import EVENT_KINDS, make_events
from clientbase.demo.orders import COMPLETED, OrderBlock, make_catalogue, make_orders
from clientbase.demo.population import CATEGORY_CODES, Population, plant_population
from clientbase.demo.tables import (
    activity_frames,
    campaign_frame,
    campaign_truth_frame,
    cast_frames,
    customer_frame,
    side_frames,
    truth_frame,
)
from clientbase.domain.vocabulary import AcquisitionChannel

__all__ = ["BLOCK", "DemoStats", "generate"]

#: Customers per block of activity (orders, lines, events, truths are yielded per block).
BLOCK = 50_000
IntArray = NDArray[np.int64]


@dataclass
class DemoStats:
    """Figures gathered while generating, for the summary."""

    customers_by_channel: Counter[str] = field(default_factory=Counter)
    customers_by_rung_category: Counter[tuple[int, str]] = field(default_factory=Counter)
    orders: int = 0
    completed_orders: int = 0
    revenue_minor: int = 0
    order_lines: int = 0
    events_by_kind: Counter[str] = field(default_factory=Counter)
    rep_customers: Counter[int] = field(default_factory=Counter)
    rep_revenue_minor: Counter[int] = field(default_factory=Counter)
    campaigns: list[dict[str, object]] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)


def generate(customers: int, seed: int, stats: DemoStats) -> Iterator[tuple[str, pl.DataFrame]]:
    """Yield the demo business table by table (customers in one frame, activity in blocks)."""
    rng = np.random.default_rng([seed, 0])
    pop = plant_population(customers, rng)
    camp = plant_campaigns(pop, np.random.default_rng([seed, 1]))
    catalogue = make_catalogue(np.random.default_rng([seed, 2]))
    yield from cast_frames(catalogue)
    acq_campaign = _acquisition_campaigns(pop)
    yield "campaigns", campaign_frame(acq_campaign)
    yield "customers", customer_frame(pop, acq_campaign, np.random.default_rng([seed, 3]))
    yield from side_frames(pop, camp)
    extra_revenue: Counter[int] = Counter()
    order_id, line_id, event_id = 1, 1, 1
    for block, lo in enumerate(range(0, customers, BLOCK)):
        hi = min(customers, lo + BLOCK)
        brng = np.random.default_rng([seed, 100 + block])
        ob = make_orders(pop, camp, catalogue, lo, hi, brng)
        ev = make_events(pop, camp, ob, lo, hi, brng)
        yield from activity_frames(ob, ev, order_id, line_id, event_id)
        yield "demo_truths", truth_frame(pop, lo, hi, ev.net_whole)
        order_id += len(ob.order_customer)
        line_id += len(ob.line_order)
        event_id += len(ev.cols["customer"])
        _gather(stats, pop, ob, ev.cols["kind"], lo, hi, extra_revenue)
    truths, stats.campaigns = campaign_truth_frame(camp, extra_revenue)
    yield "demo_campaign_truths", truths


def _acquisition_campaigns(pop: Population) -> IntArray:
    """The acquisition campaign id of each customer (0 = none)."""
    acq_year = (
        np.datetime64(plan.AS_OF.isoformat()) - pop.acquired_day.astype("timedelta64[D]")
    ).astype("datetime64[Y]").astype(np.int64) + 1970
    lookup: dict[tuple[AcquisitionChannel, int], int] = {}
    for cid, spec in enumerate(CAMPAIGNS, start=1):
        if spec.purpose == "acquisition" and spec.acquisition_channel is not None:
            key = spec.partner_id or spec.starts_on.year
            lookup[(spec.acquisition_channel, key)] = cid
    out = np.zeros(pop.n, dtype=np.int64)
    for (ch, key), cid in lookup.items():
        chm = pop.channel == plan.CHANNELS.index(ch)
        sel = (
            chm & (pop.partner == key)
            if ch is AcquisitionChannel.PARTNER
            else chm & (np.clip(acq_year, 2021, 2026) == key)
        )
        out[sel] = cid
    return out


def _count(stats: Counter[int], values: IntArray) -> None:
    for value, k in zip(*np.unique(values, return_counts=True), strict=True):
        stats[int(value)] += int(k)


def _gather(
    stats: DemoStats,
    pop: Population,
    ob: OrderBlock,
    event_kind: IntArray,
    lo: int,
    hi: int,
    extra: Counter[int],
) -> None:
    """Add one block's customers, orders and events to the summary figures."""
    idx = np.arange(lo, hi)
    by_channel: Counter[int] = Counter()
    _count(by_channel, pop.channel[idx])
    for ch, k in by_channel.items():
        stats.customers_by_channel[str(plan.CHANNELS[ch])] += k
    rung_cat: Counter[int] = Counter()
    _count(rung_cat, pop.rung[idx] * len(CATEGORY_CODES) + pop.category[idx])
    for key, k in rung_cat.items():
        rung, cat = divmod(key, len(CATEGORY_CODES))
        stats.customers_by_rung_category[(rung, str(CATEGORY_CODES[cat] or "-"))] += k
    done = ob.order_status == COMPLETED
    stats.orders += len(ob.order_status)
    stats.completed_orders += int(done.sum())
    stats.revenue_minor += int(ob.order_total[done].sum())
    stats.order_lines += len(ob.line_order)
    kinds: Counter[int] = Counter()
    _count(kinds, event_kind)
    for kind, k in kinds.items():
        stats.events_by_kind[str(EVENT_KINDS[kind])] += k
    _count(stats.rep_customers, pop.owner[idx])
    rev = np.bincount(pop.owner[ob.order_customer[done]], weights=ob.order_total[done])
    for o in np.flatnonzero(rev):
        stats.rep_revenue_minor[int(o)] += int(rev[o])
    camp_done = done & (ob.order_campaign > 0)
    for k in np.unique(ob.order_campaign[camp_done]):
        extra[int(k)] += int(ob.order_total[camp_done & (ob.order_campaign == k)].sum())
