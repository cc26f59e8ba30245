"""Demo logins: one per role, only in demo mode, and they sign in."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from clientbase.config import get_settings
from clientbase.errors import ConfigurationError
from clientbase.services.demo_access import demo_password, grant_demo_logins
from clientbase.services.sign_in import sign_in
from tests.integration.api.conftest import build_world


def test_one_login_per_role_that_signs_in(engine: Engine, store_url: str) -> None:
    build_world(engine)
    settings = get_settings(db=store_url, demo=True)
    logins = grant_demo_logins(engine, settings)
    assert [(login.role, login.username) for login in logins] == [
        ("admin", "admin"),
        ("manager", "manager"),
        ("analyst", "analyst"),
        ("representative", "representative"),
    ]
    for login in logins:
        assert login.password == demo_password(login.role)
        signed = sign_in(engine, settings, login.username, login.password, "127.0.0.1")
        assert signed.user.actor.role == login.role


def test_refused_outside_demo_mode(engine: Engine, store_url: str) -> None:
    build_world(engine)
    with pytest.raises(ConfigurationError):
        grant_demo_logins(engine, get_settings(db=store_url, demo=False))
