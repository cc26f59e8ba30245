"""The one settings tree of clientbase; nothing else reads the environment.

Settings come, in this order of precedence, from explicit arguments (the CLI's ``--db``),
environment variables prefixed ``CLIENTBASE_`` and the defaults below::

    CLIENTBASE_HOME      folder for the embedded database and other local state
                         (default: ``$XDG_DATA_HOME/clientbase`` or ``~/.local/share/clientbase``)
    CLIENTBASE_DB        SQLAlchemy URL of the database (default: SQLite file in HOME)
    CLIENTBASE_CURRENCY  ISO 4217 code of the business's currency (default: HUF)
    CLIENTBASE_DEBUG     show tracebacks on errors (default: false)

Nothing is built at import time: call :func:`get_settings` when settings are needed.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from clientbase.errors import ConfigurationError

__all__ = ["Settings", "get_settings"]


def _default_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "clientbase"


class Settings(BaseSettings):
    """Validated settings; see the module docstring for the variables."""

    model_config = SettingsConfigDict(env_prefix="CLIENTBASE_", extra="ignore", frozen=True)

    home: Path = Field(default_factory=_default_home)
    db: str | None = None
    currency: str = "HUF"
    debug: bool = False
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    test_pg_url: str | None = None

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {value!r}")
        return code

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL to use: ``db`` when set, else the embedded SQLite file."""
        if self.db:
            return self.db
        return f"sqlite:///{self.home / 'clientbase.sqlite'}"


@lru_cache(maxsize=1)
def _env_settings() -> Settings:
    return Settings()


def get_settings(**overrides: Any) -> Settings:
    """Return the settings, with ``overrides`` (e.g. ``db=...`` from the CLI) applied.

    Raises
    ------
    ConfigurationError
        When an environment variable holds an invalid value.
    """
    try:
        base = _env_settings()
        clean = {k: v for k, v in overrides.items() if v is not None}
        if not clean:
            return base
        return Settings.model_validate({**base.model_dump(), **clean})
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise ConfigurationError(f"invalid settings: {exc}") from exc
