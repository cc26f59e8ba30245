"""What the demo plants: the as-of date, the archetypes (rung x category) and channel quality.

Every customer is drawn as one *archetype*, a (rung, category) pair with a recipe for its
history that lies well inside the default rules of ``docs/policy-defaults.md`` as of
:data:`AS_OF`. The recipes (all days are counted back from the as-of date):

* suspect: no order, no interest signal (at most a campaign contact);
* prospect: 1-3 interest signals, no order;
* first-time buyer: one purchase occasion (average: 20-300 days ago and no cost-to-serve;
  lost: 450-1800 days ago, or recent and then a cancellation event; demanding: recent, with
  4-7 complaints/claims and cost-to-serve above the margin);
* client: 2-5 occasions at least 190 days apart (so at most 2 in any 365 days), last one
  10-60 days ago (lost: last one 450-1300 days ago, or a cancellation event);
* member / advocate / partner: 10-30 occasions a year (gaps at most 1.5x the mean, the last
  at most half a gap ago, so at least 6 in the trailing year), or for some plain members a
  loyalty-programme enrolment with 3-4.5 occasions a year; advocates add a promoter NPS, a
  4-5 star review or a testimonial 20-600 days ago (and never a detractor NPS after it);
  partners have referred a customer who bought.
* loyal: at most one complaint in the trailing year and cost-to-serve below 10 % of margin;
  average members have exactly two complaints in the trailing year; demanding members have
  4-7 complaints and claims in the trailing year and cost-to-serve above their margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from clientbase.domain.vocabulary import AcquisitionChannel, Rung, ValueCategory

__all__ = [
    "ARCHETYPES",
    "AS_OF",
    "AS_OF_EPOCH",
    "CHANNELS",
    "HISTORY_DAYS",
    "Archetype",
    "archetype_weights",
]

#: The fixed "today" of the demo business: every planted truth holds as of this date.
AS_OF = date(2026, 6, 30)
AS_OF_EPOCH = int(datetime(2026, 6, 30, tzinfo=UTC).timestamp())
#: How far back the history goes (days before the as-of date).
HISTORY_DAYS = 1_990

L = ValueCategory.LOST
D = ValueCategory.DEMANDING
A = ValueCategory.AVERAGE
Y = ValueCategory.LOYAL


@dataclass(frozen=True, slots=True)
class Archetype:
    """One planted (rung, category) recipe; ``variant`` distinguishes its histories."""

    code: str
    rung: Rung
    category: ValueCategory | None
    variant: str
    weight: float

    @property
    def group(self) -> str:
        """Coarse group used by the channel-quality table."""
        if self.rung <= Rung.PROSPECT:
            return "suspect" if self.rung == Rung.SUSPECT else "prospect"
        if self.category is ValueCategory.LOST:
            return "lost"
        if self.category is ValueCategory.DEMANDING:
            return "demanding"
        return "member" if self.rung >= Rung.MEMBER else "buyer"


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype("suspect", Rung.SUSPECT, None, "none", 14),
    Archetype("prospect", Rung.PROSPECT, None, "interest", 8),
    Archetype("first_average", Rung.FIRST_TIME_BUYER, A, "recent", 8),
    Archetype("first_lost", Rung.FIRST_TIME_BUYER, L, "inactive", 6),
    Archetype("first_lost_cancelled", Rung.FIRST_TIME_BUYER, L, "cancelled", 1),
    Archetype("first_demanding", Rung.FIRST_TIME_BUYER, D, "recent", 1.5),
    Archetype("client_average", Rung.CLIENT, A, "sparse", 9),
    Archetype("client_lost", Rung.CLIENT, L, "inactive", 7),
    Archetype("client_lost_cancelled", Rung.CLIENT, L, "cancelled", 1),
    Archetype("client_demanding", Rung.CLIENT, D, "sparse", 2.5),
    Archetype("member_loyal", Rung.MEMBER, Y, "regular", 10),
    Archetype("member_average", Rung.MEMBER, A, "regular", 3),
    Archetype("member_demanding", Rung.MEMBER, D, "regular", 2),
    Archetype("advocate_loyal", Rung.ADVOCATE, Y, "regular", 7),
    Archetype("advocate_average", Rung.ADVOCATE, A, "regular", 1.5),
    Archetype("advocate_demanding", Rung.ADVOCATE, D, "regular", 1),
    Archetype("partner_loyal", Rung.PARTNER, Y, "regular", 3),
    Archetype("partner_average", Rung.PARTNER, A, "regular", 0.5),
)

CHANNELS: tuple[AcquisitionChannel, ...] = tuple(AcquisitionChannel)

#: Channel shares for people and for companies (same order as :data:`CHANNELS`).
CHANNEL_SHARES_PERSON = (0.25, 0.10, 0.05, 0.12, 0.25, 0.15, 0.08)
CHANNEL_SHARES_COMPANY = (0.10, 0.15, 0.35, 0.10, 0.10, 0.15, 0.05)

#: Channel quality: multiplier of each archetype group's weight per channel.
CHANNEL_QUALITY: dict[AcquisitionChannel, dict[str, float]] = {
    AcquisitionChannel.TARGETED_ADS: {"suspect": 0.3, "lost": 1.8, "demanding": 1.3, "member": 0.6},
    AcquisitionChannel.PARTNER: {"suspect": 0.3, "member": 1.0},
    AcquisitionChannel.PERSONAL: {"suspect": 0.2, "lost": 0.6, "demanding": 1.2, "member": 1.5},
    AcquisitionChannel.REFERRAL: {"suspect": 0.1, "lost": 0.5, "member": 2.0},
    AcquisitionChannel.ORGANIC: {"suspect": 0.3},
    AcquisitionChannel.RESEARCH_LIST: {
        "suspect": 12.0,
        "prospect": 2.0,
        "buyer": 0.3,
        "lost": 0.3,
        "demanding": 0.3,
        "member": 0.2,
    },
    AcquisitionChannel.OTHER: {},
}

#: Acquisition cost per customer won (minor units) of the channels that run campaigns.
CAC_MINOR: dict[AcquisitionChannel, int] = {
    AcquisitionChannel.TARGETED_ADS: 120_000,
    AcquisitionChannel.PARTNER: 80_000,
    AcquisitionChannel.RESEARCH_LIST: 5_000,
}

#: Share of discount granted on order lines, per channel (margin differs by channel).
CHANNEL_DISCOUNT: dict[AcquisitionChannel, float] = {
    AcquisitionChannel.TARGETED_ADS: 0.08,
    AcquisitionChannel.PARTNER: 0.10,
    AcquisitionChannel.PERSONAL: 0.03,
    AcquisitionChannel.REFERRAL: 0.02,
    AcquisitionChannel.ORGANIC: 0.01,
    AcquisitionChannel.RESEARCH_LIST: 0.05,
    AcquisitionChannel.OTHER: 0.05,
}


def archetype_weights(channel: AcquisitionChannel, climb: float) -> np.ndarray:
    """Probabilities of each archetype for a customer of ``channel`` in a segment.

    ``climb`` (the segment's tilt) multiplies the member groups and divides the lost one.
    """
    quality = CHANNEL_QUALITY[channel]
    weights = np.empty(len(ARCHETYPES))
    for i, arch in enumerate(ARCHETYPES):
        tilt = climb if arch.group == "member" else (1 / climb if arch.group == "lost" else 1.0)
        weights[i] = arch.weight * quality.get(arch.group, 1.0) * tilt
    out: np.ndarray = weights / weights.sum()
    return out
