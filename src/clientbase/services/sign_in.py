"""Signing in and out, dashboard sessions, API bearer tokens, and the sign-in rate limit.

Every request re-reads the user: a disabled user's session or token stops working on their
very next request, whatever its expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, or_, select
from sqlalchemy.orm import Session

from clientbase.config import Settings
from clientbase.domain.vocabulary import Role
from clientbase.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from clientbase.security.actor import Actor
from clientbase.security.credentials import (
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from clientbase.services.audit import record
from clientbase.storage.orm import ApiToken, LoginAttempt, User, WebSession
from clientbase.storage.orm.base import utcnow
from clientbase.storage.plain import PlainQuery, plain_reader
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = [
    "Signed",
    "SignedIn",
    "actor_for_session",
    "actor_for_token",
    "create_token",
    "sign_in",
    "sign_out",
]

_WRONG = "wrong user name or password"


@dataclass(frozen=True, slots=True)
class Signed:
    """Who a session or token belongs to, re-read on every request."""

    actor: Actor
    display_name: str
    locale: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: ``token`` goes into the cookie and is never stored."""

    token: str
    expires_at: datetime
    user: Signed


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=Role(user.role))


def _signed(user: User) -> Signed:
    return Signed(actor=_actor(user), display_name=user.display_name, locale=user.locale)


def _recent_failures(session: Session, username: str, since: datetime) -> int:
    count = session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.username == username,
            LoginAttempt.at >= since,
            LoginAttempt.succeeded.is_(False),
        )
    )
    return int(count or 0)


def sign_in(
    engine: Engine, settings: Settings, username: str, password: str, remote: str | None = None
) -> SignedIn:
    """Check the password and open a session.

    Raises
    ------
    AuthenticationFailed
        Wrong user name or password, a disabled user, or too many recent failures for this
        user name (the limit holds even for the right password until the window passes).
    """
    username = username.strip()[:80]
    now = utcnow()
    since = now - timedelta(minutes=settings.login_window_minutes)
    with UnitOfWork(engine, write=True) as uow:
        session = uow.session
        anonymous = Actor(user_id=None, username=f"login:{username}", role=Role.REPRESENTATIVE)
        if _recent_failures(session, username, since) >= settings.login_max_failures:
            record(session, anonymous, "login.blocked", detail={"remote": remote})
            uow.commit()
            raise AuthenticationFailed(
                "too many failed sign-ins for this user name", hint="try again later"
            )
        user = session.scalars(select(User).where(User.username == username)).first()
        ok = verify_password(user.password_hash if user else None, password)
        if user is None or not ok or not user.active:
            session.add(LoginAttempt(username=username, succeeded=False, remote=remote))
            record(session, anonymous, "login.failed", detail={"remote": remote})
            uow.commit()
            raise AuthenticationFailed(_WRONG)
        if user.password_hash and needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        token = new_token("cbs")
        expires = now + timedelta(hours=settings.session_hours)
        session.add(
            WebSession(
                token_hash=token_digest(token), user_id=user.id, expires_at=expires, remote=remote
            )
        )
        session.add(LoginAttempt(username=username, succeeded=True, remote=remote))
        record(session, _actor(user), "login", entity="user", entity_id=user.id)
        signed = _signed(user)
        uow.commit()
        return SignedIn(token=token, expires_at=expires, user=signed)


def actor_for_session(engine: Engine, token: str) -> Signed:
    """The signed-in user of a session cookie; :class:`AuthenticationFailed` if none."""
    signed = _principal(engine, _BY_SESSION, token_digest(token))
    if signed is None:
        raise AuthenticationFailed("not signed in, or the session has ended")
    return signed


# Every request signs in again: the user behind a session or token, and (for a manager) the
# team, are read in one statement of plain columns, built once. A disabled user matches no
# row, so their sessions and tokens stop working on their very next request.
_users = User.__table__
_members = _users.alias("member")


def _principal_query(credential: Any, user_id: Any, *valid: Any) -> Any:
    return (
        select(
            _users.c.id,
            _users.c.username,
            _users.c.role,
            _users.c.display_name,
            _users.c.locale,
            _members.c.id.label("member_id"),
        )
        .select_from(
            credential.join(_users, _users.c.id == user_id).outerjoin(
                _members,
                (_members.c.manager_id == _users.c.id) & (_users.c.role == Role.MANAGER.value),
            )
        )
        .where(credential.c.token_hash == bindparam("digest"), _users.c.active.is_(True), *valid)
    )


_sessions = WebSession.__table__
_tokens = ApiToken.__table__
_BY_SESSION = PlainQuery(
    _principal_query(_sessions, _sessions.c.user_id, _sessions.c.expires_at > bindparam("now")),
    digest="",
    now=utcnow(),
)
_BY_TOKEN = PlainQuery(
    _principal_query(
        _tokens,
        _tokens.c.user_id,
        _tokens.c.revoked_at.is_(None),
        or_(_tokens.c.expires_at.is_(None), _tokens.c.expires_at > bindparam("now")),
    ),
    digest="",
    now=utcnow(),
)


def _principal(engine: Engine, query: PlainQuery, digest: str) -> Signed | None:
    """Who holds the credential with this digest (``None``: nobody, or a disabled user)."""
    with plain_reader(engine) as conn:
        rows = query.rows(conn, digest=digest, now=utcnow())
    if not rows:
        return None
    user_id, username, role, display_name, locale, _ = rows[0]
    team = None
    if role == Role.MANAGER.value:
        team = frozenset(row[5] for row in rows if row[5] is not None)
    actor = Actor(user_id=user_id, username=username, role=Role(role), team=team)
    return Signed(actor=actor, display_name=display_name, locale=locale)


def sign_out(engine: Engine, token: str) -> None:
    """End a session (nothing happens for an unknown one)."""
    with UnitOfWork(engine, write=True) as uow:
        uow.session.execute(delete(WebSession).where(WebSession.token_hash == token_digest(token)))
        uow.commit()


def actor_for_token(engine: Engine, token: str) -> Signed:
    """The user of an API bearer token; :class:`AuthenticationFailed` if it is not valid."""
    signed = _principal(engine, _BY_TOKEN, token_digest(token))
    if signed is None:
        raise AuthenticationFailed("the API token is not valid (unknown, expired or revoked)")
    return signed


def create_token(
    engine: Engine, actor: Actor, username: str, name: str, days: int | None = 90
) -> str:
    """A new API token for ``username``, shown once; users may create their own, admins any.

    Raises
    ------
    PermissionDenied
        A non-admin asks for someone else's token.
    """
    if days is not None and days < 1:
        raise InvalidInput("a token lives at least one day")
    with UnitOfWork(engine, write=True) as uow:
        session = uow.session
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(f"no user named {username!r}")
        if actor.role != Role.ADMIN and actor.user_id != user.id:
            raise PermissionDenied("only an admin may create tokens for other users")
        if not user.active:
            raise InvalidInput(f"user {username!r} is disabled")
        token = new_token("cbt")
        expires = utcnow() + timedelta(days=days) if days else None
        row = ApiToken(
            token_hash=token_digest(token), user_id=user.id, name=name[:80], expires_at=expires
        )
        session.add(row)
        session.flush()
        record(session, actor, "token.create", entity="user", entity_id=user.id)
        uow.commit()
        return token
