"""Polars frames of the demo business, one builder per table (columns named as the schema's).

Everything is built column-wise: labels are gathered from small vocabularies, nullable ids
are masked, JSON documents are concatenated from pre-encoded fragments, so no Python object
is created per row (a million customers and ten million orders take seconds).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime

import numpy as np
import polars as pl
from numpy.typing import NDArray

from clientbase.demo import plan
from clientbase.demo.campaigns import TREATMENT_SHARE, CampaignPlan
from clientbase.demo.cast import CAMPAIGNS, PARTNERS, STAFF
from clientbase.demo.events import EVENT_KINDS, EVENT_STATUSES, EventBlock
from clientbase.demo.orders import ORDER_STATUSES, Catalogue, OrderBlock
from clientbase.demo.people import people_columns
from clientbase.demo.population import CATEGORY_CODES, Population
from clientbase.demo.vocab import PRODUCT_CATEGORIES, SEGMENTS
from clientbase.domain.vocabulary import CampaignArm, ConsentPurpose

__all__ = [
    "ORDERED_INDEXES",
    "SOURCE",
    "activity_frames",
    "campaign_frame",
    "campaign_truth_frame",
    "cast_frames",
    "customer_frame",
    "side_frames",
    "truth_frame",
]

SOURCE = "demo"
#: Secondary indexes of the schema whose rows the generator yields in index order (ids and
#: blocks follow customers; orders and events are sorted by customer and time in a block).
ORDERED_INDEXES = frozenset(
    {
        "ix_orders_customer_id_ordered_at",
        "ix_events_customer_id_occurred_at",
        "ix_campaign_members_customer_id",
        "ix_customer_external_ids_customer_id",
    }
)
IntArray = NDArray[np.int64]
_STAFF_CREATED = datetime(2020, 1, 6)
_CAST_CREATED = datetime(2020, 6, 1)


def timestamps(seconds: IntArray) -> pl.Series:
    """Epoch seconds as a microsecond datetime column."""
    return pl.Series(seconds.astype(np.int64) * 1_000_000).cast(pl.Datetime("us"))


def nullable(values: IntArray, null: int = 0) -> pl.Series:
    """An integer column where ``null`` means NULL."""
    series = pl.Series(values.astype(np.int64))
    missing = np.flatnonzero(values == null)
    return series.scatter(missing, None) if len(missing) else series


def labels(values: Sequence[str | None], index: IntArray) -> pl.Series:
    """``values[index]`` as a string column (``None`` entries become NULL)."""
    return pl.Series(list(values), dtype=pl.String).gather(index)


def constant(value: str, n: int) -> pl.Series:
    return pl.repeat(value, n, dtype=pl.String, eager=True)


def padded_ids(ids: IntArray, width: int) -> pl.Series:
    """``ids`` as zero-padded strings of ``width`` digits (ids below ``10**width``)."""
    return pl.Series(ids + 10**width).cast(pl.String).str.slice(1)


def cast_frames(catalogue: Catalogue) -> Iterator[tuple[str, pl.DataFrame]]:
    """Users, partner companies and products: the same for every size and seed."""
    usernames = [s.username for s in STAFF]
    yield (
        "users",
        pl.DataFrame(
            {
                "id": range(1, len(STAFF) + 1),
                "username": usernames,
                "display_name": [s.display_name for s in STAFF],
                "email": [f"{s.username}@staff.example.com" for s in STAFF],
                "role": [str(s.role) for s in STAFF],
                "active": [s.left_on is None for s in STAFF],
                "manager_id": [
                    None if s.manager is None else usernames.index(s.manager) + 1 for s in STAFF
                ],
                "locale": ["en"] * len(STAFF),
                "created_at": [_STAFF_CREATED] * len(STAFF),
                "left_at": [
                    None
                    if s.left_on is None
                    else datetime(s.left_on.year, s.left_on.month, s.left_on.day)
                    for s in STAFF
                ],
            }
        ),
    )
    n = len(PARTNERS)
    yield (
        "partners",
        pl.DataFrame(
            {
                "id": range(1, n + 1),
                "source": [SOURCE] * n,
                "external_id": [f"PA{i:03d}" for i in range(1, n + 1)],
                "name": [p[0] for p in PARTNERS],
                "industry": [p[1] for p in PARTNERS],
                "country": [p[2] for p in PARTNERS],
                "created_at": [_CAST_CREATED] * n,
            }
        ),
    )
    n = len(catalogue.names)
    yield (
        "products",
        pl.DataFrame(
            {
                "id": range(1, n + 1),
                "source": [SOURCE] * n,
                "external_id": [f"P{i:04d}" for i in range(1, n + 1)],
                "name": list(catalogue.names),
                "category": [PRODUCT_CATEGORIES[c].code for c in catalogue.category],
                "price_minor": catalogue.price,
                "unit_cost_minor": catalogue.cost,
                "active": [True] * n,
                "created_at": [_CAST_CREATED] * n,
            }
        ),
    )


def campaign_frame(acq_campaign: IntArray) -> pl.DataFrame:
    """Campaigns; an acquisition campaign costs its channel's CAC per customer it won."""
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


