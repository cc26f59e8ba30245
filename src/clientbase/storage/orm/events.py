"""Events on a customer's timeline (every kind of DESIGN §1 "Activity" besides orders)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clientbase.storage.orm.base import Base
from clientbase.storage.types import JsonDocument


class Event(Base):
    """One thing that happened with a customer.

    ``amount_minor`` is money moved to the customer (refund, bonus, credit …) and
    ``cost_minor`` what handling it cost the business (a complaint, a service call).
    ``rating`` holds an NPS answer (0-10) or a review's stars (1-5); ``related_customer_id``
    the customer brought by a referral; ``status`` a complaint's or claim's state.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_events_customer_id_occurred_at", "customer_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40), default="default")
    external_id: Mapped[str] = mapped_column(String(120))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(24))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str | None] = mapped_column(String(20))
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    related_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
