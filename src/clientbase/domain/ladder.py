"""The loyalty ladder and the four value categories, as vectorised rules over features.

The rules of DESIGN §1 and docs/policy-defaults.md, with every threshold taken from the
:class:`~clientbase.domain.policy.Policy`. They work on whole columns at once (numpy arrays,
one element per customer), so that scoring a million customers is a handful of array
operations; a single customer is a column of length one.

Each customer gets, besides the rung and the category, reason *codes*: why they stand on
their rung (``rung_reason``), what keeps them from the next one (``rung_blocker``) and why
they are in their category (``category_reason``). The figures behind a code are the
customer's own features; :mod:`clientbase.domain.reasons` turns them into sentences.

The input is a mapping of column name to array, holding :data:`RULE_FEATURES`. Counts and
money are integers (0 when there is nothing); ``days_since_last`` is ignored for
non-buyers; ``median_gap_days`` is NaN for fewer than two occasions and ``nps_latest`` is -1
when the customer never answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from clientbase.domain.policy import Policy
from clientbase.domain.vocabulary import Rung, ValueCategory

__all__ = [
    "CATEGORIES",
    "CATEGORY_REASONS",
    "RULE_FEATURES",
    "RUNG_BLOCKERS",
    "RUNG_REASONS",
    "Activity",
    "Classification",
    "activity",
    "categories",
    "classify",
    "rungs",
]

Array = npt.NDArray[Any]

#: Features the rules read (produced by ``clientbase.analytics.features``).
RULE_FEATURES: tuple[str, ...] = (
    "occasions",
    "occasions_trailing",
    "days_since_last",
    "median_gap_days",
    "interest_signals",
    "loyalty_enrolled",
    "promoter_answers",
    "good_reviews",
    "testimonials",
    "nps_latest",
    "referrals_converted",
    "cancelled",
    "complaints_trailing",
    "cost_to_serve_trailing_minor",
    "gross_margin_trailing_minor",
    "cost_to_serve_minor",
    "net_contribution_minor",
    "net_contribution_trailing_minor",
)


#: The labels behind the integer codes of :class:`Classification` (code = index).
RUNG_REASONS: tuple[str, ...] = (
    "suspect",
    "prospect",
    "first_time_buyer",
    "client",
    "member.enrolled",
    "member.regular",
    "advocate",
    "partner",
)
RUNG_BLOCKERS: tuple[str, ...] = (
    "no_interest",
    "never_bought",
    "one_occasion",
    "not_regular",
    "inactive",
    "no_advocacy",
    "detractor",
    "no_converted_referral",
    "",
)
CATEGORIES: tuple[str | None, ...] = (
    None,
    ValueCategory.LOST.value,
    ValueCategory.DEMANDING.value,
    ValueCategory.LOYAL.value,
    ValueCategory.AVERAGE.value,
)
CATEGORY_REASONS: tuple[str | None, ...] = (
    None,
    "lost.cancelled",
    "lost.inactive",
    "lost.p_alive",
    "demanding.complaints",
    "demanding.cost_to_serve",
    "demanding.negative_contribution",
    "loyal",
    "average.below_member",
    "average.not_profitable",
    "average.complaints",
)


#: The category code of each reason code (0: no category, for prospects and suspects).
_CATEGORY_OF_REASON = np.array(
    [0 if r is None else CATEGORIES.index(r.split(".")[0]) for r in CATEGORY_REASONS],
    dtype=np.int8,
)


def decode(codes: Array, labels: tuple[str | None, ...]) -> Array:
    """An object array of the labels of ``codes`` (``None`` stays ``None``)."""
    table = np.empty(len(labels), dtype=object)
    table[:] = labels
    return table[np.asarray(codes, dtype=np.intp)]


def _index(labels: tuple[str | None, ...], *names: str | None) -> list[int]:
    return [labels.index(n) for n in names]


@dataclass(frozen=True, slots=True)
class Activity:
    """Whether each buyer is active, and the days of silence their rhythm allows."""

    active: Array  # bool; False for non-buyers
    rhythm_active: Array  # bool: the rhythm rule alone
    allowed_days: Array  # float64: the days since the last occasion that still count as active
    p_alive_low: Array  # bool: a supplied P(alive) is under the policy's minimum


@dataclass(frozen=True, slots=True)
class Classification:
    """Rung, category and reason codes of every customer (arrays of equal length).

    The reasons and the category are held as small integer codes (indexes into
    :data:`RUNG_REASONS`, :data:`RUNG_BLOCKERS`, :data:`CATEGORIES` and
    :data:`CATEGORY_REASONS`); the properties of the same names without ``_code`` decode them.
    """

    rung: Array  # int8, 1..7
    rung_reason_code: Array  # int8
    rung_blocker_code: Array  # int8 ("" on the top rung)
    category_code: Array  # int8: 0 for prospects and suspects (no category)
    category_reason_code: Array  # int8: 0 for prospects and suspects
    active: Array  # bool
    allowed_days: Array  # float64

    @property
    def rung_reason(self) -> Array:
        return decode(self.rung_reason_code, RUNG_REASONS)

    @property
    def rung_blocker(self) -> Array:
        return decode(self.rung_blocker_code, RUNG_BLOCKERS)

    @property
    def category(self) -> Array:
        """A ValueCategory value or None (prospects and suspects), per customer."""
        return decode(self.category_code, CATEGORIES)

    @property
    def category_reason(self) -> Array:
        return decode(self.category_reason_code, CATEGORY_REASONS)


def first_match(conditions: list[Array], choices: list[int], default: int) -> Array:
    """Per element, the choice of the first true condition (``default`` when none is), int8.

    Same result as ``np.select``, several times faster: from the last condition to the
    first, each one's choice replaces the result where it holds, so the first true one wins.
    """
    shape = np.shape(conditions[0]) if conditions else ()
    out: Array = np.full(shape, default, dtype=np.int8)
    for condition, choice in reversed(list(zip(conditions, choices, strict=True))):
        out = np.where(condition, np.int8(choice), out)
    return out


def _col(features: Mapping[str, Array], name: str, dtype: Any) -> Array:
    try:
        return np.asarray(features[name], dtype=dtype)
    except KeyError:
        raise KeyError(f"the rules need the feature {name!r}") from None


def activity(
    features: Mapping[str, Array], policy: Policy, p_alive: Array | None = None
) -> Activity:
    """The activity rule: rhythm-based, and P(alive) >= the minimum when one is supplied.

    A repeat buyer is active when days since the last occasion <= max(min_allowed_days,
    gap_multiplier x median gap) and <= max_allowed_days; a one-time buyer when the purchase
    was <= one_time_buyer_days ago. ``p_alive`` (NaN where unknown) is the hook for the
    probabilistic models of issue #4.
    """
    rules = policy.activity
    occasions = _col(features, "occasions", np.int64)
    days = _col(features, "days_since_last", np.float64)
    gap = _col(features, "median_gap_days", np.float64)
    rhythm = np.maximum(float(rules.min_allowed_days), rules.gap_multiplier * np.nan_to_num(gap))
    allowed = np.where(
        occasions >= 2,
        np.minimum(rhythm, float(rules.max_allowed_days)),
        float(rules.one_time_buyer_days),
    )
    rhythm_active = (occasions >= 1) & (days <= allowed)
    if p_alive is None:
        p_low = np.zeros(occasions.shape, dtype=bool)
    else:
        p = np.asarray(p_alive, dtype=np.float64)
        p_low = ~np.isnan(p) & (p < rules.p_alive_min)
    return Activity(
        active=rhythm_active & ~p_low,
        rhythm_active=rhythm_active,
        allowed_days=allowed,
        p_alive_low=p_low,
    )


def rungs(features: Mapping[str, Array], policy: Policy, active: Array) -> tuple[Array, ...]:
    """The rung of every customer with its reason and blocker codes.

    Returns
    -------
    (rung, rung_reason_code, rung_blocker_code)
        int8 arrays; the codes index :data:`RUNG_REASONS` and :data:`RUNG_BLOCKERS`.
    """
    r = policy.rungs
    occasions = _col(features, "occasions", np.int64)
    trailing = _col(features, "occasions_trailing", np.int64)
    interest = _col(features, "interest_signals", np.int64)
    enrolled = _col(features, "loyalty_enrolled", bool)
    nps_latest = _col(features, "nps_latest", np.int64)
    converted = _col(features, "referrals_converted", np.int64)

    regular = trailing >= r.member_min_occasions
    by_enrolment = enrolled & r.member_by_loyalty_enrolment
    client = occasions >= 2
    member = client & (regular | by_enrolment) & active
    signal = (_col(features, "promoter_answers", np.int64) > 0) | (
        _col(features, "good_reviews", np.int64) > 0
    )
    if r.advocate_by_testimonial:
        signal = signal | (_col(features, "testimonials", np.int64) > 0)
    detractor = (nps_latest >= 0) & (nps_latest <= r.detractor_nps_max)
    advocate = member & signal & ~detractor
    partner = advocate & (converted >= r.partner_min_converted_referrals)

    rung = first_match(
        [partner, advocate, member, client, occasions == 1, interest > 0],
        [
            Rung.PARTNER,
            Rung.ADVOCATE,
            Rung.MEMBER,
            Rung.CLIENT,
            Rung.FIRST_TIME_BUYER,
            Rung.PROSPECT,
        ],
        default=Rung.SUSPECT,
    )
    reason = first_match(
        [partner, advocate, member & regular, member, client, occasions == 1, interest > 0],
        _index(
            RUNG_REASONS,
            "partner",
            "advocate",
            "member.regular",
            "member.enrolled",
            "client",
            "first_time_buyer",
            "prospect",
        ),
        default=RUNG_REASONS.index("suspect"),
    )
    blocker = first_match(
        [
            partner,
            advocate,
            member & detractor,
            member,
            client & (regular | by_enrolment),
            client,
            occasions == 1,
            interest > 0,
        ],
        _index(
            RUNG_BLOCKERS,
            "",
            "no_converted_referral",
            "detractor",
            "no_advocacy",
            "inactive",
            "not_regular",
            "one_occasion",
            "never_bought",
        ),
        default=RUNG_BLOCKERS.index("no_interest"),
    )
    return rung, reason, blocker


def categories(
    features: Mapping[str, Array], policy: Policy, rung: Array, act: Activity
) -> tuple[Array, Array]:
    """The value category of every buyer (first match wins) with its reason code.

    lost -> demanding -> loyal -> average; prospects and suspects get code 0 (``None``).
    Returns int8 codes into :data:`CATEGORIES` and :data:`CATEGORY_REASONS`.
    """
    c = policy.categories
    buyer = _col(features, "occasions", np.int64) >= 1
    cancelled = _col(features, "cancelled", bool)
    complaints = _col(features, "complaints_trailing", np.int64)
    cts_t = _col(features, "cost_to_serve_trailing_minor", np.float64)
    gm_t = _col(features, "gross_margin_trailing_minor", np.float64)
    cts = _col(features, "cost_to_serve_minor", np.int64)
    net = _col(features, "net_contribution_minor", np.int64)
    net_t = _col(features, "net_contribution_trailing_minor", np.int64)

    lost_cancel = cancelled
    lost_inactive = ~act.rhythm_active
    lost_p = act.p_alive_low
    many_complaints = complaints >= c.demanding_min_complaints
    costly = (cts_t > 0) & (cts_t > c.demanding_cost_to_serve_share * gm_t)
    negative = (net < 0) & (cts > 0) & c.demanding_negative_contribution
    below_rung = rung < c.loyal_min_rung
    unprofitable = net_t <= c.loyal_min_net_contribution_minor
    complains = complaints > c.loyal_max_complaints
    loyal = ~below_rung & ~unprofitable & ~complains

    conditions = [
        ~buyer,
        lost_cancel,
        lost_inactive,
        lost_p,
        many_complaints,
        costly,
        negative,
        loyal,
        below_rung,
        unprofitable,
    ]
    # The conditions stand in the order of CATEGORY_REASONS (first match wins, the last
    # reason is the fallback); a reason's category is the word before its dot.
    reason = first_match(conditions, list(range(len(conditions))), default=len(conditions))
    category = _CATEGORY_OF_REASON[reason]
    return category, reason


def classify(
    features: Mapping[str, Array], policy: Policy, p_alive: Array | None = None
) -> Classification:
    """Rung, category and reason codes of every customer described by ``features``."""
    act = activity(features, policy, p_alive)
    rung, rung_reason, blocker = rungs(features, policy, act.active)
    category, category_reason = categories(features, policy, rung, act)
    return Classification(
        rung=rung,
        rung_reason_code=rung_reason,
        rung_blocker_code=blocker,
        category_code=category,
        category_reason_code=category_reason,
        active=act.active,
        allowed_days=act.allowed_days,
    )
