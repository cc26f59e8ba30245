"""Who may do what, and which customers they may see (DESIGN §1 "Protection").

The rules are data, checked inside the services (never only in the API or the pages):

==============  ===================================  ================  ===========
role            customers visible                    personal data     may export
==============  ===================================  ================  ===========
admin           all                                  shown             yes
manager         owned by their team or themselves    shown             yes
analyst         all                                  pseudonymised     yes
representative  owned by themselves                  shown             no
==============  ===================================  ================  ===========

A :class:`Scope` is built for one request by the service, which knows the manager's team
(the users whose ``manager_id`` is the manager), and turned into a ``WHERE`` clause there.
This module does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from clientbase.domain.vocabulary import Role
from clientbase.errors import PermissionDenied
from clientbase.security.actor import Actor

__all__ = [
    "TEAM_IMPORT_KINDS",
    "Permission",
    "Scope",
    "allowed",
    "may_import",
    "require",
    "require_import",
    "scope_for",
]


class Permission(StrEnum):
    CUSTOMERS_READ = "customers.read"
    CUSTOMERS_CREATE = "customers.create"
    CUSTOMERS_UPDATE = "customers.update"
    CUSTOMERS_EXPORT = "customers.export"
    EVENTS_READ = "events.read"
    EVENTS_CREATE = "events.create"
    USERS_READ = "users.read"
    USERS_MANAGE = "users.manage"
    ANALYTICS_READ = "analytics.read"
    IMPORTS_RUN = "imports.run"


_ALL = frozenset(Permission)

_POLICY: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _ALL,
    # A manager's imports are scoped row by row to their team (TEAM_IMPORT_KINDS only).
    Role.MANAGER: _ALL - {Permission.USERS_MANAGE},
    Role.ANALYST: frozenset(
        {
            Permission.CUSTOMERS_READ,
            Permission.CUSTOMERS_EXPORT,
            Permission.EVENTS_READ,
            Permission.USERS_READ,
            Permission.ANALYTICS_READ,
        }
    ),
    Role.REPRESENTATIVE: frozenset(
        {
            Permission.CUSTOMERS_READ,
            Permission.CUSTOMERS_CREATE,
            Permission.CUSTOMERS_UPDATE,
            Permission.EVENTS_READ,
            Permission.EVENTS_CREATE,
            Permission.USERS_READ,
            Permission.ANALYTICS_READ,
        }
    ),
}


def allowed(actor: Actor, permission: Permission) -> bool:
    """Whether the actor's role grants ``permission``."""
    return permission in _POLICY[actor.role]


def require(actor: Actor, permission: Permission) -> None:
    """Raise :class:`PermissionDenied` unless the actor's role grants ``permission``."""
    if not allowed(actor, permission):
        raise PermissionDenied(f"the {actor.role} role may not do {permission}")


#: What a manager may import: their team's customers and those customers' orders and
#: events. The import service rejects, row by row, whatever touches a customer owned outside
#: the team; staff, catalogue, campaign and partner files stay with administrators.
TEAM_IMPORT_KINDS: frozenset[str] = frozenset({"customers", "orders", "events"})


def may_import(actor: Actor, kind: str) -> bool:
    """Whether the actor may import a file of ``kind`` (an admin anything; a manager with a
    user account the :data:`TEAM_IMPORT_KINDS`, scoped to their team)."""
    if not allowed(actor, Permission.IMPORTS_RUN):
        return False
    if actor.role == Role.ADMIN:
        return True
    return actor.role == Role.MANAGER and actor.user_id is not None and kind in TEAM_IMPORT_KINDS


def require_import(actor: Actor, kind: str) -> None:
    """Raise :class:`PermissionDenied` unless the actor may import a file of ``kind``."""
    require(actor, Permission.IMPORTS_RUN)
    if not may_import(actor, kind):
        raise PermissionDenied(
            f"the {actor.role} role may import only {', '.join(sorted(TEAM_IMPORT_KINDS))} "
            f"(for their team), not {kind}"
        )


@dataclass(frozen=True, slots=True)
class Scope:
    """The customers one actor may see.

    ``owner_ids`` is ``None`` when every customer is visible, else the set of owners whose
    customers are (empty: none). ``pseudonymise`` hides name, e-mail, phone and address.
    """

    owner_ids: frozenset[int] | None
    pseudonymise: bool

    @property
    def everything(self) -> bool:
        return self.owner_ids is None

    def sees_owner(self, owner_id: int | None) -> bool:
        """Whether a customer owned by ``owner_id`` is visible."""
        if self.owner_ids is None:
            return True
        return owner_id is not None and owner_id in self.owner_ids


def scope_for(actor: Actor, team_ids: frozenset[int] = frozenset()) -> Scope:
    """The scope of ``actor``; ``team_ids`` are the users a manager manages.

    The local operator of the CLI (``user_id`` is ``None``) acts as an administrator.
    """
    if actor.role in {Role.ADMIN, Role.ANALYST}:
        return Scope(owner_ids=None, pseudonymise=actor.role == Role.ANALYST)
    if actor.user_id is None:
        return Scope(owner_ids=frozenset(), pseudonymise=False)
    if actor.role == Role.MANAGER:
        return Scope(owner_ids=frozenset({actor.user_id}) | team_ids, pseudonymise=False)
    return Scope(owner_ids=frozenset({actor.user_id}), pseudonymise=False)
