"""Campaign membership with random control groups, and the purchases they planted.

Uplift campaigns draw a share of the eligible regular buyers (members and above, loyal or
average, acquired well before the campaign); each is put in the treatment arm with
probability 0.7, else in control. Treated customers respond with the campaign's response
rate and each responder places one extra order inside the campaign window: the planted
uplift is that order, so treatment buys more than control by ``response_rate`` extra orders
per treated customer (realised revenue recorded in the campaign's truth). Extra orders never
change a planted rung or category, because only members that are loyal or average are drawn.
Outreach contacts suspects and prospects; only prospects respond (an interest signal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from clientbase.demo import plan
from clientbase.demo.cast import CAMPAIGNS
from clientbase.demo.population import CATEGORY_CODES, Population
from clientbase.domain.vocabulary import Rung, ValueCategory

__all__ = ["CampaignPlan", "plant_campaigns"]

IntArray = NDArray[np.int64]
TREATMENT_SHARE = 0.7


@dataclass(slots=True)
class CampaignPlan:
    """Members of every campaign (sorted by customer) and the extra orders they placed."""

    customer: IntArray  # customer index
    campaign: IntArray  # campaign id
    treatment: NDArray[np.bool_]
    contacted_day: IntArray  # 0 = not contacted (control)
    responded_day: IntArray  # 0 = no response
    extra_customer: IntArray  # extra (campaign) orders: customer index
    extra_day: IntArray
    extra_campaign: IntArray


def _days_before(d: date) -> int:
    return (plan.AS_OF - d).days


def plant_campaigns(pop: Population, rng: np.random.Generator) -> CampaignPlan:
    """Draw members, arms, contacts, responses and the planted extra orders."""
    rung, cat = pop.rung, pop.category
    good = np.isin(
        cat,
        [CATEGORY_CODES.index(ValueCategory.LOYAL), CATEGORY_CODES.index(ValueCategory.AVERAGE)],
    )
    regular = (rung >= Rung.MEMBER) & good
    early = rung <= Rung.PROSPECT
    parts: dict[str, list[IntArray]] = {k: [] for k in ("c", "k", "t", "cd", "rd")}
    extra: dict[str, list[IntArray]] = {k: [] for k in ("c", "d", "k")}
    for cid, spec in enumerate(CAMPAIGNS, start=1):
        if spec.purpose == "acquisition":
            continue
        start, end = _days_before(spec.starts_on), _days_before(spec.ends_on)
        pool = (regular if spec.purpose == "uplift" else early) & (pop.acquired_day > start + 30)
        chosen = np.flatnonzero(pool & (rng.random(pop.n) < spec.sample_share))
        m = len(chosen)
        treat = rng.random(m) < TREATMENT_SHARE
        contacted = np.where(treat, start - rng.integers(0, 3, m), 0)
        respond = treat & (rng.random(m) < spec.response_rate)
        if spec.purpose == "outreach":
            respond &= rung[chosen] == Rung.PROSPECT
        span = max(1, start - end - 3)
        responded = np.where(respond, contacted - 1 - rng.integers(0, span, m), 0)
        responded = np.maximum(responded, np.where(respond, end, 0))
        parts["c"].append(chosen)
        parts["k"].append(np.full(m, cid, dtype=np.int64))
        parts["t"].append(treat.astype(np.int64))
        parts["cd"].append(contacted.astype(np.int64))
        parts["rd"].append(responded.astype(np.int64))
        if spec.purpose == "uplift":
            buyers = chosen[respond]
            extra["c"].append(buyers)
            extra["d"].append(np.maximum(responded[respond] - rng.integers(0, 2, len(buyers)), 1))
            extra["k"].append(np.full(len(buyers), cid, dtype=np.int64))
    cat_all = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in parts.items()}
    order = np.argsort(cat_all["c"], kind="stable")
    ex = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in extra.items()}
    ex_order = np.argsort(ex["c"], kind="stable")
    return CampaignPlan(
        customer=cat_all["c"][order],
        campaign=cat_all["k"][order],
        treatment=cat_all["t"][order].astype(np.bool_),
        contacted_day=cat_all["cd"][order],
        responded_day=cat_all["rd"][order],
        extra_customer=ex["c"][ex_order],
        extra_day=ex["d"][ex_order],
        extra_campaign=ex["k"][ex_order],
    )
