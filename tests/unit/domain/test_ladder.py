"""The rungs and categories at their boundaries, on hand-built customers."""

from __future__ import annotations

import numpy as np
import pytest

from clientbase.domain.ladder import classify
from clientbase.domain.policy import default_policy, parse_policy
from tests.unit.domain.conftest import BASE, MEMBER, one


def test_a_suspect_and_a_prospect() -> None:
    assert one(BASE).rung[0] == 1
    assert one(BASE).category[0] is None
    prospect = one({**BASE, "interest_signals": 1})
    assert (prospect.rung[0], prospect.rung_reason[0], prospect.rung_blocker[0]) == (
        2,
        "prospect",
        "never_bought",
    )
    assert prospect.category[0] is None


def test_one_occasion_is_a_first_time_buyer_two_make_a_client() -> None:
    first = one({**BASE, "occasions": 1, "occasions_trailing": 1, "days_since_last": 10})
    assert (first.rung[0], first.rung_blocker[0]) == (3, "one_occasion")
    client = one(
        {
            **BASE,
            "occasions": 2,
            "occasions_trailing": 2,
            "days_since_last": 10,
            "median_gap_days": 30.0,
        }
    )
    assert (client.rung[0], client.rung_blocker[0]) == (4, "not_regular")


def test_member_needs_four_occasions_in_the_trailing_year() -> None:
    assert one({**MEMBER, "occasions_trailing": 4}).rung[0] == 5
    three = one({**MEMBER, "occasions_trailing": 3})
    assert (three.rung[0], three.rung_blocker[0]) == (4, "not_regular")


def test_loyalty_enrolment_makes_a_member_of_an_active_client() -> None:
    enrolled = one({**MEMBER, "occasions_trailing": 1, "loyalty_enrolled": True})
    assert (enrolled.rung[0], enrolled.rung_reason[0]) == (5, "member.enrolled")


def test_a_member_who_stopped_buying_falls_to_client_and_is_lost() -> None:
    # Median gap 40 days allows max(90, 120) = 120 days of silence.
    at_edge = one({**MEMBER, "days_since_last": 120})
    assert (at_edge.rung[0], at_edge.category[0], at_edge.active[0]) == (5, "loyal", True)
    stopped = one({**MEMBER, "days_since_last": 121})
    assert (stopped.rung[0], stopped.rung_blocker[0]) == (4, "inactive")
    assert (stopped.category[0], stopped.category_reason[0]) == ("lost", "lost.inactive")


def test_activity_floor_and_ceiling() -> None:
    fast = {**MEMBER, "median_gap_days": 7.0}
    assert one({**fast, "days_since_last": 90}).active[0]
    assert not one({**fast, "days_since_last": 91}).active[0]
    slow = {**MEMBER, "median_gap_days": 200.0}
    assert one({**slow, "days_since_last": 365}).active[0]
    assert not one({**slow, "days_since_last": 366}).active[0]
    once = {**BASE, "occasions": 1, "occasions_trailing": 0}
    assert one({**once, "days_since_last": 365}).category[0] == "average"
    assert one({**once, "days_since_last": 366}).category[0] == "lost"


def test_p_alive_hook_marks_lost_only_when_supplied() -> None:
    assert one(MEMBER, p_alive=0.19).category_reason[0] == "lost.p_alive"
    assert one(MEMBER, p_alive=0.19).rung[0] == 4  # no longer active, so not a member
    assert one(MEMBER, p_alive=0.2).category[0] == "loyal"
    assert one(MEMBER, p_alive=float("nan")).category[0] == "loyal"


