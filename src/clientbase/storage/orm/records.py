"""Record-keeping tables: the audit log, import batches and the demo's planted truths."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from clientbase.storage.orm.base import Base, utcnow
from clientbase.storage.types import JsonDocument


class AuditEntry(Base):
    """Append-only audit log; ``prev_hash``/``hash`` chain it (filled by later issues)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(120))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class ImportBatch(Base):
    """One committed import: what file, what kind, and the row counts."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    file_name: Mapped[str] = mapped_column(String(400))
    file_sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DemoTruth(Base):
    """What the demo generator planted for a customer, so tests can check the analytics."""

    __tablename__ = "demo_truths"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    rung: Mapped[int] = mapped_column(SmallInteger)
    category: Mapped[str | None] = mapped_column(String(12))
    segment: Mapped[str | None] = mapped_column(String(40))
    traits: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)


class DemoCampaignTruth(Base):
    """What the demo planted for a campaign: its purpose and the uplift per treated customer."""

    __tablename__ = "demo_campaign_truths"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    planted_uplift_minor: Mapped[int | None] = mapped_column(BigInteger)
    traits: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
