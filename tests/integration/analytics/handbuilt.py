"""A small hand-built store whose every customer pins one rule (as of 2025-06-30)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from clientbase.storage.database import open_engine
from clientbase.storage.orm import Campaign, CampaignMember, Customer, Event, Order

AS_OF = date(2025, 6, 30)
_ids = count(1)


def _at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day) + timedelta(hours=hour)


def _order(
    s: Session,
    cid: int,
    when: datetime,
    total: int = 10_000,
    *,
    status: str = "completed",
    discount: int = 0,
    cost: int | None = 6_000,
) -> None:
    s.add(
        Order(
            external_id=f"o{next(_ids)}",
            customer_id=cid,
            ordered_at=when,
            status=status,
            total_minor=total,
            discount_minor=discount,
            cost_minor=cost,
        )
    )


def _event(s: Session, cid: int, when: datetime, kind: str, **kw: object) -> None:
    s.add(Event(external_id=f"e{next(_ids)}", customer_id=cid, occurred_at=when, kind=kind, **kw))


def _monthly(s: Session, cid: int, months: list[str], total: int = 10_000) -> None:
    for m in months:
        _order(s, cid, _at(f"{m}-15"), total)


def build(url: str) -> None:
    """Fill the (empty, migrated) store at ``url``."""
    engine = open_engine(url)
    with Session(engine) as s:
        s.add(
            Campaign(
                id=1,
                external_id="spring",
                name="Spring ads",
                channel="ads",
                cost_minor=1_000,
                starts_on=date(2024, 3, 1),
            )
        )
        s.add(
            Campaign(
                id=2,
                external_id="later",
                name="After as-of",
                channel="ads",
                cost_minor=9_999,
                starts_on=date(2025, 8, 1),
            )
        )
        for cid in range(1, 15):
            s.add(
                Customer(
                    id=cid,
                    acquired_at=_at("2024-03-02"),
                    acquisition_campaign_id=1 if cid in (3, 4, 5) else (2 if cid == 14 else None),
                    referred_by_customer_id=5 if cid == 10 else None,
                )
            )
        s.add(Customer(id=15, acquired_at=_at("2025-09-01")))  # acquired after the as-of day
        s.flush()
        recent = ["2024-08", "2024-10", "2024-12", "2025-02", "2025-04", "2025-06"]
        # 1: two orders on the same day -> one occasion; an order after as-of is ignored.
        _order(s, 1, _at("2025-05-01", 9), 4_000, discount=500, cost=1_000)
        _order(s, 1, _at("2025-05-01", 18), 6_000, cost=None)
        _order(s, 1, datetime(2025, 7, 1, 0, 0), 99_999)
        # 2: one completed order and one fully returned -> one occasion.
        _order(s, 2, _at("2025-03-01"))
        _order(s, 2, _at("2025-04-01"), status="returned")
        _order(s, 2, _at("2025-04-02"), status="cancelled")
        # 3: member, promoter, referred 9 who bought -> partner.
        _monthly(s, 3, recent)
        _event(s, 3, _at("2025-01-10"), "nps", rating=10)
        _event(s, 3, _at("2025-02-10"), "referral", related_customer_id=9)
        # 4: member with a good review but a detractor's latest NPS -> member.
        _monthly(s, 4, recent)
        _event(s, 4, _at("2024-11-10"), "review", rating=5)
        _event(s, 4, _at("2025-01-10"), "nps", rating=9)
        _event(s, 4, _at("2025-05-10"), "nps", rating=4)
        # 5: advocate (testimonial) whose referral (10) never bought -> advocate.
        _monthly(s, 5, recent)
        _event(s, 5, _at("2025-03-10"), "testimonial")
        # 6: demanding despite high revenue: three complaints in the trailing year.
        _monthly(s, 6, recent, total=500_000)
        for day in ("2024-09-01", "2025-01-01", "2025-05-01"):
            _event(s, 6, _at(day), "complaint", cost_minor=2_000)
        _event(s, 6, _at("2025-01-05"), "refund", amount_minor=7_000, cost_minor=500)
        _event(s, 6, _at("2025-02-05"), "bonus", amount_minor=3_000)
        _event(s, 6, _at("2025-02-06"), "service_contact", cost_minor=800)
        # 7: a weekly buyer (a member by count) who stopped in February -> client, lost.
        for week in range(8):
            _order(s, 7, _at("2025-01-06") + timedelta(weeks=week))
        # 8: prospect (an enquiry); 12: prospect through a campaign response.
        _event(s, 8, _at("2025-02-01"), "enquiry")
        s.add(
            CampaignMember(
                campaign_id=1, customer_id=12, arm="treatment", responded_at=_at("2025-03-03")
            )
        )
        # 9: referred by 3, bought once, then a costly claim: a demanding loss-maker.
        _order(s, 9, _at("2025-03-01"))
        _event(s, 9, _at("2025-03-20"), "claim", amount_minor=15_000, cost_minor=5_000)
        # 11: a suspect whose only interest comes after the as-of day.
        _event(s, 11, _at("2025-07-02"), "enquiry")
        # 13: regular buyer who cancelled -> lost.
        _monthly(s, 13, recent)
        _event(s, 13, _at("2025-06-20"), "cancellation")
        # 14: acquired by a campaign that starts after the as-of day -> no acquisition cost.
        _order(s, 14, _at("2025-06-01"))
        s.commit()
    engine.dispose()