def test_advocate_needs_a_signal_and_no_detractor_answer() -> None:
    promoter = one({**MEMBER, "promoter_answers": 1, "nps_latest": 9})
    assert (promoter.rung[0], promoter.rung_blocker[0]) == (6, "no_converted_referral")
    detractor = one({**MEMBER, "good_reviews": 2, "nps_latest": 6})
    assert (detractor.rung[0], detractor.rung_blocker[0]) == (5, "detractor")
    passive = one({**MEMBER, "good_reviews": 1, "nps_latest": 7})
    assert passive.rung[0] == 6
    assert one({**MEMBER, "testimonials": 1}).rung[0] == 6
    assert one(MEMBER).rung_blocker[0] == "no_advocacy"


def test_a_referral_that_never_bought_makes_no_partner() -> None:
    advocate = {**MEMBER, "testimonials": 1}
    assert one({**advocate, "referrals_converted": 0}).rung[0] == 6
    partner = one({**advocate, "referrals_converted": 1})
    assert (partner.rung[0], partner.rung_reason[0], partner.rung_blocker[0]) == (7, "partner", "")


def test_cancellation_is_lost_first() -> None:
    result = one({**MEMBER, "cancelled": True, "complaints_trailing": 5})
    assert (result.category[0], result.category_reason[0]) == ("lost", "lost.cancelled")


def test_a_demanding_customer_with_high_revenue() -> None:
    rich = {
        **MEMBER,
        "gross_margin_trailing_minor": 5_000_000,
        "net_contribution_trailing_minor": 4_000_000,
        "net_contribution_minor": 9_000_000,
    }
    assert one({**rich, "complaints_trailing": 2}).category[0] == "average"
    three = one({**rich, "complaints_trailing": 3})
    assert (three.category[0], three.category_reason[0]) == ("demanding", "demanding.complaints")


def test_cost_to_serve_over_half_the_margin_is_demanding() -> None:
    half = {**MEMBER, "gross_margin_trailing_minor": 10_000, "cost_to_serve_trailing_minor": 5_000}
    assert one(half).category[0] == "loyal"
    over = one({**half, "cost_to_serve_trailing_minor": 5_001})
    assert over.category_reason[0] == "demanding.cost_to_serve"


def test_negative_contribution_is_demanding_only_with_cost_to_serve() -> None:
    loss = {
        **MEMBER,
        "gross_margin_trailing_minor": 0,
        "net_contribution_minor": -1,
        "net_contribution_trailing_minor": -1,
    }
    assert one(loss).category_reason[0] == "average.not_profitable"
    costly = one({**loss, "cost_to_serve_minor": 1})
    assert costly.category_reason[0] == "demanding.negative_contribution"


def test_loyal_needs_member_profit_and_at_most_one_complaint() -> None:
    assert one({**MEMBER, "complaints_trailing": 1}).category[0] == "loyal"
    two = one({**MEMBER, "complaints_trailing": 2})
    assert (two.category[0], two.category_reason[0]) == ("average", "average.complaints")
    flat = one({**MEMBER, "net_contribution_trailing_minor": 0})
    assert flat.category_reason[0] == "average.not_profitable"
    client = one({**MEMBER, "occasions_trailing": 3})
    assert client.category_reason[0] == "average.below_member"


def test_thresholds_come_from_the_policy() -> None:
    strict = parse_policy("[rungs]\nmember_min_occasions = 6\n")
    assert one({**MEMBER, "occasions_trailing": 5}, strict).rung[0] == 4
    assert one({**MEMBER, "occasions_trailing": 5}).rung[0] == 5


def test_whole_columns_at_once() -> None:
    n = 1000
    features = {k: np.full(n, v) for k, v in MEMBER.items()}
    features["occasions_trailing"] = np.arange(n) % 6
    result = classify(features, default_policy())
    assert result.rung.shape == (n,)
    assert ((result.rung == 5) == (features["occasions_trailing"] >= 4)).all()


@pytest.mark.parametrize("missing", ["occasions", "nps_latest"])
def test_a_missing_feature_is_named(missing: str) -> None:
    features = {k: np.array([v]) for k, v in MEMBER.items() if k != missing}
    with pytest.raises(KeyError, match=missing):
        classify(features, default_policy())
