"""The demo business as a stream of tables, ready for a bulk writer.

:func:`generate` yields ``(table name, polars DataFrame)`` pairs in an order that respects
foreign keys (customers before their orders, orders before their events). Same ``customers``
and ``seed`` give exactly the same rows. Planted truths go to ``demo_truths`` (one row per
customer: rung, category, segment, traits with the as-of date, archetype, channel, loss-maker
flag and net contribution) and ``demo_campaign_truths`` (one row per campaign: purpose,
planted uplift per treated customer and the realised extra revenue).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl
from numpy.typing import NDArray

from clientbase.demo import plan
from clientbase.demo.campaigns import TREATMENT_SHARE, plant_campaigns
from clientbase.demo.cast import CAMPAIGNS, PARTNERS, STAFF
from clientbase.demo.events import EVENT_KINDS, EVENT_STATUSES, make_events
from clientbase.demo.orders import ORDER_STATUSES, make_catalogue, make_orders
from clientbase.demo.people import people_columns
from clientbase.demo.population import CATEGORY_CODES, Population, plant_population
from clientbase.demo.vocab import PRODUCT_CATEGORIES, SEGMENTS
from clientbase.domain.vocabulary import AcquisitionChannel, CampaignArm, ConsentPurpose

__all__ = ["BLOCK", "DemoStats", "generate"]

BLOCK = 50_000
SOURCE = "demo"
EPOCH = datetime(1970, 1, 1)
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


def _ts(seconds: IntArray) -> pl.Series:
    return pl.Series(seconds.astype(np.int64) * 1_000_000).cast(pl.Datetime("us"))


def _nullable(values: IntArray, null: int = 0) -> pl.Series:
    return pl.Series(values.astype(np.int64)).replace(null, None)


def _labels(values: tuple[str, ...], index: IntArray) -> pl.Series:
    return pl.Series(np.array(values, dtype=object)[index], dtype=pl.String)


def generate(customers: int, seed: int, stats: DemoStats) -> Iterator[tuple[str, pl.DataFrame]]:
    """Yield the demo business table by table (customers in one frame, activity in blocks)."""
    rng = np.random.default_rng([seed, 0])
    pop = plant_population(customers, rng)
    camp = plant_campaigns(pop, np.random.default_rng([seed, 1]))
    catalogue = make_catalogue(np.random.default_rng([seed, 2]))
    as_of = datetime(plan.AS_OF.year, plan.AS_OF.month, plan.AS_OF.day)
    yield (
        "users",
        pl.DataFrame(
            {
                "id": range(1, len(STAFF) + 1),
                "username": [s.username for s in STAFF],
                "display_name": [s.display_name for s in STAFF],
                "email": [f"{s.username}@staff.example.com" for s in STAFF],
                "role": [str(s.role) for s in STAFF],
                "active": [s.left_on is None for s in STAFF],
                "manager_id": [
                    None if s.manager is None else [t.username for t in STAFF].index(s.manager) + 1
                    for s in STAFF
                ],
                "locale": ["en"] * len(STAFF),
                "created_at": [datetime(2020, 1, 6)] * len(STAFF),
                "left_at": [
                    None
                    if s.left_on is None
                    else datetime(s.left_on.year, s.left_on.month, s.left_on.day)
                    for s in STAFF
                ],
            }
        ),
    )
    yield (
        "partners",
        pl.DataFrame(
            {
                "id": range(1, len(PARTNERS) + 1),
                "source": [SOURCE] * len(PARTNERS),
                "external_id": [f"PA{i:03d}" for i in range(1, len(PARTNERS) + 1)],
                "name": [p[0] for p in PARTNERS],
                "industry": [p[1] for p in PARTNERS],
                "country": [p[2] for p in PARTNERS],
                "created_at": [datetime(2020, 6, 1)] * len(PARTNERS),
            }
        ),
    )
    np_ = len(catalogue.names)
    yield (
        "products",
        pl.DataFrame(
            {
                "id": range(1, np_ + 1),
                "source": [SOURCE] * np_,
                "external_id": [f"P{i:04d}" for i in range(1, np_ + 1)],
                "name": list(catalogue.names),
                "category": [PRODUCT_CATEGORIES[c].code for c in catalogue.category],
                "price_minor": catalogue.price,
                "unit_cost_minor": catalogue.cost,
                "active": [True] * np_,
                "created_at": [datetime(2020, 6, 1)] * np_,
            }
        ),
    )
    acq_campaign = _acquisition_campaigns(pop)
    yield "campaigns", _campaign_frame(pop, acq_campaign)
    yield "customers", _customer_frame(pop, acq_campaign, np.random.default_rng([seed, 3]))
    yield from _side_tables(pop, camp)
    extra_revenue: Counter[int] = Counter()
    order_id, line_id, event_id = 1, 1, 1
    for block, lo in enumerate(range(0, customers, BLOCK)):
        hi = min(customers, lo + BLOCK)
        brng = np.random.default_rng([seed, 100 + block])
        ob = make_orders(pop, camp, catalogue, lo, hi, brng)
        ev = make_events(pop, camp, ob, lo, hi, brng)
        n_o, n_l = len(ob.order_customer), len(ob.line_order)
        oids = np.arange(order_id, order_id + n_o)
        yield (
            "orders",
            pl.DataFrame(
                {
                    "id": oids,
                    "source": pl.Series([SOURCE]).extend_constant(SOURCE, n_o - 1)
                    if n_o
                    else pl.Series([], dtype=pl.String),
                    "external_id": pl.Series(oids).cast(pl.String).str.zfill(9),
                    "customer_id": ob.order_customer + 1,
                    "ordered_at": _ts(ob.order_ts),
                    "status": _labels(tuple(ORDER_STATUSES), ob.order_status),
                    "total_minor": ob.order_total,
                    "discount_minor": ob.order_discount,
                    "cost_minor": ob.order_cost,
                    "handled_by_id": _nullable(ob.order_handler),
                    "campaign_id": _nullable(ob.order_campaign),
                    "sales_channel": pl.Series(
                        np.where(ob.order_handler > 0, "sales_rep", "web_shop"), dtype=pl.String
                    ),
                }
            ),
        )
        yield (
            "order_lines",
            pl.DataFrame(
                {
                    "id": np.arange(line_id, line_id + n_l),
                    "order_id": oids[ob.line_order],
                    "line_no": ob.line_no,
                    "product_id": ob.line_product + 1,
                    "quantity": ob.line_qty,
                    "unit_price_minor": ob.line_price,
                    "unit_cost_minor": ob.line_cost,
                    "discount_minor": ob.line_discount,
                }
            ),
        )
        c = ev.cols
        n_e = len(c["customer"])
        eids = np.arange(event_id, event_id + n_e)
        yield (
            "events",
            pl.DataFrame(
                {
                    "id": eids,
                    "source": pl.Series([SOURCE] * 1).extend_constant(SOURCE, n_e - 1)
                    if n_e
                    else pl.Series([], dtype=pl.String),
                    "external_id": pl.Series(eids).cast(pl.String).str.zfill(9),
                    "customer_id": c["customer"] + 1,
                    "occurred_at": _ts(ev.ts),
                    "kind": _labels(tuple(EVENT_KINDS), c["kind"]),
                    "amount_minor": _nullable(c["amount"], -1),
                    "cost_minor": _nullable(c["cost"], -1),
                    "rating": _nullable(c["rating"], -1),
                    "status": pl.Series(
                        np.array((*EVENT_STATUSES, ""), dtype=object)[c["status"]], dtype=pl.String
                    ).replace("", None),
                    "handled_by_id": _nullable(c["handler"]),
                    "campaign_id": _nullable(c["campaign"]),
                    "order_id": pl.Series(
                        np.where(c["order"] >= 0, oids[np.maximum(c["order"], 0)] if n_o else 0, 0)
                    ).replace(0, None),
                    "related_customer_id": _nullable(c["related"]),
                }
            ),
        )
        yield "demo_truths", _truth_frame(pop, lo, hi, ev.net_whole, as_of)
        order_id, line_id, event_id = order_id + n_o, line_id + n_l, event_id + n_e
        _gather(stats, pop, ob, c, lo, hi, extra_revenue)
    yield "demo_campaign_truths", _campaign_truths(camp, extra_revenue, stats)


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


def _campaign_frame(pop: Population, acq_campaign: IntArray) -> pl.DataFrame:
    won = np.bincount(acq_campaign, minlength=len(CAMPAIGNS) + 1)
    cost = []
    for cid, spec in enumerate(CAMPAIGNS, start=1):
        if spec.purpose == "acquisition" and spec.acquisition_channel is not None:
            cost.append(int(won[cid]) * plan.CAC_MINOR[spec.acquisition_channel])
        else:
            cost.append(250_000_000 if spec.purpose == "uplift" else 80_000_000)
    return pl.DataFrame(
        {
            "id": range(1, len(CAMPAIGNS) + 1),
            "source": [SOURCE] * len(CAMPAIGNS),
            "external_id": [f"CA{i:03d}" for i in range(1, len(CAMPAIGNS) + 1)],
            "name": [s.name for s in CAMPAIGNS],
            "channel": [str(s.channel) for s in CAMPAIGNS],
            "cost_minor": cost,
            "starts_on": [s.starts_on for s in CAMPAIGNS],
            "ends_on": [s.ends_on for s in CAMPAIGNS],
            "partner_id": [s.partner_id for s in CAMPAIGNS],
            "owner_id": [2] * len(CAMPAIGNS),
        },
        schema_overrides={"partner_id": pl.Int64},
    )


def _customer_frame(
    pop: Population, acq_campaign: IntArray, rng: np.random.Generator
) -> pl.DataFrame:
    people = people_columns(pop, rng)
    acquired = _ts(plan.AS_OF_EPOCH - pop.acquired_day * 86_400 + 9 * 3600)
    attrs = [json.dumps({"segment": s.code}) for s in SEGMENTS]
    return pl.DataFrame(
        {
            "id": np.arange(1, pop.n + 1),
            "kind": pl.Series(np.where(pop.company, "company", "person"), dtype=pl.String),
            **people,
            "acquisition_channel": _labels(tuple(str(c) for c in plan.CHANNELS), pop.channel),
            "acquisition_campaign_id": _nullable(acq_campaign),
            "acquired_at": acquired,
            "referred_by_customer_id": _nullable(pop.referrer),
            "referred_by_partner_id": _nullable(pop.partner),
            "owner_id": _nullable(pop.owner),
            "attributes": _labels(tuple(attrs), pop.segment),
            "created_at": acquired,
            "updated_at": acquired,
        }
    )


def _side_tables(pop: Population, camp: object) -> Iterator[tuple[str, pl.DataFrame]]:
    from clientbase.demo.campaigns import CampaignPlan

    assert isinstance(camp, CampaignPlan)
    ids = np.arange(1, pop.n + 1)
    yield (
        "customer_external_ids",
        pl.DataFrame(
            {
                "id": ids,
                "customer_id": ids,
                "source": pl.Series(["webshop"] * pop.n, dtype=pl.String),
                "external_id": pl.Series(ids).cast(pl.String).str.zfill(8),
            }
        ),
    )
    known = np.flatnonzero(pop.rung >= 2) + 1
    purposes = (ConsentPurpose.MARKETING_EMAIL, ConsentPurpose.PROFILING)
    granted = np.random.default_rng(len(known)).random(2 * len(known)) < 0.8
    cons_ids = np.arange(1, 2 * len(known) + 1)
    recorded = _ts(
        plan.AS_OF_EPOCH - pop.acquired_day[np.repeat(known - 1, 2)] * 86_400 + 10 * 3600
    )
    yield (
        "customer_consents",
        pl.DataFrame(
            {
                "id": cons_ids,
                "customer_id": np.repeat(known, 2),
                "purpose": _labels(tuple(str(p) for p in purposes), np.tile([0, 1], len(known))),
                "granted": granted,
                "recorded_at": recorded,
                "source": pl.Series(["webshop"] * len(cons_ids), dtype=pl.String),
            }
        ),
    )
    m = len(camp.customer)
    contacted = np.where(
        camp.contacted_day > 0, plan.AS_OF_EPOCH - camp.contacted_day * 86_400 + 36_000, 0
    )
    responded = np.where(
        camp.responded_day > 0, plan.AS_OF_EPOCH - camp.responded_day * 86_400 + 54_000, 0
    )
    yield (
        "campaign_members",
        pl.DataFrame(
            {
                "id": np.arange(1, m + 1),
                "campaign_id": camp.campaign,
                "customer_id": camp.customer + 1,
                "arm": pl.Series(
                    np.where(camp.treatment, str(CampaignArm.TREATMENT), str(CampaignArm.CONTROL)),
                    dtype=pl.String,
                ),
                "contacted_at": _ts(contacted).replace(EPOCH, None),
                "responded_at": _ts(responded).replace(EPOCH, None),
            }
        ),
    )


def _truth_frame(
    pop: Population, lo: int, hi: int, net: NDArray[np.float64], as_of: datetime
) -> pl.DataFrame:
    idx = np.arange(lo, hi)
    arch = [plan.ARCHETYPES[a] for a in pop.archetype[idx]]
    cats = [None if c is None else str(c) for c in CATEGORY_CODES]
    traits = [
        json.dumps(
            {
                "as_of": as_of.date().isoformat(),
                "archetype": a.code,
                "variant": a.variant,
                "channel": str(plan.CHANNELS[ch]),
                "loss_maker": bool(nw < 0 and buyer),
                "net_contribution_minor": int(nw) if buyer else 0,
                "enrolled": bool(en),
                "persona": SEGMENTS[sg].persona,
            }
        )
        for a, ch, nw, buyer, en, sg in zip(
            arch,
            pop.channel[idx],
            net,
            pop.rung[idx] >= 3,
            pop.enrolled[idx],
            pop.segment[idx],
            strict=True,
        )
    ]
    return pl.DataFrame(
        {
            "customer_id": idx + 1,
            "rung": pop.rung[idx],
            "category": pl.Series([cats[c] for c in pop.category[idx]], dtype=pl.String),
            "segment": _labels(tuple(s.code for s in SEGMENTS), pop.segment[idx]),
            "traits": pl.Series(traits, dtype=pl.String),
        }
    )


def _gather(
    stats: DemoStats,
    pop: Population,
    ob: object,
    c: dict[str, IntArray],
    lo: int,
    hi: int,
    extra: Counter[int],
) -> None:
    from clientbase.demo.orders import COMPLETED, OrderBlock

    assert isinstance(ob, OrderBlock)
    idx = np.arange(lo, hi)
    for ch, k in zip(*np.unique(pop.channel[idx], return_counts=True), strict=True):
        stats.customers_by_channel[str(plan.CHANNELS[ch])] += int(k)
    for r, ca in zip(pop.rung[idx], pop.category[idx], strict=True):
        stats.customers_by_rung_category[(int(r), str(CATEGORY_CODES[ca] or "-"))] += 1
    done = ob.order_status == COMPLETED
    stats.orders += len(ob.order_status)
    stats.completed_orders += int(done.sum())
    stats.revenue_minor += int(ob.order_total[done].sum())
    stats.order_lines += len(ob.line_order)
    for k, cnt in zip(*np.unique(c["kind"], return_counts=True), strict=True):
        stats.events_by_kind[str(EVENT_KINDS[k])] += int(cnt)
    for o, cnt in zip(*np.unique(pop.owner[idx], return_counts=True), strict=True):
        stats.rep_customers[int(o)] += int(cnt)
    rev = np.bincount(pop.owner[ob.order_customer[done]], weights=ob.order_total[done])
    for o in np.flatnonzero(rev):
        stats.rep_revenue_minor[int(o)] += int(rev[o])
    camp_done = done & (ob.order_campaign > 0)
    for k in np.unique(ob.order_campaign[camp_done]):
        extra[int(k)] += int(ob.order_total[camp_done & (ob.order_campaign == k)].sum())


def _campaign_truths(camp: object, extra: Counter[int], stats: DemoStats) -> pl.DataFrame:
    from clientbase.demo.campaigns import CampaignPlan

    assert isinstance(camp, CampaignPlan)
    rows: dict[str, list[object]] = {
        k: [] for k in ("campaign_id", "purpose", "planted_uplift_minor", "traits")
    }
    for cid, spec in enumerate(CAMPAIGNS, start=1):
        members = camp.campaign == cid
        treated = int((members & camp.treatment).sum())
        control = int((members & ~camp.treatment).sum())
        uplift = round(extra[cid] / treated) if treated and spec.purpose == "uplift" else 0
        traits = {
            "as_of": plan.AS_OF.isoformat(),
            "treatment": treated,
            "control": control,
            "treatment_share": TREATMENT_SHARE if spec.purpose != "acquisition" else None,
            "response_rate": spec.response_rate,
            "extra_orders_per_responder": 1 if spec.purpose == "uplift" else 0,
            "extra_revenue_minor": extra[cid],
            "window": [spec.starts_on.isoformat(), spec.ends_on.isoformat()],
        }
        rows["campaign_id"].append(cid)
        rows["purpose"].append(spec.purpose)
        rows["planted_uplift_minor"].append(uplift if spec.purpose == "uplift" else None)
        rows["traits"].append(json.dumps(traits))
        if spec.purpose != "acquisition":
            stats.campaigns.append(
                {
                    "name": spec.name,
                    "purpose": spec.purpose,
                    **traits,
                    "uplift_per_treated_minor": uplift,
                }
            )
    return pl.DataFrame(rows, schema_overrides={"planted_uplift_minor": pl.Int64})
