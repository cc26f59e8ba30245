"""The policy file, reasons in three languages, RFM and profitability."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from clientbase.domain.policy import Policy, default_policy, parse_policy, policy_hash
from clientbase.domain.profitability import (
    ContributionParts,
    contribution_parts,
    loss_drivers,
    whale_curve,
)
from clientbase.domain.reason_texts import TEXTS
from clientbase.domain.reasons import Reason, build_reasons, render
from clientbase.domain.rfm import quantile_scores, rfm_scores, rfm_segments
from clientbase.errors import ConfigurationError
from tests.unit.domain.conftest import BASE, MEMBER, one


def test_default_policy_is_the_documented_one() -> None:
    p = default_policy()
    assert p.rungs.member_min_occasions == 4
    assert p.activity.min_allowed_days == 90 and p.activity.gap_multiplier == 3.0
    assert p.categories.demanding_min_complaints == 3
    assert p.categories.demanding_cost_to_serve_share == 0.5
    assert p.rungs.detractor_nps_max == 6 and p.rungs.advocate_nps_min == 9
    assert p.windows.advocacy_days == 730


def test_a_user_file_overrides_keys_and_changes_the_hash() -> None:
    p = parse_policy("[categories]\ndemanding_min_complaints = 5\n")
    assert p.categories.demanding_min_complaints == 5
    assert p.rungs.member_min_occasions == 4
    assert policy_hash(p) != policy_hash(default_policy())
    assert policy_hash(default_policy()) == policy_hash(parse_policy(""))
    assert len(policy_hash(p)) == 64
    assert Policy.from_dict(p.to_dict()) == p


@pytest.mark.parametrize(
    "text",
    [
        "[rungs]\nmember_min = 4\n",
        "[rungs]\nmember_min_occasions = 'four'\n",
        "[rungs]\nmember_min_occasions = -1\n",
        "[activity]\np_alive_min = 1.5\n",
        "not toml = = =",
        "[[rfm.segments]]\nname = 'x'\nr = [0, 5]\nf = [1, 5]\nm = [1, 5]\n",
    ],
)
def test_a_wrong_policy_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_policy(text)


def _row(features: dict[str, Any], **extra: Any) -> dict[str, Any]:
    c = one(features)
    return {
        **features,
        "rung": int(c.rung[0]),
        "rung_reason": c.rung_reason[0],
        "rung_blocker": c.rung_blocker[0],
        "category_reason": c.category_reason[0],
        "allowed_days": int(c.allowed_days[0]),
        **extra,
    }


def test_the_issue_sentence() -> None:
    client = {**MEMBER, "occasions": 3, "occasions_trailing": 2}
    reasons = build_reasons(_row(client), default_policy())
    assert reasons[0] == Reason("rung.client", {"occasions": 3})
    assert reasons[1] == Reason(
        "next.not_regular", {"occasions_trailing": 2, "days": 365, "needed": 4}
    )
    assert render(reasons[:2]) == (
        "client: 3 purchase occasions; not a member: 2 in the last 365 days, 4 needed"
    )
    assert render(reasons[:2], "hu") == (
        "ügyfél: 3 vásárlási alkalom; nem tag: 2 az elmúlt 365 napban, 4 kell"
    )
    assert render(reasons[:2], "pl").startswith("klient: 3 okazje zakupowe; nie jest członkiem")


def test_every_code_has_a_text_in_every_language() -> None:
    assert set(TEXTS["en"]) == set(TEXTS["hu"]) == set(TEXTS["pl"])
    cases = [
        BASE,
        {**BASE, "interest_signals": 2},
        {**BASE, "occasions": 1, "days_since_last": 400},
        {**MEMBER, "occasions_trailing": 2},
        {**MEMBER, "days_since_last": 200},
        MEMBER,
        {**MEMBER, "loyalty_enrolled": True, "occasions_trailing": 0},
        {**MEMBER, "nps_latest": 3},
        {**MEMBER, "testimonials": 1},
        {**MEMBER, "testimonials": 1, "referrals_converted": 2},
        {**MEMBER, "cancelled": True},
        {**MEMBER, "complaints_trailing": 4},
        {**MEMBER, "cost_to_serve_trailing_minor": 40_000},
        {
            **MEMBER,
            "net_contribution_minor": -5,
            "cost_to_serve_minor": 9,
            "net_contribution_trailing_minor": 0,
        },
        {**MEMBER, "complaints_trailing": 2},
        {**MEMBER, "net_contribution_trailing_minor": 0},
    ]
    seen = set()
    for features in cases:
        reasons = build_reasons(_row(features, p_alive=None), default_policy())
        for lang in ("en", "hu", "pl"):
            assert render(reasons, lang)
        seen |= {r.code for r in reasons}
    p_reason = Reason("category.lost.p_alive", {"p_alive": 0.1, "minimum": 0.2})
    assert render([p_reason]) == "lost: probability of being alive 10%, under 20%"
    seen.add(p_reason.code)
    assert seen == set(TEXTS["en"])


def test_polish_plurals() -> None:
    texts = [render([Reason("rung.client", {"occasions": n})], "pl") for n in (2, 5, 12, 22)]
    assert texts == [
        "klient: 2 okazje zakupowe",
        "klient: 5 okazji zakupowych",
        "klient: 12 okazji zakupowych",
        "klient: 22 okazje zakupowe",
    ]


def test_default_rfm_segments_cover_every_score() -> None:
    combos = np.array(list(itertools.product(range(1, 6), repeat=3)))
    names = rfm_segments(combos[:, 0], combos[:, 1], combos[:, 2], default_policy())
    assert all(n is not None for n in names)
    assert set(names) == {s.name for s in default_policy().rfm.segments}


def test_quantile_scores_give_ties_one_score() -> None:
    values = np.array([1, 1, 1, 1, 2, 3, 4, 5, 6, 7])
    mask = np.ones(10, dtype=bool)
    scores = quantile_scores(values, mask, 5, higher_is_better=True)
    assert list(scores) == [1, 1, 1, 1, 3, 3, 4, 4, 5, 5]
    recency = quantile_scores(values, mask, 5, higher_is_better=False)
    assert recency[0] == 4 and recency[-1] == 1
    rfm = rfm_scores(np.array([5, 0]), np.array([3, 0]), np.array([100, 0]), default_policy())
    assert rfm.r[1] == 0 and rfm.segment[1] is None and rfm.segment[0] is not None


def test_loss_drivers_name_the_lines_that_sink_the_customer() -> None:
    parts = ContributionParts(
        revenue_minor=10_000,
        discount_minor=500,
        cogs_minor=6_000,
        costs={
            "returns_minor": 3_000,
            "bonuses_minor": 0,
            "complaint_cost_minor": 2_500,
            "service_cost_minor": 100,
            "acquisition_cost_minor": 200,
        },
    )
    assert parts.gross_margin_minor == 4_000
    assert parts.net_contribution_minor == -1_800
    assert loss_drivers(parts) == [("returns_minor", 3_000), ("complaint_cost_minor", 2_500)]
    assert loss_drivers(contribution_parts({"revenue_minor": 5, "cogs_minor": 1})) == []


def test_whale_curve() -> None:
    curve = whale_curve(np.array([-50, 100, 300, -150, 0]))
    assert list(curve.cumulative_minor) == [300, 400, 400, 350, 200]
    assert curve.peak_minor == 400 and curve.total_minor == 200
    assert curve.peak_customer_share == pytest.approx(0.4)
    assert math.isclose(curve.peak_percent_of_total, 200.0)