def customer_frame(
    pop: Population, acq_campaign: IntArray, rng: np.random.Generator
) -> pl.DataFrame:
    """Every customer with identity, demographics, acquisition, referrer and owner."""
    people = people_columns(pop, rng)
    acquired = timestamps(plan.AS_OF_EPOCH - pop.acquired_day * 86_400 + 9 * 3600)
    attrs = [json.dumps({"segment": s.code}) for s in SEGMENTS]
    return pl.DataFrame(
        {
            "id": np.arange(1, pop.n + 1),
            "kind": labels(("person", "company"), pop.company.astype(np.int64)),
            **people,
            "acquisition_channel": labels([str(c) for c in plan.CHANNELS], pop.channel),
            "acquisition_campaign_id": nullable(acq_campaign),
            "acquired_at": acquired,
            "referred_by_customer_id": nullable(pop.referrer),
            "referred_by_partner_id": nullable(pop.partner),
            "owner_id": nullable(pop.owner),
            "attributes": labels(attrs, pop.segment),
            "created_at": acquired,
            "updated_at": acquired,
        }
    )


def side_frames(pop: Population, camp: CampaignPlan) -> Iterator[tuple[str, pl.DataFrame]]:
    """External ids, consents (for every customer who showed interest) and campaign members."""
    ids = np.arange(1, pop.n + 1)
    yield (
        "customer_external_ids",
        pl.DataFrame(
            {
                "id": ids,
                "customer_id": ids,
                "source": constant("webshop", pop.n),
                "external_id": padded_ids(ids, 8),
            }
        ),
    )
    known = np.flatnonzero(pop.rung >= 2) + 1
    purposes = (ConsentPurpose.MARKETING_EMAIL, ConsentPurpose.PROFILING)
    granted = np.random.default_rng(len(known)).random(2 * len(known)) < 0.8
    n_cons = 2 * len(known)
    recorded = timestamps(
        plan.AS_OF_EPOCH - pop.acquired_day[np.repeat(known - 1, 2)] * 86_400 + 10 * 3600
    )
    yield (
        "customer_consents",
        pl.DataFrame(
            {
                "id": np.arange(1, n_cons + 1),
                "customer_id": np.repeat(known, 2),
                "purpose": labels([str(p) for p in purposes], np.tile([0, 1], len(known))),
                "granted": granted,
                "recorded_at": recorded,
                "source": constant("webshop", n_cons),
            }
        ),
    )
    m = len(camp.customer)
    contacted = plan.AS_OF_EPOCH - camp.contacted_day * 86_400 + 36_000
    responded = plan.AS_OF_EPOCH - camp.responded_day * 86_400 + 54_000
    yield (
        "campaign_members",
        pl.DataFrame(
            {
                "id": np.arange(1, m + 1),
                "campaign_id": camp.campaign,
                "customer_id": camp.customer + 1,
                "arm": labels(
                    (str(CampaignArm.CONTROL), str(CampaignArm.TREATMENT)),
                    camp.treatment.astype(np.int64),
                ),
                "contacted_at": timestamps(contacted).scatter(
                    np.flatnonzero(camp.contacted_day <= 0), None
                ),
                "responded_at": timestamps(responded).scatter(
                    np.flatnonzero(camp.responded_day <= 0), None
                ),
            }
        ),
    )


