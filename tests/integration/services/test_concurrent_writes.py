"""Audited reads and writes from many connections at once: no "database is locked".

On SQLite a deferred transaction that has read cannot take the write lock once another
connection has committed a write meanwhile (busy_timeout does not help), so every unit of
work that writes must start as ``BEGIN IMMEDIATE``. On PostgreSQL the same load must pass
and leave one intact audit chain.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, func, select

from clientbase.domain.vocabulary import Role
from clientbase.security.actor import Actor
from clientbase.services.audit import verify
from clientbase.services.customer_fields import CustomerPatch
from clientbase.services.customers import get_customer, update_customer
from clientbase.storage.orm import AuditEntry
from clientbase.storage.unit_of_work import UnitOfWork
from tests.integration.api.conftest import build_world

ROUNDS = 25


def _run_threads(targets: list[Any]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def wrap(target: Any) -> None:
        try:
            start.wait()
            target()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_customer_360_reads_and_writes_in_parallel(engine: Engine) -> None:
    world = build_world(engine)
    users: dict[str, int] = world["users"]  # type: ignore[assignment]
    customers: dict[str, int] = world["customers"]  # type: ignore[assignment]
    admin = Actor(user_id=users["admin"], username="admin", role=Role.ADMIN)
    ids = list(customers.values())

    def reader() -> None:
        for i in range(ROUNDS):
            detail = get_customer(engine, admin, ids[i % len(ids)])
            assert detail.id == ids[i % len(ids)]

    def writer() -> None:
        for i in range(ROUNDS):
            update_customer(engine, admin, ids[i % len(ids)], CustomerPatch(city=f"City {i}"))

    errors = _run_threads([reader] * 6 + [writer] * 2)
    assert [repr(e) for e in errors] == []
    with UnitOfWork(engine) as uow:
        reads = uow.session.scalar(select(func.count()).where(AuditEntry.action == "customer.read"))
        updates = uow.session.scalar(
            select(func.count()).where(AuditEntry.action == "customer.update")
        )
    assert (reads, updates) == (6 * ROUNDS, 2 * ROUNDS)
    assert verify(engine).intact


def test_read_only_units_of_work_do_not_take_the_write_lock(sqlite_url: str) -> None:
    """A reader must not wait for (or block) a writer that holds the write lock."""
    from clientbase.storage.database import open_engine

    engine = open_engine(sqlite_url, busy_timeout_ms=200)
    try:
        with UnitOfWork(engine, write=True) as writer:
            writer.session.add(AuditEntry(action="held", actor="t", prev_hash="", hash=""))
            writer.session.flush()
            with UnitOfWork(engine) as reader:
                assert reader.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    finally:
        engine.dispose()
