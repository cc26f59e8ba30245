"""The audit log is a hash chain: intact as written, broken where a row was edited."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from clientbase.security.actor import Actor
from clientbase.services import audit
from clientbase.services.audit import GENESIS, record, record_read, verify
from clientbase.storage.orm import AuditEntry
from clientbase.storage.unit_of_work import UnitOfWork

OPERATOR = Actor.local_operator()


def _write(engine: Engine, n: int, action: str = "test") -> None:
    for i in range(n):
        with UnitOfWork(engine) as uow:
            record(uow.session, OPERATOR, action, entity="customer", detail={"i": i})
            uow.commit()


def test_entries_are_chained_and_verify(engine: Engine) -> None:
    _write(engine, 5)
    with UnitOfWork(engine) as uow:
        entries = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert entries[0].prev_hash == GENESIS
        assert all(b.prev_hash == a.hash for a, b in pairwise(entries))
    check = verify(engine)
    assert check.intact and check.checked == 5


def _write_batch(engine: Engine, n: int, action: str = "batch") -> None:
    rows = [audit._row(OPERATOR, action, "customer", i, {"i": i}) for i in range(n)]
    with UnitOfWork(engine, write=True) as uow:
        audit._write_entries(uow.session, rows)
        uow.commit()


def test_a_batch_is_chained_in_order_after_single_entries(engine: Engine) -> None:
    """Entries written together in one statement continue the chain, in the given order,
    with exactly the values that were hashed (times and details as stored)."""
    _write(engine, 2)
    _write_batch(engine, 7)
    _write(engine, 1)
    _write_batch(engine, 1)
    _write_batch(engine, 3, "again")
    with UnitOfWork(engine) as uow:
        entries = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert entries[0].prev_hash == GENESIS
        assert all(b.prev_hash == a.hash for a, b in pairwise(entries))
        batch = [e for e in entries if e.action == "batch"]
        assert [e.entity_id for e in batch] == [str(i) for i in range(7)] + ["0"]
        assert [e.detail for e in batch] == [{"i": i} for i in range(7)] + [{"i": 0}]
    check = verify(engine)
    assert check.intact and check.checked == 14


def test_a_batch_in_a_failed_transaction_leaves_no_trace(engine: Engine) -> None:
    _write(engine, 2)
    with UnitOfWork(engine, write=True) as uow:
        audit._write_entries(
            uow.session, [audit._row(OPERATOR, "lost", None, None, None) for _ in range(3)]
        )  # not committed: rolled back
    _write_batch(engine, 2)
    with UnitOfWork(engine) as uow:
        actions = uow.session.scalars(select(AuditEntry.action)).all()
    assert "lost" not in actions
    check = verify(engine)
    assert check.intact and check.checked == 4


def test_details_of_every_shape_are_stored_as_hashed(engine: Engine) -> None:
    """Non-ASCII text, nested and empty details, no detail, no actor id and an entity id
    that looks like a number: what is stored hashes to what was chained (on PostgreSQL
    the store's function hashes what Python sent, so a difference would break it)."""
    details: list[dict[str, Any] | None] = [
        {"file": "ügyfelek_łódź.csv", "rows": 3, "ratio": 0.25},
        {"nested": {"b": [1, 2, None], "a": {"z": True}}, "empty": {}},
        {},
        None,
    ]
    anonymous = Actor(user_id=None, username="login:Zoë", role=OPERATOR.role)
    for i, detail in enumerate(details):
        with UnitOfWork(engine, write=True) as uow:
            record(uow.session, anonymous, "shape", entity="import", entity_id=i, detail=detail)
            uow.commit()
    rows = [audit._row(anonymous, "shape", None, "007", d) for d in details]
    with UnitOfWork(engine, write=True) as uow:
        audit._write_entries(uow.session, rows)
        uow.commit()
    record_read(engine, anonymous, "shape", entity="customer", entity_id=8, detail=details[0])
    with UnitOfWork(engine) as uow:
        entries = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        stored = [e.detail or None for e in entries]
        assert stored == [d or None for d in details] * 2 + [details[0]]
        assert [e.entity_id for e in entries[4:8]] == ["007"] * 4
        assert all(e.actor == "login:Zoë" and e.actor_id is None for e in entries)
    check = verify(engine)
    assert check.intact and check.checked == 9


@pytest.mark.postgres
def test_the_store_function_takes_the_writers_lock(pg_url: str) -> None:
    """Migration 0003 spells the advisory-lock key out as a number: it must stay the key
    every other writer of the chain would take."""
    from sqlalchemy import text

    from clientbase.storage.database import open_engine

    eng = open_engine(pg_url)
    try:
        with eng.connect() as conn:
            source = conn.execute(
                text("SELECT prosrc FROM pg_proc WHERE proname = 'clientbase_audit_append'")
            ).scalar_one()
    finally:
        eng.dispose()
    assert f"pg_advisory_xact_lock({audit._LOCK_KEY})" in source


def test_an_edited_row_is_detected(engine: Engine) -> None:
    _write(engine, 6)
    with UnitOfWork(engine) as uow:
        third = uow.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()[2]
        uow.session.execute(
            update(AuditEntry).where(AuditEntry.id == third).values(detail={"i": 99})
        )
        uow.commit()
    check = verify(engine)
    assert not check.intact
    assert check.first_broken_id == third and check.checked == 2


def test_a_deleted_row_is_detected(engine: Engine) -> None:
    _write(engine, 4)
    with UnitOfWork(engine) as uow:
        second = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()[1]
        uow.session.delete(second)
        uow.commit()
    assert verify(engine).first_broken_id is not None


def _in_threads(work: Callable[[int], None], count: int) -> list[BaseException]:
    """Run ``work(k)`` for k in range(count) on as many threads, started together; the
    exceptions they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(k: int) -> None:
        try:
            start.wait()
            work(k)
        except BaseException as exc:  # pragma: no cover - reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_writers_keep_one_chain(engine: Engine) -> None:
    assert _in_threads(lambda k: _write(engine, 10, f"w{k}"), 4) == []
    check = verify(engine)
    assert check.intact and check.checked == 40


def test_concurrent_batch_and_single_writers_keep_one_chain(engine: Engine) -> None:
    def writer(k: int) -> None:
        for _ in range(5):
            if k % 2:
                _write_batch(engine, 4, f"b{k}")
            else:
                _write(engine, 2, f"s{k}")

    assert _in_threads(writer, 6) == []
    check = verify(engine)
    assert check.intact and check.checked == 3 * 5 * 4 + 3 * 5 * 2
    with UnitOfWork(engine) as uow:
        for k in (1, 3, 5):  # each batch's entries are consecutive, in the given order
            ids = uow.session.scalars(
                select(AuditEntry.id).where(AuditEntry.action == f"b{k}").order_by(AuditEntry.id)
            ).all()
            for first in range(0, 20, 4):
                assert ids[first : first + 4] == list(range(ids[first], ids[first] + 4))


def test_concurrent_reads_are_group_committed_in_order(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many readers at once: every entry is committed before its reader returns, in one
    intact chain, each reader's entries in its own order, in fewer transactions than reads."""
    transactions = 0
    real_uow = audit.UnitOfWork

    def counting(*args: Any, **kwargs: Any) -> UnitOfWork:
        nonlocal transactions
        transactions += 1
        return real_uow(*args, **kwargs)

    monkeypatch.setattr(audit, "UnitOfWork", counting)

    def reader(k: int) -> None:
        for i in range(10):
            record_read(engine, OPERATOR, f"r{k}", entity="customer", entity_id=i)
            with real_uow(engine) as uow:  # committed before record_read returned
                assert uow.session.scalar(
                    select(AuditEntry.id).where(
                        AuditEntry.action == f"r{k}", AuditEntry.entity_id == str(i)
                    )
                )

    assert _in_threads(reader, 16) == []
    check = verify(engine)
    assert check.intact and check.checked == 160
    assert transactions < 160
    with real_uow(engine) as uow:
        for k in range(16):
            ids = uow.session.scalars(
                select(AuditEntry.entity_id)
                .where(AuditEntry.action == f"r{k}")
                .order_by(AuditEntry.id)
            ).all()
            assert ids == [str(i) for i in range(10)]


def test_a_failed_group_commit_reaches_its_reader_and_the_next_one_writes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = audit._write_entries

    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "_write_entries", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        record_read(engine, OPERATOR, "lost")
    monkeypatch.setattr(audit, "_write_entries", real_write)
    record_read(engine, OPERATOR, "kept")
    with UnitOfWork(engine) as uow:
        actions = uow.session.scalars(select(AuditEntry.action)).all()
    assert actions == ["kept"]


def test_reads_awaited_as_coroutines_share_batches_and_are_all_committed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    real_write = audit._write_entries

    def counting(session: Any, rows: list[dict[str, Any]], **kwargs: Any) -> None:
        batches.append(len(rows))
        real_write(session, rows, **kwargs)

    monkeypatch.setattr(audit, "_write_entries", counting)

    async def many() -> None:
        await asyncio.gather(
            *(
                audit.record_read_async(engine, OPERATOR, "customer.read", entity_id=i)
                for i in range(40)
            )
        )

    asyncio.run(many())
    with UnitOfWork(engine) as uow:
        ids = uow.session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.action == "customer.read")
        ).all()
    assert sorted(int(i) for i in ids if i is not None) == list(range(40))
    assert verify(engine).intact
    assert sum(batches) == 40
    assert len(batches) < 40  # no coroutine holds a thread: waiting reads share a batch


def test_a_failed_batch_reaches_the_awaiting_coroutines(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "_write_entries", failing)

    async def one() -> None:
        await audit.record_read_async(engine, OPERATOR, "lost")

    with pytest.raises(RuntimeError, match="disk full"):
        asyncio.run(one())