def activity_frames(
    ob: OrderBlock, ev: EventBlock, first_order: int, first_line: int, first_event: int
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Orders, order lines and events of one block, numbered from the given first ids."""
    n_o, n_l = len(ob.order_customer), len(ob.line_order)
    oids = np.arange(first_order, first_order + n_o)
    yield (
        "orders",
        pl.DataFrame(
            {
                "id": oids,
                "source": constant(SOURCE, n_o),
                "external_id": padded_ids(oids, 9),
                "customer_id": ob.order_customer + 1,
                "ordered_at": timestamps(ob.order_ts),
                "status": labels([str(s) for s in ORDER_STATUSES], ob.order_status),
                "total_minor": ob.order_total,
                "discount_minor": ob.order_discount,
                "cost_minor": ob.order_cost,
                "handled_by_id": nullable(ob.order_handler),
                "campaign_id": nullable(ob.order_campaign),
                "sales_channel": labels(
                    ("web_shop", "sales_rep"), (ob.order_handler > 0).astype(np.int64)
                ),
            }
        ),
    )
    yield (
        "order_lines",
        pl.DataFrame(
            {
                "id": np.arange(first_line, first_line + n_l),
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
    eids = np.arange(first_event, first_event + n_e)
    order = c["order"]
    order_id = np.where(order >= 0, oids[np.maximum(order, 0)], 0) if n_o else np.zeros(n_e)
    yield (
        "events",
        pl.DataFrame(
            {
                "id": eids,
                "source": constant(SOURCE, n_e),
                "external_id": padded_ids(eids, 9),
                "customer_id": c["customer"] + 1,
                "occurred_at": timestamps(ev.ts),
                "kind": labels([str(k) for k in EVENT_KINDS], c["kind"]),
                "amount_minor": nullable(c["amount"], -1),
                "cost_minor": nullable(c["cost"], -1),
                "rating": nullable(c["rating"], -1),
                "status": labels(
                    (*EVENT_STATUSES, None),
                    np.where(c["status"] >= 0, c["status"], len(EVENT_STATUSES)),
                ),
                "handled_by_id": nullable(c["handler"]),
                "campaign_id": nullable(c["campaign"]),
                "order_id": nullable(order_id.astype(np.int64)),
                "related_customer_id": nullable(c["related"]),
            }
        ),
    )


def _json_fragments(values: Sequence[object]) -> pl.Series:
    return pl.Series([json.dumps(v) for v in values], dtype=pl.String)


def truth_frame(pop: Population, lo: int, hi: int, net: NDArray[np.float64]) -> pl.DataFrame:
    """The planted truth of customers ``lo <= index < hi``; traits as one JSON document."""
    idx = np.arange(lo, hi)
    buyer = pop.rung[idx] >= 3
    net_whole = np.where(buyer, np.trunc(net), 0).astype(np.int64)
    arch = pop.archetype[idx]
    head = [
        f'{{"as_of": "{plan.AS_OF.isoformat()}", "archetype": {json.dumps(a.code)}, '
        f'"variant": {json.dumps(a.variant)}, "channel": '
        for a in plan.ARCHETYPES
    ]
    parts = pl.DataFrame(
        {
            "head": pl.Series(head, dtype=pl.String).gather(arch),
            "channel": _json_fragments([str(c) for c in plan.CHANNELS]).gather(pop.channel[idx]),
            "loss": _json_fragments([False, True]).gather((buyer & (net < 0)).astype(np.int64)),
            "net": pl.Series(net_whole).cast(pl.String),
            "enrolled": _json_fragments([False, True]).gather(pop.enrolled[idx].astype(np.int64)),
            "persona": _json_fragments([s.persona for s in SEGMENTS]).gather(pop.segment[idx]),
        }
    )
    traits = parts.select(
        pl.concat_str(
            pl.col("head"),
            pl.col("channel"),
            pl.lit(', "loss_maker": '),
            pl.col("loss"),
            pl.lit(', "net_contribution_minor": '),
            pl.col("net"),
            pl.lit(', "enrolled": '),
            pl.col("enrolled"),
            pl.lit(', "persona": '),
            pl.col("persona"),
            pl.lit("}"),
        )
    ).to_series()
    return pl.DataFrame(
        {
            "customer_id": idx + 1,
            "rung": pop.rung[idx],
            "category": labels(
                [None if c is None else str(c) for c in CATEGORY_CODES], pop.category[idx]
            ),
            "segment": labels([s.code for s in SEGMENTS], pop.segment[idx]),
            "traits": traits,
        }
    )


def campaign_truth_frame(
    camp: CampaignPlan, extra: Counter[int]
) -> tuple[pl.DataFrame, list[dict[str, object]]]:
    """One truth row per campaign, and the summary of those with a control group."""
    rows: dict[str, list[object]] = {
        k: [] for k in ("campaign_id", "purpose", "planted_uplift_minor", "traits")
    }
    summary: list[dict[str, object]] = []
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
            summary.append(
                {
                    "name": spec.name,
                    "purpose": spec.purpose,
                    **traits,
                    "uplift_per_treated_minor": uplift,
                }
            )
    frame = pl.DataFrame(rows, schema_overrides={"planted_uplift_minor": pl.Int64})
    return frame, summary
