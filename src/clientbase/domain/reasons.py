"""Reasons as structured data (a code and its figures) and their rendering as sentences.

:func:`build_reasons` turns one scored customer (features plus the reason codes of
:func:`clientbase.domain.ladder.classify`) and the policy that scored them into a list of
:class:`Reason`; :func:`render` writes them in English, Hungarian or Polish, e.g.
``"client: 3 purchase occasions; not a member: 2 in the last 365 days, 4 needed"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clientbase.domain.policy import Policy
from clientbase.domain.reason_texts import LANGUAGES, TEXTS

__all__ = ["LANGUAGES", "Reason", "build_reasons", "render", "render_reason"]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a customer is where they are: a stable code and the figures behind it."""

    code: str
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "figures": dict(self.figures)}


def _int(row: Mapping[str, Any], name: str) -> int:
    value = row.get(name)
    return int(value) if value is not None else 0


def _rung_reason(code: str, row: Mapping[str, Any], policy: Policy) -> Reason:
    w = policy.windows
    figures: dict[str, Any] = {}
    if code == "prospect":
        figures = {"interest_signals": _int(row, "interest_signals")}
    elif code in {"first_time_buyer", "client"}:
        figures = {"occasions": _int(row, "occasions")}
    elif code == "member.regular":
        figures = {"occasions_trailing": _int(row, "occasions_trailing"), "days": w.trailing_days}
    elif code == "advocate":
        signals = sum(_int(row, k) for k in ("promoter_answers", "good_reviews", "testimonials"))
        figures = {"signals": signals, "days": w.advocacy_days}
    elif code == "partner":
        figures = {"referrals_converted": _int(row, "referrals_converted")}
    return Reason(f"rung.{code}", figures)


def _blocker(code: str, row: Mapping[str, Any], policy: Policy) -> Reason:
    figures: dict[str, Any] = {}
    if code == "not_regular":
        figures = {
            "occasions_trailing": _int(row, "occasions_trailing"),
            "days": policy.windows.trailing_days,
            "needed": policy.rungs.member_min_occasions,
        }
    elif code == "inactive":
        figures = {
            "days_since_last": _int(row, "days_since_last"),
            "allowed_days": _int(row, "allowed_days"),
        }
    elif code == "no_advocacy":
        figures = {"days": policy.windows.advocacy_days}
    elif code == "detractor":
        figures = {
            "nps_latest": _int(row, "nps_latest"),
            "detractor_max": policy.rungs.detractor_nps_max,
        }
    elif code == "no_converted_referral":
        figures = {
            "referrals_made": _int(row, "referrals_made"),
            "needed": policy.rungs.partner_min_converted_referrals,
        }
    return Reason(f"next.{code}", figures)


def _category_reason(code: str, row: Mapping[str, Any], policy: Policy) -> Reason:
    c, days = policy.categories, policy.windows.trailing_days
    figures: dict[str, Any] = {}
    if code == "lost.inactive":
        figures = {
            "days_since_last": _int(row, "days_since_last"),
            "allowed_days": _int(row, "allowed_days"),
        }
    elif code == "lost.p_alive":
        p = row.get("p_alive")
        figures = {
            "p_alive": float(p) if p is not None else float("nan"),
            "minimum": policy.activity.p_alive_min,
        }
    elif code == "demanding.complaints":
        figures = {
            "complaints": _int(row, "complaints_trailing"),
            "days": days,
            "limit": c.demanding_min_complaints,
        }
    elif code == "demanding.cost_to_serve":
        figures = {
            "cost_to_serve_minor": _int(row, "cost_to_serve_trailing_minor"),
            "gross_margin_minor": _int(row, "gross_margin_trailing_minor"),
            "share_percent": round(100 * c.demanding_cost_to_serve_share),
            "days": days,
        }
    elif code == "demanding.negative_contribution":
        figures = {
            "net_contribution_minor": _int(row, "net_contribution_minor"),
            "cost_to_serve_minor": _int(row, "cost_to_serve_minor"),
        }
    elif code in {"loyal", "average.not_profitable"}:
        figures = {
            "net_contribution_minor": _int(row, "net_contribution_trailing_minor"),
            "complaints": _int(row, "complaints_trailing"),
            "days": days,
        }
    elif code == "average.complaints":
        figures = {
            "complaints": _int(row, "complaints_trailing"),
            "days": days,
            "limit": c.loyal_max_complaints,
        }
    elif code == "average.below_member":
        figures = {"rung": _int(row, "rung"), "needed": c.loyal_min_rung}
    return Reason(f"category.{code}", figures)


def build_reasons(row: Mapping[str, Any], policy: Policy) -> list[Reason]:
    """The reasons of one scored customer: rung, what blocks the next rung, category.

    ``row`` holds the customer's features and the codes ``rung_reason``, ``rung_blocker``
    and ``category_reason`` (the last ``None`` for prospects and suspects), plus
    ``allowed_days`` (and ``p_alive`` when it was used).
    """
    reasons = [_rung_reason(str(row["rung_reason"]), row, policy)]
    blocker = row.get("rung_blocker")
    if blocker:
        reasons.append(_blocker(str(blocker), row, policy))
    category = row.get("category_reason")
    if category:
        reasons.append(_category_reason(str(category), row, policy))
    return reasons


def render_reason(reason: Reason, language: str = "en") -> str:
    """One reason as a phrase in ``language`` (``en``, ``hu`` or ``pl``)."""
    if language not in LANGUAGES:
        raise ValueError(f"no reason texts in {language!r}; choose one of {LANGUAGES}")
    text = TEXTS[language].get(reason.code)
    if text is None:
        raise KeyError(f"no text for reason {reason.code!r}")
    return text(reason.figures)


def render(reasons: Sequence[Reason], language: str = "en") -> str:
    """Reasons as one sentence, phrases joined by ``"; "``."""
    return "; ".join(render_reason(r, language) for r in reasons)
