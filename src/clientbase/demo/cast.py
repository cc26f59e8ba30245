"""The fixed cast of the demo business: its staff, partner companies and campaigns.

Ids are positions (1-based) in these tuples, so they are the same for every seed and size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clientbase.domain.vocabulary import AcquisitionChannel, CampaignChannel, Role

__all__ = [
    "CAMPAIGNS",
    "DEPARTED_REP_ID",
    "KEY_ACCOUNT_REP_ID",
    "PARTNERS",
    "REPRESENTATIVE_IDS",
    "STAFF",
    "CampaignSpec",
    "StaffMember",
]


@dataclass(frozen=True, slots=True)
class StaffMember:
    username: str
    display_name: str
    role: Role
    manager: str | None = None
    left_on: date | None = None


STAFF: tuple[StaffMember, ...] = (
    StaffMember("admin", "Demo Administrator", Role.ADMIN),
    StaffMember("m.horvath", "Márta Horváth (sales manager)", Role.MANAGER),
    StaffMember("a.wisniewska", "Anna Wiśniewska (analyst)", Role.ANALYST),
    StaffMember("k.szabo", "Krisztián Szabó (key accounts)", Role.REPRESENTATIVE, "m.horvath"),
    StaffMember("j.taylor", "Jessica Taylor", Role.REPRESENTATIVE, "m.horvath"),
    StaffMember(
        "p.kowalski", "Piotr Kowalski (left)", Role.REPRESENTATIVE, "m.horvath", date(2026, 5, 29)
    ),
    StaffMember("e.nagy", "Edit Nagy", Role.REPRESENTATIVE, "m.horvath"),
    StaffMember("z.toth", "Zoltán Tóth", Role.REPRESENTATIVE, "m.horvath"),
)
REPRESENTATIVE_IDS: tuple[int, ...] = tuple(
    i + 1 for i, s in enumerate(STAFF) if s.role is Role.REPRESENTATIVE
)
KEY_ACCOUNT_REP_ID = 4
DEPARTED_REP_ID = 6

#: (name, industry, country) of the partner companies that bring customers.
PARTNERS: tuple[tuple[str, str, str], ...] = (
    ("Kertbarát Szövetkezet Kft.", "garden centres", "HU"),
    ("Dunai Lakberendezés Kft.", "interior design", "HU"),
    ("Mazowsze Logistyka Sp. z o.o.", "logistics", "PL"),
    ("Tatra Sport Sp. z o.o.", "sports retail", "PL"),
    ("Riverside Office Supplies Ltd", "office supplies", "GB"),
    ("Northfield Training Ltd", "training", "GB"),
)

FIRST_YEAR = 2021
LAST_YEAR = 2026


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """A campaign of the demo. ``purpose`` is ``acquisition``, ``uplift`` or ``outreach``.

    Acquisition campaigns carry the spend that won customers (shared over them); uplift
    campaigns have a random control group and a planted effect; outreach contacts suspects
    and prospects (responses are interest signals, no purchases).
    """

    name: str
    channel: CampaignChannel
    purpose: str
    starts_on: date
    ends_on: date
    acquisition_channel: AcquisitionChannel | None = None
    partner_id: int | None = None
    response_rate: float = 0.0
    sample_share: float = 0.0


def _campaigns() -> tuple[CampaignSpec, ...]:
    specs: list[CampaignSpec] = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        specs.append(
            CampaignSpec(
                f"Targeted ads {year}",
                CampaignChannel.ADS,
                "acquisition",
                date(year, 1, 1),
                date(year, 12, 31),
                AcquisitionChannel.TARGETED_ADS,
            )
        )
        specs.append(
            CampaignSpec(
                f"Research list {year}",
                CampaignChannel.DIRECT_MAIL,
                "acquisition",
                date(year, 1, 1),
                date(year, 12, 31),
                AcquisitionChannel.RESEARCH_LIST,
            )
        )
    for pid, (name, _industry, _country) in enumerate(PARTNERS, start=1):
        specs.append(
            CampaignSpec(
                f"Co-marketing with {name}",
                CampaignChannel.PARTNER,
                "acquisition",
                date(FIRST_YEAR, 1, 1),
                date(LAST_YEAR, 6, 30),
                AcquisitionChannel.PARTNER,
                pid,
            )
        )
    specs += [
        CampaignSpec(
            "Spring loyalty offer 2025",
            CampaignChannel.EMAIL,
            "uplift",
            date(2025, 4, 1),
            date(2025, 4, 30),
            response_rate=0.35,
            sample_share=0.3,
        ),
        CampaignSpec(
            "Autumn cross-sell 2025",
            CampaignChannel.SMS,
            "uplift",
            date(2025, 10, 1),
            date(2025, 10, 31),
            response_rate=0.25,
            sample_share=0.3,
        ),
        CampaignSpec(
            "Spring loyalty offer 2026",
            CampaignChannel.EMAIL,
            "uplift",
            date(2026, 3, 2),
            date(2026, 3, 31),
            response_rate=0.40,
            sample_share=0.3,
        ),
        CampaignSpec(
            "Prospect outreach 2026",
            CampaignChannel.PHONE,
            "outreach",
            date(2026, 2, 2),
            date(2026, 3, 13),
            response_rate=0.30,
            sample_share=0.5,
        ),
    ]
    return tuple(specs)


CAMPAIGNS: tuple[CampaignSpec, ...] = _campaigns()
