"""Signing in: argon2id, the failure rate limit, sessions ending when a user is disabled."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from clientbase.config import get_settings
from clientbase.domain.vocabulary import Role
from clientbase.errors import AuthenticationFailed
from clientbase.security.actor import Actor
from clientbase.services.sign_in import actor_for_session, sign_in, sign_out
from clientbase.services.users import add_user, disable_user
from clientbase.storage.orm import AuditEntry, User
from clientbase.storage.unit_of_work import UnitOfWork


@pytest.fixture
def alice(engine: Engine) -> str:
    add_user(
        engine,
        Actor.local_operator(),
        username="alice",
        display_name="Alice",
        role=Role.MANAGER,
        password="correct horse battery",
    )
    return "alice"


def test_password_is_stored_as_argon2id(engine: Engine, alice: str) -> None:
    with UnitOfWork(engine) as uow:
        hashed = uow.session.scalars(select(User.password_hash)).one()
    assert hashed is not None and hashed.startswith("$argon2id$")


def test_sign_in_session_and_sign_out(engine: Engine, alice: str) -> None:
    signed = sign_in(engine, get_settings(), alice, "correct horse battery")
    assert actor_for_session(engine, signed.token).actor.username == alice
    sign_out(engine, signed.token)
    with pytest.raises(AuthenticationFailed):
        actor_for_session(engine, signed.token)


def test_failed_sign_ins_are_rate_limited_even_for_the_right_password(
    engine: Engine, alice: str
) -> None:
    settings = get_settings(login_max_failures=3)
    for _ in range(3):
        with pytest.raises(AuthenticationFailed, match="wrong"):
            sign_in(engine, settings, alice, "wrong password")
    with pytest.raises(AuthenticationFailed, match="too many"):
        sign_in(engine, settings, alice, "correct horse battery")
    with UnitOfWork(engine) as uow:
        actions = list(uow.session.scalars(select(AuditEntry.action)))
    assert actions.count("login.failed") == 3
    assert "login.blocked" in actions


def test_disabling_ends_the_session_at_once(engine: Engine, alice: str) -> None:
    signed = sign_in(engine, get_settings(), alice, "correct horse battery")
    disable_user(engine, Actor.local_operator(), alice)
    with pytest.raises(AuthenticationFailed):
        actor_for_session(engine, signed.token)
    with pytest.raises(AuthenticationFailed, match="wrong"):
        sign_in(engine, get_settings(), alice, "correct horse battery")
