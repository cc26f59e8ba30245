"""Opening, creating and upgrading the store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from clientbase.config import Settings
from clientbase.storage.database import open_engine, redact
from clientbase.storage.schema import check_current, current_revision, upgrade

__all__ = ["SchemaStatus", "connect", "init_database", "upgrade_database"]


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    url: str
    before: str | None
    after: str


def connect(settings: Settings, *, require_current: bool = True) -> Engine:
    """Open the configured store; by default insist its schema is current.

    Raises
    ------
    SchemaOutOfDate
        The schema is missing or older than this clientbase (with the command that fixes it).
    """
    engine = open_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    if require_current:
        try:
            check_current(engine)
        except BaseException:
            engine.dispose()
            raise
    return engine


def upgrade_database(settings: Settings) -> SchemaStatus:
    """Create or upgrade the schema to this version's head."""
    engine = connect(settings, require_current=False)
    try:
        before = current_revision(engine)
        after = upgrade(engine)
    finally:
        engine.dispose()
    return SchemaStatus(url=redact(settings.database_url), before=before, after=after)


def init_database(settings: Settings) -> SchemaStatus:
    """Create the store (idempotent: an existing store is only upgraded)."""
    return upgrade_database(settings)
