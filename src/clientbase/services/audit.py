"""Writing audit entries inside the caller's unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from clientbase.security.actor import Actor
from clientbase.storage.orm import AuditEntry

__all__ = ["record"]


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    entity: str | None = None,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the session; it commits (or not) with the unit of work.

    ``detail`` must never hold personal data: counts, ids and file names only.
    """
    session.add(
        AuditEntry(
            actor_id=actor.user_id,
            actor=actor.username,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            detail=detail,
        )
    )
