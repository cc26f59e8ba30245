"""The audit log is a hash chain: intact as written, broken where a row was edited."""

from __future__ import annotations

import threading
from itertools import pairwise

from sqlalchemy import Engine, select, update

from clientbase.security.actor import Actor
from clientbase.services.audit import GENESIS, record, verify
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


def test_concurrent_writers_keep_one_chain(engine: Engine) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            _write(engine, 10, name)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    check = verify(engine)
    assert check.intact and check.checked == 40
