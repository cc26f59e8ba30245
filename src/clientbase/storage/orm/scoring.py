"""Score runs and per-customer scores (filled by ``clientbase score``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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
    features: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    reasons: Mapped[list[Any] | None] = mapped_column(JsonDocument)
