"""Connections: read-only units of work, and pinging server connections that sat idle."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, delete, func, insert, select, text
from sqlalchemy.exc import OperationalError

from clientbase.storage import database
from clientbase.storage.database import open_engine, reader
from clientbase.storage.orm import Customer
from clientbase.storage.unit_of_work import UnitOfWork


def _customers(engine: Engine) -> int:
    with UnitOfWork(engine) as uow:
        return int(uow.session.scalar(select(func.count(Customer.id))) or 0)


def test_read_only_unit_of_work_refuses_orm_and_core_writes(engine: Engine) -> None:
    """A write in a read-only unit of work is a programming error on either database, and
    nothing of it is stored (on PostgreSQL it would otherwise be committed at once)."""
    with pytest.raises(RuntimeError, match="read-only"), UnitOfWork(engine, read_only=True) as uow:
        uow.session.add(Customer(kind="person", name="Kovács Anna"))
        uow.session.flush()
    with pytest.raises(RuntimeError, match="read-only"), UnitOfWork(engine, read_only=True) as uow:
        uow.session.execute(insert(Customer).values(kind="person", name="Nowak Jan"))
    with pytest.raises(RuntimeError, match="read-only"), UnitOfWork(engine, read_only=True) as uow:
        uow.session.execute(delete(Customer))
    assert _customers(engine) == 0


def test_read_only_unit_of_work_reads_what_is_committed(engine: Engine) -> None:
    with UnitOfWork(engine, write=True) as uow:
        uow.session.add(Customer(kind="person", name="Kovács Anna"))
        uow.commit()
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.session.scalars(select(Customer.name)).all() == ["Kovács Anna"]


def test_a_unit_of_work_cannot_be_both_read_only_and_writing(engine: Engine) -> None:
    with pytest.raises(ValueError, match="either"):
        UnitOfWork(engine, write=True, read_only=True)


@pytest.mark.postgres
def test_postgres_reads_run_without_a_transaction(pg_url: str) -> None:
    """On PostgreSQL the reader sends no BEGIN: each statement is its own transaction (a new
    transaction id each time), where the other units of work keep one for all statements."""
    engine = open_engine(pg_url)
    try:
        ids = "SELECT txid_current()"
        with UnitOfWork(engine, read_only=True) as uow:
            conn = uow.session.connection()
            first, second = (conn.execute(text(ids)).scalar() for _ in range(2))
        assert first != second
        with UnitOfWork(engine) as uow:
            conn = uow.session.connection()
            first, second = (conn.execute(text(ids)).scalar() for _ in range(2))
        assert first == second
        with reader(engine).connect() as conn:
            assert conn.execute(text("SHOW transaction_isolation")).scalar() == "read committed"
    finally:
        engine.dispose()


def test_sqlite_reads_keep_one_snapshot(sqlite_url: str) -> None:
    """On SQLite a read-only unit of work is one deferred transaction: a write committed by
    another connection meanwhile is not seen until the next unit of work."""
    engine = open_engine(sqlite_url)
    try:
        with UnitOfWork(engine, read_only=True) as uow:
            count = select(func.count(Customer.id))
            assert uow.session.scalar(count) == 0
            with UnitOfWork(engine, write=True) as writer:
                writer.session.add(Customer(kind="person", name="Kovács Anna"))
                writer.commit()
            assert uow.session.scalar(count) == 0
        assert _customers(engine) == 1
    finally:
        engine.dispose()


def _kill_pooled_connection(engine: Engine, terminate: Callable[[int], None]) -> None:
    """Terminate the server process of the pool's one connection."""
    with engine.connect() as conn:
        pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    terminate(pid)  # back in the pool first, as an idle connection


@pytest.mark.postgres
def test_an_idle_connection_closed_by_the_server_is_replaced_unseen(
    pg_engine: Engine, terminate_backend: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
    _kill_pooled_connection(pg_engine, terminate_backend)
    with UnitOfWork(pg_engine, read_only=True) as uow:
        assert uow.session.scalar(text("SELECT 1")) == 1
    _kill_pooled_connection(pg_engine, terminate_backend)
    with UnitOfWork(pg_engine, write=True) as uow:
        assert uow.session.scalar(text("SELECT 2")) == 2
        uow.commit()
    # The ping ran in autocommit and left the connection as it found it: in a transaction.
    with UnitOfWork(pg_engine, write=True) as uow:
        ids = [uow.session.scalar(text("SELECT txid_current()")) for _ in range(2)]
        assert ids[0] == ids[1]


@pytest.mark.postgres
def test_a_connection_back_from_use_a_moment_ago_is_not_pinged(
    pg_engine: Engine, terminate_backend: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policy's trade-off, stated: a connection returned within the idle time is handed
    out unchecked, so if the server closed it in that moment its next statement fails, and
    the pool then drops its connections: the unit of work after that works again."""
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 3600.0)
    _kill_pooled_connection(pg_engine, terminate_backend)
    with pytest.raises(OperationalError), UnitOfWork(pg_engine, read_only=True) as uow:
        uow.session.scalar(text("SELECT 1"))
    with UnitOfWork(pg_engine, read_only=True) as uow:
        assert uow.session.scalar(text("SELECT 1")) == 1
