"""Creating and upgrading the schema with Alembic, and checking that it is current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from clientbase.errors import SchemaOutOfDate

__all__ = ["check_current", "current_revision", "head_revision", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The revision this version of clientbase expects."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` when it has no clientbase schema."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to ``revision`` (creating it in an empty database); return it."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return current_revision(engine) or ""


def check_current(engine: Engine) -> None:
    """Raise :class:`SchemaOutOfDate` unless the schema is at this version's head."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaOutOfDate(
            "the database has no clientbase schema yet",
            hint="run `clientbase init` (or `clientbase db upgrade`)",
        )
    raise SchemaOutOfDate(
        f"the database schema is at revision {current}, this clientbase expects {head}",
        hint="run `clientbase db upgrade`",
    )
