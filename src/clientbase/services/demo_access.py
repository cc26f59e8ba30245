"""Demo mode: one login per role for the demo business's staff (``make demo``).

The demo generator creates the staff without passwords. In demo mode only
(``CLIENTBASE_DEMO=true``, which also accepts the public demo secret key), the first
active user of each role gets the public password ``demo-<role>``, so that a new user can
sign in as the administrator, the manager, the analyst and a representative at once. The
grant is written to the audit log (user ids and roles, never the passwords).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from clientbase.config import Settings
from clientbase.domain.vocabulary import Role
from clientbase.errors import ConfigurationError
from clientbase.security.actor import Actor
from clientbase.security.credentials import hash_password
from clientbase.services.audit import record
from clientbase.storage.orm import User
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = ["DemoLogin", "demo_password", "grant_demo_logins"]


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    password: str


def demo_password(role: str) -> str:
    """The public password of a role's demo login."""
    return f"demo-{role}"


def grant_demo_logins(engine: Engine, settings: Settings) -> list[DemoLogin]:
    """Give the first active user of each role its demo password; return the logins.

    Raises
    ------
    ConfigurationError
        Outside demo mode: public passwords must never reach a real store.
    """
    if not settings.demo:
        raise ConfigurationError(
            "demo logins exist only in demo mode", hint="set CLIENTBASE_DEMO=true"
        )
    logins: list[DemoLogin] = []
    with UnitOfWork(engine, write=True) as uow:
        users = uow.session.scalars(select(User).where(User.active).order_by(User.id))
        chosen: dict[str, User] = {}
        for user in users:
            chosen.setdefault(user.role, user)
        for role in Role:
            member = chosen.get(role.value)
            if member is None:
                continue
            password = demo_password(role.value)
            member.password_hash = hash_password(password)
            logins.append(DemoLogin(member.username, member.display_name, role.value, password))
        record(
            uow.session,
            Actor.local_operator(),
            "demo.logins",
            entity="user",
            detail={"users": {login.role: login.username for login in logins}},
        )
        uow.commit()
    return logins
