"""Sign-in state: dashboard sessions, API tokens and sign-in attempts.

Secrets are never stored: a session or token row holds the SHA-256 of the random value the
user holds, so a copy of the database does not let anyone sign in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clientbase.storage.orm.base import Base, utcnow


class WebSession(Base):
    """A signed-in dashboard session (the cookie holds the secret, the row its digest)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    remote: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token for the REST API (``clientbase tokens create``)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoginAttempt(Base):
    """One sign-in attempt, kept for rate limiting (by user name) and for the audit."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    remote: Mapped[str | None] = mapped_column(String(64))
