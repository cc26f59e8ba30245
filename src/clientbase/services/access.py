"""Authorisation helpers every use case shares: the actor's scope as SQL, and denials.

A denied request changes nothing: the use case's unit of work is rolled back, and the
denial is written to the audit log in a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Engine, false, select, true
from sqlalchemy.orm import Session

from clientbase.errors import NotFound, PermissionDenied
from clientbase.security.actor import Actor
from clientbase.security.rbac import Scope, scope_for
from clientbase.services.audit import record
from clientbase.storage.orm import Customer, User
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = [
    "audited_denials",
    "customer_clause",
    "load_scope",
    "visible_customer",
    "visible_customer_ids",
]


def load_scope(session: Session, actor: Actor) -> Scope:
    """The actor's scope, with a manager's team read from the users table."""
    team: frozenset[int] = frozenset()
    if actor.user_id is not None and actor.role == "manager":
        rows = session.scalars(select(User.id).where(User.manager_id == actor.user_id))
        team = frozenset(rows)
    return scope_for(actor, team)


def customer_clause(scope: Scope, owner_column: Any = None) -> ColumnElement[bool]:
    """``WHERE`` clause restricting customers (by their owner column) to the scope."""
    column = Customer.owner_id if owner_column is None else owner_column
    if scope.owner_ids is None:
        return true()
    if not scope.owner_ids:
        return false()
    return column.in_(sorted(scope.owner_ids))


def visible_customer_ids(session: Session, scope: Scope) -> list[int] | None:
    """Ids of the customers in scope, for filtering figures computed outside SQL.

    ``None`` means every customer (nothing to filter); an empty list means none.
    """
    if scope.owner_ids is None:
        return None
    return list(session.scalars(select(Customer.id).where(customer_clause(scope))))


def visible_customer(session: Session, scope: Scope, customer_id: int) -> Customer:
    """The customer, when it exists and is in scope; otherwise :class:`NotFound`.

    Out-of-scope customers are reported as missing, so their existence does not leak.
    """
    customer = session.get(Customer, customer_id)
    if customer is None or not scope.sees_owner(customer.owner_id):
        raise NotFound(f"no customer {customer_id}")
    return customer


@contextmanager
def audited_denials(engine: Engine, actor: Actor, action: str, **detail: Any) -> Iterator[None]:
    """Record a denial (403, or a 404 for an out-of-scope record) after the work rolled back."""
    try:
        yield
    except (PermissionDenied, NotFound) as exc:
        with UnitOfWork(engine, write=True) as uow:
            record(
                uow.session,
                actor,
                "denied",
                entity=action,
                detail={**detail, "reason": exc.code},
            )
            uow.commit()
        raise
