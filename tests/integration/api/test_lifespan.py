"""The application's start-up keeps its objects out of full garbage collections (a full
collection walking them had paused each server process for ~100 ms every few seconds),
and gives them back when the application stops."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from clientbase.api.app import create_app
from clientbase.config import get_settings


def test_start_up_freezes_its_objects_and_stopping_lets_them_go(engine: Engine) -> None:
    gc.unfreeze()
    app = create_app(get_settings(), engine)
    with TestClient(app):
        # the modules, the application and the ORM's structures: all of start-up
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0
