"""Events on customers' timelines: list (scoped, keyset pages) and record one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select

from clientbase.domain.vocabulary import EventKind
from clientbase.security.actor import Actor
from clientbase.security.rbac import Permission, require
from clientbase.services.access import (
    audited_denials,
    customer_clause,
    load_scope,
    visible_customer,
)
from clientbase.services.audit import record
from clientbase.storage.orm import Customer, Event
from clientbase.storage.orm.base import utcnow
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = ["EventFields", "EventPage", "EventView", "add_event", "list_events"]


class EventFields(BaseModel):
    """A new event; the customer comes from the path, ids and handler from the server."""

    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    occurred_at: datetime | None = None
    amount_minor: int | None = None
    cost_minor: int | None = Field(default=None, ge=0)
    rating: int | None = Field(default=None, ge=0, le=10)
    status: str | None = Field(default=None, max_length=20)


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    customer_id: int
    occurred_at: datetime
    kind: str
    amount_minor: int | None
    cost_minor: int | None
    rating: int | None
    status: str | None


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[EventView]
    next_after: int | None


def _view(e: Event) -> EventView:
    return EventView(
        id=e.id,
        customer_id=e.customer_id,
        occurred_at=e.occurred_at,
        kind=e.kind,
        amount_minor=e.amount_minor,
        cost_minor=e.cost_minor,
        rating=e.rating,
        status=e.status,
    )


def list_events(
    engine: Engine,
    actor: Actor,
    *,
    customer_id: int | None = None,
    kind: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> EventPage:
    """Events of the customers in the actor's scope, by id (keyset: ``after``)."""
    limit = max(1, min(limit, 1000))
    with audited_denials(engine, actor, "events.list"), UnitOfWork(engine, read_only=True) as uow:
        require(actor, Permission.EVENTS_READ)
        scope = load_scope(uow.session, actor)
        stmt = (
            select(Event)
            .join(Customer, Customer.id == Event.customer_id)
            .where(customer_clause(scope))
        )
        if customer_id is not None:
            stmt = stmt.where(Event.customer_id == customer_id)
        if kind:
            stmt = stmt.where(Event.kind == kind)
        if after is not None:
            stmt = stmt.where(Event.id > after)
        rows = list(uow.session.scalars(stmt.order_by(Event.id).limit(limit + 1)))
        items = [_view(e) for e in rows[:limit]]
        return EventPage(items, items[-1].id if len(rows) > limit else None)


def add_event(engine: Engine, actor: Actor, customer_id: int, fields: EventFields) -> EventView:
    """Record an event for a customer in scope, handled by the actor."""
    denials = audited_denials(engine, actor, "event.create", customer_id=customer_id)
    with denials, UnitOfWork(engine, write=True) as uow:
        require(actor, Permission.EVENTS_CREATE)
        scope = load_scope(uow.session, actor)
        visible_customer(uow.session, scope, customer_id)
        event = Event(
            source="app",
            external_id=uuid.uuid4().hex,
            customer_id=customer_id,
            occurred_at=fields.occurred_at or utcnow(),
            kind=fields.kind.value,
            amount_minor=fields.amount_minor,
            cost_minor=fields.cost_minor,
            rating=fields.rating,
            status=fields.status,
            handled_by_id=actor.user_id,
        )
        uow.session.add(event)
        uow.session.flush()
        record(
            uow.session,
            actor,
            "event.create",
            entity="customer",
            entity_id=customer_id,
            detail={"kind": event.kind, "event_id": event.id},
        )
        view = _view(event)
        uow.commit()
        return view
