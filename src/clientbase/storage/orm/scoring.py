"""Score runs and per-customer scores (filled by ``clientbase score``).

A customer's score row is wide and typed: every feature of the run (``analytics.features``),
the RFM scores, the rung, the category and the reason *codes* (the figures behind a code are
the row's own features; ``domain.reasons`` renders them). The resolved policy of the run is
kept in ``score_runs.notes["policy"]`` so that reasons can be rendered with its thresholds.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from clientbase.storage.orm.base import Base, utcnow
from clientbase.storage.types import JsonDocument


class ScoreRun(Base):
    __tablename__ = "score_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    policy_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    customers_scored: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    notes: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CustomerScore(Base):
    __tablename__ = "customer_scores"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("score_runs.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    rung: Mapped[int] = mapped_column(SmallInteger)
    category: Mapped[str | None] = mapped_column(String(12))
    net_contribution_minor: Mapped[int | None] = mapped_column(BigInteger)
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_purchases_12m: Mapped[float | None] = mapped_column(Float)
    clv_minor: Mapped[int | None] = mapped_column(BigInteger)
    occasions: Mapped[int] = mapped_column(Integer)
    occasions_trailing: Mapped[int] = mapped_column(Integer)
    first_purchase: Mapped[date | None] = mapped_column(Date)
    last_purchase: Mapped[date | None] = mapped_column(Date)
    days_since_last: Mapped[int | None] = mapped_column(Integer)
    tenure_days: Mapped[int | None] = mapped_column(Integer)
    median_gap_days: Mapped[float | None] = mapped_column(Float)
    orders_returned: Mapped[int] = mapped_column(Integer)
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    cogs_minor: Mapped[int] = mapped_column(BigInteger)
    gross_margin_minor: Mapped[int] = mapped_column(BigInteger)
    returns_minor: Mapped[int] = mapped_column(BigInteger)
    bonuses_minor: Mapped[int] = mapped_column(BigInteger)
    complaints: Mapped[int] = mapped_column(Integer)
    complaint_cost_minor: Mapped[int] = mapped_column(BigInteger)
    service_contacts: Mapped[int] = mapped_column(Integer)
    service_cost_minor: Mapped[int] = mapped_column(BigInteger)
    acquisition_cost_minor: Mapped[int] = mapped_column(BigInteger)
    cost_to_serve_minor: Mapped[int] = mapped_column(BigInteger)
    revenue_trailing_minor: Mapped[int] = mapped_column(BigInteger)
    gross_margin_trailing_minor: Mapped[int] = mapped_column(BigInteger)
    cost_to_serve_trailing_minor: Mapped[int] = mapped_column(BigInteger)
    complaints_trailing: Mapped[int] = mapped_column(Integer)
    net_contribution_trailing_minor: Mapped[int] = mapped_column(BigInteger)
    referrals_made: Mapped[int] = mapped_column(Integer)
    referrals_converted: Mapped[int] = mapped_column(Integer)
    nps_latest: Mapped[int | None] = mapped_column(SmallInteger)
    promoter_answers: Mapped[int] = mapped_column(Integer)
    good_reviews: Mapped[int] = mapped_column(Integer)
    testimonials: Mapped[int] = mapped_column(Integer)
    loyalty_enrolled: Mapped[bool] = mapped_column(Boolean)
    cancelled: Mapped[bool] = mapped_column(Boolean)
    interest_signals: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    allowed_days: Mapped[int] = mapped_column(Integer)
    rfm_r: Mapped[int] = mapped_column(SmallInteger)
    rfm_f: Mapped[int] = mapped_column(SmallInteger)
    rfm_m: Mapped[int] = mapped_column(SmallInteger)
    rfm_segment: Mapped[str | None] = mapped_column(String(24))
    rung_reason: Mapped[str] = mapped_column(String(24))
    rung_blocker: Mapped[str] = mapped_column(String(24))
    category_reason: Mapped[str | None] = mapped_column(String(40))
