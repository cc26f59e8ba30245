"""User use cases: add, disable (ending their sessions and tokens at once), list, locale,
and who an API token speaks for at the command line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Engine, delete, or_, select, update
from sqlalchemy.orm import Session

from clientbase.domain.vocabulary import Role
from clientbase.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from clientbase.security.actor import Actor
from clientbase.security.credentials import hash_password, token_digest
from clientbase.security.rbac import Permission, require
from clientbase.services.access import audited_denials
from clientbase.services.audit import record
from clientbase.storage.orm import ApiToken, User, WebSession
from clientbase.storage.orm.base import utcnow
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = [
    "LOCALES",
    "UserView",
    "actor_for_cli_token",
    "add_user",
    "disable_user",
    "find_user",
    "get_user",
    "list_users",
    "set_locale",
]

#: The languages of the dashboard.
LOCALES = ("en", "hu", "pl")


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    active: bool
    manager_id: int | None
    locale: str
    created_at: datetime
    left_at: datetime | None


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        role=user.role,
        active=user.active,
        manager_id=user.manager_id,
        locale=user.locale,
        created_at=user.created_at,
        left_at=user.left_at,
    )


def _visible_users(actor: Actor) -> ColumnElement[bool]:
    """``WHERE`` clause: admins and analysts see every user, a manager their team, others self."""
    if actor.role in {Role.ADMIN, Role.ANALYST} or actor.user_id is None:
        return User.id.is_not(None)
    if actor.role == Role.MANAGER:
        return or_(User.id == actor.user_id, User.manager_id == actor.user_id)
    return User.id == actor.user_id


def _by_username(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def add_user(
    engine: Engine,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str | None = None,
    email: str | None = None,
    manager: str | None = None,
    locale: str = "en",
) -> UserView:
    """Create a user; ``password`` is stored as an argon2id hash (``None``: cannot sign in)."""
    username = username.strip()
    if not username or len(username) > 80 or any(ch.isspace() for ch in username):
        raise InvalidInput("a user name is 1 to 80 characters without spaces")
    if locale not in LOCALES:
        raise InvalidInput(f"unknown language {locale!r}; choose one of {', '.join(LOCALES)}")
    with audited_denials(engine, actor, "user.create"), UnitOfWork(engine, write=True) as uow:
        require(actor, Permission.USERS_MANAGE)
        session = uow.session
        if session.scalars(select(User.id).where(User.username == username)).first():
            raise Conflict(f"a user named {username!r} already exists")
        manager_id = _by_username(session, manager).id if manager else None
        try:
            hashed = hash_password(password) if password is not None else None
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        user = User(
            username=username,
            display_name=display_name.strip() or username,
            email=email,
            role=Role(role).value,
            active=True,
            manager_id=manager_id,
            locale=locale,
            password_hash=hashed,
        )
        session.add(user)
        session.flush()
        record(
            session, actor, "user.create", entity="user", entity_id=user.id, detail={"role": role}
        )
        view = _view(user)
        uow.commit()
        return view


def disable_user(engine: Engine, actor: Actor, username: str) -> UserView:
    """Deactivate a user: their sessions are deleted and their API tokens revoked now."""
    with audited_denials(engine, actor, "user.disable"), UnitOfWork(engine, write=True) as uow:
        require(actor, Permission.USERS_MANAGE)
        session = uow.session
        user = _by_username(session, username)
        if actor.user_id is not None and user.id == actor.user_id:
            raise Conflict("you cannot disable yourself")
        now = utcnow()
        user.active = False
        user.left_at = user.left_at or now
        ended = cast(
            CursorResult[Any],
            session.execute(delete(WebSession).where(WebSession.user_id == user.id)),
        )
        revoked = cast(
            CursorResult[Any],
            session.execute(
                update(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=now)
            ),
        )
        record(
            session,
            actor,
            "user.disable",
            entity="user",
            entity_id=user.id,
            detail={"sessions_ended": ended.rowcount, "tokens_revoked": revoked.rowcount},
        )
        view = _view(user)
        uow.commit()
        return view


def list_users(engine: Engine, actor: Actor) -> list[UserView]:
    """The users the actor may see, by user name."""
    with audited_denials(engine, actor, "users.list"), UnitOfWork(engine, read_only=True) as uow:
        require(actor, Permission.USERS_READ)
        users = uow.session.scalars(
            select(User).where(_visible_users(actor)).order_by(User.username)
        )
        return [_view(u) for u in users]


def get_user(engine: Engine, actor: Actor, user_id: int) -> UserView:
    """One user, when the actor may see them (else :class:`NotFound`)."""
    with (
        audited_denials(engine, actor, "user.read", user_id=user_id),
        UnitOfWork(engine, read_only=True) as uow,
    ):
        require(actor, Permission.USERS_READ)
        user = uow.session.scalars(
            select(User).where(User.id == user_id, _visible_users(actor))
        ).first()
        if user is None:
            raise NotFound(f"no user {user_id}")
        return _view(user)


def find_user(engine: Engine, actor: Actor, username: str) -> UserView | None:
    """The user named ``username`` when the actor may see them, else ``None``."""
    with audited_denials(engine, actor, "user.read"), UnitOfWork(engine, read_only=True) as uow:
        require(actor, Permission.USERS_READ)
        user = uow.session.scalars(
            select(User).where(User.username == username.strip(), _visible_users(actor))
        ).first()
        return None if user is None else _view(user)


def set_locale(engine: Engine, actor: Actor, locale: str) -> None:
    """Remember the actor's language for the next sign-in."""
    if locale not in LOCALES:
        raise InvalidInput(f"unknown language {locale!r}; choose one of {', '.join(LOCALES)}")
    if actor.user_id is None:
        return
    with UnitOfWork(engine, write=True) as uow:
        user = uow.session.get(User, actor.user_id)
        if user is None:
            raise NotFound(f"no user {actor.user_id}")
        user.locale = locale
        uow.commit()


