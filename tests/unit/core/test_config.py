from __future__ import annotations

from pathlib import Path

import pytest

from clientbase.config import _env_settings, get_settings
from clientbase.errors import ConfigurationError


def test_default_database_is_the_sqlite_file_in_home(tmp_path: Path) -> None:
    settings = get_settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'home' / 'clientbase.sqlite'}"


def test_environment_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIENTBASE_DB", "postgresql://u@h/db")
    monkeypatch.setenv("CLIENTBASE_CURRENCY", "pln")
    _env_settings.cache_clear()
    assert get_settings().database_url == "postgresql://u@h/db"
    assert get_settings().currency == "PLN"
    assert get_settings(db="sqlite:///x.sqlite").database_url == "sqlite:///x.sqlite"


def test_invalid_setting_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIENTBASE_CURRENCY", "forint")
    _env_settings.cache_clear()
    with pytest.raises(ConfigurationError, match="currency"):
        get_settings()
