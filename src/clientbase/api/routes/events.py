"""``/events``: events of the customers the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from clientbase.api.deps import ActorDep, EngineDep
from clientbase.services.events import EventPage, list_events

router = APIRouter(prefix="/events", tags=["events"])


@router.get("", summary="List events")
def events_list(
    engine: EngineDep,
    actor: ActorDep,
    customer_id: int | None = None,
    kind: Annotated[str | None, Query(max_length=24)] = None,
    after: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    return list_events(engine, actor, customer_id=customer_id, kind=kind, after=after, limit=limit)
