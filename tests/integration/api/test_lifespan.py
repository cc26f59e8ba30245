"""The application's start-up keeps its objects out of full garbage collections (a full
collection walking them had paused each server process for ~100 ms every few seconds),
and gives them back when the application stops."""

from __future__ import annotations

import gc

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from clientbase.api.app import create_app
from clientbase.cli.serve import build_app
from clientbase.config import _env_settings, get_settings


def test_start_up_freezes_its_objects_and_stopping_lets_them_go(engine: Engine) -> None:
    gc.unfreeze()
    app = create_app(get_settings(), engine, freeze_startup_objects=True)
    with TestClient(app):
        # the modules, the application and the ORM's structures: all of start-up
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0


def test_an_embedded_application_leaves_the_collector_alone(engine: Engine) -> None:
    gc.unfreeze()
    with TestClient(create_app(get_settings(), engine)):
        assert gc.get_freeze_count() == 0


def test_the_server_freezes_its_start_up_objects(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``clientbase serve`` builds its application with the freeze on."""
    monkeypatch.setenv("CLIENTBASE_DB", sqlite_url)
    monkeypatch.setenv("CLIENTBASE_DEMO", "true")
    _env_settings.cache_clear()
    app = build_app(get_settings())
    try:
        assert app.state.freeze_startup_objects is True
    finally:
        app.state.engine.dispose()
