"""Authorisation helpers every use case shares: the actor's scope as SQL, and denials.

A denied request changes nothing: the use case's unit of work is rolled back, and the
denial is written to the audit log in a transaction of its own.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Connection, Engine, bindparam, false, select, true
from sqlalchemy.orm import Session

from clientbase.errors import NotFound, PermissionDenied
from clientbase.security.actor import Actor
from clientbase.security.rbac import Scope, scope_for
from clientbase.services.audit import record
from clientbase.storage.orm import Customer, User
from clientbase.storage.plain import PlainConnection, PlainQuery
from clientbase.storage.unit_of_work import UnitOfWork

T = TypeVar("T")
log = logging.getLogger("clientbase.services")

__all__ = [
    "FiguresCache",
    "audited_denials",
    "customer_clause",
    "load_scope",
    "visible_customer",
    "visible_customer_ids",
]


_TEAM = select(User.id).where(User.manager_id == bindparam("manager_id"))
_TEAM_PLAIN = PlainQuery(_TEAM, manager_id=0)


def load_scope(session: Session | Connection | PlainConnection, actor: Actor) -> Scope:
    """The actor's scope, with a manager's team read from the users table (or, when the
    sign-in of this request read it already, taken from the actor)."""
    team: frozenset[int] = frozenset()
    if actor.user_id is not None and actor.role == "manager":
        if actor.team is not None:  # read with the sign-in of this very request
            return scope_for(actor, actor.team)
        if isinstance(session, PlainConnection):
            team = frozenset(row[0] for row in _TEAM_PLAIN.rows(session, manager_id=actor.user_id))
        else:
            team = frozenset(session.scalars(_TEAM, {"manager_id": actor.user_id}))
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


class FiguresCache:
    """A per-process, per-engine cache of figures with a lifetime, filled single-flight.

    Figures that are slow to compute over a large scope (a list's total, the dashboard's
    aggregates) are kept for ``seconds``; the key must hold everything that decides them
    (run ids, the scope's owners, filters, the newest customer id). When many requests
    miss the same key at once, one computes and the others wait for its result. Once a
    value has expired, every request is served the expired value of that same key at once
    (so a scope only ever gets its own figures) while one background thread computes it
    again: no request waits for a recomputation, and a server thread is never held up by
    one. ``compute`` must therefore open its own unit of work, not use the caller's.
    """

    def __init__(self, seconds: float, entries: int = 256) -> None:
        self.seconds = seconds
        self._entries = entries
        self._values: weakref.WeakKeyDictionary[Engine, dict[Hashable, tuple[float, Any]]]
        self._values = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._flights: dict[tuple[int, Hashable], threading.Lock] = {}

    def _lookup(self, engine: Engine, key: Hashable) -> tuple[bool, bool, Any]:
        """(found, fresh, value) of ``key``."""
        with self._lock:
            hit = self._values.get(engine, {}).get(key)
        if hit is None:
            return False, False, None
        return True, time.monotonic() - hit[0] <= self.seconds, hit[1]

    def _store(self, engine: Engine, key: Hashable, value: Any) -> None:
        with self._lock:
            values = self._values.setdefault(engine, {})
            values.pop(key, None)
            if len(values) >= self._entries:
                values.pop(next(iter(values)))
            values[key] = (time.monotonic(), value)

    def _flight(self, engine: Engine, key: Hashable) -> threading.Lock:
        with self._lock:
            return self._flights.setdefault((id(engine), key), threading.Lock())

    def _land(self, engine: Engine, key: Hashable, flight: threading.Lock) -> None:
        with self._lock:
            self._flights.pop((id(engine), key), None)
        flight.release()

    def get(self, engine: Engine, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value of ``key``, or ``compute()`` (run once for concurrent misses).

        An expired value is returned at once while a background thread computes it again
        (one at a time per key): a value is served at most ``seconds`` plus one computation
        after it was computed. A failed background computation keeps the expired value
        until the next request tries again.
        """
        found, fresh, value = self._lookup(engine, key)
        if fresh:
            return cast(T, value)
        if found:
            self._refresh(engine, key, compute)
            return cast(T, value)
        flight = self._flight(engine, key)
        flight.acquire()
        try:
            found, _, value = self._lookup(engine, key)
            if found:  # computed by the request this one waited for
                return cast(T, value)
            result = compute()
            self._store(engine, key, result)
            return result
        finally:
            self._land(engine, key, flight)

    def _refresh(self, engine: Engine, key: Hashable, compute: Callable[[], Any]) -> None:
        flight = self._flight(engine, key)
        if not flight.acquire(blocking=False):
            return  # being computed again already

        def run() -> None:
            try:
                self._store(engine, key, compute())
            except Exception as exc:  # the expired value stays; the next request retries
                log.warning("recomputing cached figures failed: %s", type(exc).__name__)
            finally:
                self._land(engine, key, flight)

        threading.Thread(target=run, name="clientbase-figures", daemon=True).start()

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
