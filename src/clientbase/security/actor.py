"""The one asking: every service call receives an :class:`Actor`."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from clientbase.domain.vocabulary import Role

__all__ = ["Actor"]


@dataclass(frozen=True, slots=True)
class Actor:
    """A user (or the local operator at the command line) on whose behalf work is done.

    ``user_id`` is ``None`` for the local operator: whoever can run the CLI on the machine
    that holds the database file can read it anyway, so the CLI acts as an administrator and
    is recorded in the audit log under the operating-system account name.
    """

    user_id: int | None
    username: str
    role: Role
    #: A manager's team (the users whose manager they are) when it was read together with
    #: the sign-in of this request, so the services need not read it again; ``None``: not
    #: read (the services read it themselves).
    team: frozenset[int] | None = None

    @classmethod
    def local_operator(cls) -> Actor:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
        return cls(user_id=None, username=f"cli:{name}", role=Role.ADMIN)