_RENEW_HINT = "an administrator or its user can create a new one with `clientbase tokens create`"
#: Why a token is refused: the message and the hint.
_TOKEN_REFUSALS = {
    "unknown": ("the token is not valid: no such token", _RENEW_HINT),
    "revoked": ("the token was revoked", _RENEW_HINT),
    "expired": ("the token has expired", _RENEW_HINT),
    "user_disabled": ("the token's user is disabled", "only an administrator can help"),
}


def actor_for_cli_token(engine: Engine, token: str) -> Actor:
    """The user an API token belongs to, for the command line's ``--token``.

    The CLI otherwise acts as the local administrator; with a token it acts as that user,
    with their role and scope. The one asking holds the token, so a refusal says why;
    it is audited as a failed sign-in (``login.failed``, ``via: token``).

    Raises
    ------
    AuthenticationFailed
        An unknown, revoked or expired token, or one whose user is disabled.
    """
    now = utcnow()
    with UnitOfWork(engine, read_only=True) as uow:
        found = uow.session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == token_digest(token.strip()))
        ).first()
        user_id: int | None = None
        if found is None:
            reason = "unknown"
        else:
            api_token, user = found
            user_id = user.id
            if not user.active:
                reason = "user_disabled"
            elif api_token.revoked_at is not None:
                reason = "revoked"
            elif api_token.expires_at is not None and api_token.expires_at <= now:
                reason = "expired"
            else:
                return Actor(user_id=user.id, username=user.username, role=Role(user.role))
    anonymous = Actor(user_id=None, username="token:cli", role=Role.REPRESENTATIVE)
    with UnitOfWork(engine, write=True) as uow:
        record(
            uow.session,
            anonymous,
            "login.failed",
            entity="user" if user_id is not None else None,
            entity_id=user_id,
            detail={"via": "token", "reason": reason},
        )
        uow.commit()
    message, hint = _TOKEN_REFUSALS[reason]
    raise AuthenticationFailed(message, hint=hint)
