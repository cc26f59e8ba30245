"""Customers (people and companies), their consents and their ids in other systems."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clientbase.storage.orm.base import Base, utcnow
from clientbase.storage.types import JsonDocument, PersonalText


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_owner_id", "owner_id"),
        Index("ix_customers_acquisition_channel", "acquisition_channel"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="person")
    # Personal data: the storage boundary where encryption is added (storage/types.py).
    name: Mapped[str | None] = mapped_column(PersonalText(300))
    email: Mapped[str | None] = mapped_column(PersonalText(320))
    phone: Mapped[str | None] = mapped_column(PersonalText(40))
    address: Mapped[str | None] = mapped_column(PersonalText(400))
    # Demographics.
    gender: Mapped[str | None] = mapped_column(String(10))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    income_band: Mapped[str | None] = mapped_column(String(20))
    occupation: Mapped[str | None] = mapped_column(String(120))
    industry: Mapped[str | None] = mapped_column(String(120))
    company_size: Mapped[str | None] = mapped_column(String(10))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(120))
    postcode: Mapped[str | None] = mapped_column(String(20))
    # Psychographics: lists of tags.
    interests: Mapped[list[str] | None] = mapped_column(JsonDocument)
    lifestyle: Mapped[list[str] | None] = mapped_column(JsonDocument)
    attitudes: Mapped[list[str] | None] = mapped_column(JsonDocument)
    values: Mapped[list[str] | None] = mapped_column(JsonDocument)
    # Acquisition and ownership.
    acquisition_channel: Mapped[str] = mapped_column(String(20), default="other")
    acquisition_campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    acquired_at: Mapped[datetime | None] = mapped_column(DateTime)
    referred_by_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    referred_by_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class CustomerExternalId(Base):
    """The id a customer has in a source system (web shop, ERP, spreadsheet)."""

    __tablename__ = "customer_external_ids"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(120))


class CustomerConsent(Base):
    """Consent per purpose (GDPR): the latest decision of the customer."""

    __tablename__ = "customer_consents"
    __table_args__ = (UniqueConstraint("customer_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(40))
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    source: Mapped[str | None] = mapped_column(String(40))
