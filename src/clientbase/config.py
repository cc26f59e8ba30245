"""The one settings tree of clientbase; nothing else reads the environment.

Settings come, in this order of precedence, from explicit arguments (the CLI's ``--db``),
environment variables prefixed ``CLIENTBASE_`` and the defaults below::

    CLIENTBASE_HOME      folder for the embedded database and other local state
                         (default: ``$XDG_DATA_HOME/clientbase`` or ``~/.local/share/clientbase``)
    CLIENTBASE_DB        SQLAlchemy URL of the database (default: SQLite file in HOME)
    CLIENTBASE_CURRENCY  ISO 4217 code of the business's currency (default: HUF)
    CLIENTBASE_DEBUG     show tracebacks on errors (default: false)
    CLIENTBASE_SECRET_KEY  key signing CSRF tokens of the dashboard (at least 32 characters;
                         required by ``clientbase serve`` unless CLIENTBASE_DEMO is true)
    CLIENTBASE_DEMO      demo mode: a fixed, public secret key is accepted (default: false)
    CLIENTBASE_SESSION_HOURS        lifetime of a dashboard session (default: 12)
    CLIENTBASE_LOGIN_MAX_FAILURES   failed sign-ins per user name within the window before
                                    sign-in is refused (default: 5)
    CLIENTBASE_LOGIN_WINDOW_MINUTES the window of that limit (default: 15)
    CLIENTBASE_EXPORT_MAX_ROWS      the most rows one export may hold (default: 50000)
    CLIENTBASE_DB_POOL_SIZE         database connections kept open per process (default: 20)
    CLIENTBASE_DB_MAX_OVERFLOW      extra connections opened under load (default: 30); the
                                    pool covers the request threads, the import and
                                    figures threads and the CLI's parallel readers
    CLIENTBASE_WORKERS              server processes of ``clientbase serve`` (default: 2)
    CLIENTBASE_THREADS              threads per server process that run requests' work
                                    (default: 2; see ``clientbase.api.app``)
    CLIENTBASE_TOKEN                an API token (``clientbase tokens create``): the score
                                    queries of the CLI (``customers``, ``explain``,
                                    ``funnel``, ``whale``) act as its user, with that user's
                                    scope, instead of as the local administrator
    CLIENTBASE_COMPUTE              where score runs compute the features: ``duckdb`` (in
                                    process, the default) or ``database`` (inside a
                                    PostgreSQL store)

Nothing is built at import time: call :func:`get_settings` when settings are needed.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from clientbase.errors import ConfigurationError

__all__ = ["DEMO_SECRET_KEY", "Settings", "get_settings", "hand_down_to_workers"]

#: The secret key of demo mode. It is public (it is in the source), so it is refused
#: whenever ``demo`` is false.
DEMO_SECRET_KEY = "clientbase-demo-secret-key-not-for-production-use"  # noqa: S105
_MIN_SECRET_LENGTH = 32


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
    secret_key: SecretStr | None = None
    demo: bool = False
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: float = Field(default=15.0, gt=0)
    export_max_rows: int = Field(default=50_000, ge=1)
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=30, ge=0)
    workers: int = Field(default=2, ge=1, le=64)
    threads: int = Field(default=2, ge=1, le=256)
    token: SecretStr | None = None
    compute: Literal["process", "database"] = "process"

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {value!r}")
        return code

    def require_secret_key(self) -> str:
        """The secret key for signing; fail fast when it is missing or insecure.

        Raises
        ------
        ConfigurationError
            No key, a key shorter than 32 characters, or the public demo key outside demo
            mode.
        """
        key = self.secret_key.get_secret_value() if self.secret_key else None
        if key is None and self.demo:
            return DEMO_SECRET_KEY
        if key is None:
            raise ConfigurationError(
                "no secret key is set",
                hint="set CLIENTBASE_SECRET_KEY to a random string of 32 or more characters, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`",
            )
        if key == DEMO_SECRET_KEY and not self.demo:
            raise ConfigurationError(
                "the demo secret key is public and may only be used in demo mode",
                hint="set CLIENTBASE_SECRET_KEY to a random string of 32 or more characters",
            )
        if len(key) < _MIN_SECRET_LENGTH:
            raise ConfigurationError(
                f"the secret key is shorter than {_MIN_SECRET_LENGTH} characters",
                hint="set CLIENTBASE_SECRET_KEY to a longer random string",
            )
        return key

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


def hand_down_to_workers(settings: Settings) -> None:
    """Put the settings chosen on the command line where worker processes will read them.

    ``clientbase serve --workers N`` starts processes that build their settings from the
    environment; this writes the database URL the parent resolved (``--db`` included), so
    every worker opens the same store. The one place besides reading that touches it.
    """
    os.environ["CLIENTBASE_DB"] = settings.database_url
    _env_settings.cache_clear()
