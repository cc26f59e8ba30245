"""Backup and restore: consistent copies, on SQLite and PostgreSQL, across engines."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from clientbase.errors import InvalidInput, NotFound
from clientbase.storage.backup import backup_store, restore_store
from clientbase.storage.database import open_engine
from clientbase.storage.orm import Base, Customer, Event, Order, OrderLine, User
from clientbase.storage.unit_of_work import UnitOfWork


def _populate(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        s = uow.session
        boss = User(username="boss", display_name="Boss", role="manager")
        s.add(boss)
        s.flush()
        rep = User(
            username="rep", display_name="Rép Ágnes", role="representative", manager_id=boss.id
        )
        s.add(rep)
        s.flush()
        a = Customer(
            name="Kovács Éva", email="eva@example.hu", interests=["jazz", "bor"], owner_id=rep.id
        )
        s.add(a)
        s.flush()
        b = Customer(name="Żółć Łukasz", referred_by_customer_id=a.id, attributes={"vip": True})
        s.add(b)
        s.flush()
        o = Order(
            external_id="O-1",
            customer_id=b.id,
            ordered_at=datetime(2025, 3, 15, 10, 30),
            total_minor=1_234_50,
        )
        s.add(o)
        s.flush()
        s.add(OrderLine(order_id=o.id, line_no=1, quantity=2, unit_price_minor=617_25))
        s.add(
            Event(
                external_id="E-1",
                customer_id=a.id,
                occurred_at=datetime(2025, 4, 1),
                kind="referral",
                related_customer_id=b.id,
                payload={"note": "ok"},
            )
        )
        uow.commit()


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    out: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


def test_backup_then_restore_brings_back_exactly_the_content(
    engine: Engine, tmp_path: Path
) -> None:
    _populate(engine)
    before = _snapshot(engine)
    stats = backup_store(engine, tmp_path / "b.sqlite")
    assert stats["customers"] == 2 and stats["orders"] == 1 and stats["order_lines"] == 1

    with UnitOfWork(engine) as uow:
        uow.session.add(Customer(name="later"))
        uow.session.execute(Order.__table__.delete())
        uow.commit()
    assert _snapshot(engine) != before

    restore_store(engine, tmp_path / "b.sqlite")
    engine.dispose()
    assert _snapshot(engine) == before
    # Id sequences continue after the restored rows.
    with UnitOfWork(engine) as uow:
        c = Customer(name="new")
        uow.session.add(c)
        uow.session.flush()
        assert c.id == 3
        uow.commit()


def test_backup_moves_a_store_between_engines(sqlite_url: str, pg_url: str, tmp_path: Path) -> None:
    pg = open_engine(pg_url)
    lite = open_engine(sqlite_url)
    try:
        _populate(pg)
        backup_store(pg, tmp_path / "from-pg.sqlite")
        restore_store(lite, tmp_path / "from-pg.sqlite")
        assert _snapshot(lite) == _snapshot(pg)

        with UnitOfWork(lite) as uow:
            uow.session.add(Customer(name="only in sqlite"))
            uow.commit()
        backup_store(lite, tmp_path / "from-sqlite.sqlite")
        restore_store(pg, tmp_path / "from-sqlite.sqlite")
        assert _snapshot(pg) == _snapshot(lite)
    finally:
        pg.dispose()
        lite.dispose()


def test_backup_refuses_to_overwrite_and_restore_checks_its_file(
    sqlite_url: str, tmp_path: Path
) -> None:
    eng = open_engine(sqlite_url)
    target = tmp_path / "exists.sqlite"
    target.write_text("x")
    with pytest.raises(InvalidInput, match="already exists"):
        backup_store(eng, target)
    with pytest.raises(InvalidInput, match="not a clientbase backup"):
        restore_store(eng, target)
    with pytest.raises(NotFound):
        restore_store(eng, tmp_path / "missing.sqlite")
    eng.dispose()


WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime
    from clientbase.storage.database import open_engine
    from clientbase.storage.orm import Customer, Order, OrderLine
    from clientbase.storage.unit_of_work import UnitOfWork
    eng = open_engine(sys.argv[1])
    with UnitOfWork(eng) as uow:
        c = Customer(name="w"); uow.session.add(c); uow.commit()
        cid = c.id
    deadline = time.monotonic() + float(sys.argv[2])
    i = 0
    while time.monotonic() < deadline:
        with UnitOfWork(eng) as uow:
            o = Order(external_id=f"W{i}", customer_id=cid, ordered_at=datetime(2025, 1, 1))
            uow.session.add(o); uow.session.flush()
            for n in (1, 2, 3):
                line = OrderLine(order_id=o.id, line_no=n, quantity=1, unit_price_minor=100)
                uow.session.add(line)
            uow.commit()
        i += 1
    print(i)
    """
)


@pytest.mark.slow
def test_sqlite_backup_is_consistent_while_the_store_is_written(
    sqlite_url: str, tmp_path: Path
) -> None:
    eng = open_engine(sqlite_url)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, sqlite_url, "6"], stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with eng.connect() as conn:
                if conn.execute(select(func.count()).select_from(Order)).scalar_one() > 0:
                    break
            time.sleep(0.05)
        sizes = []
        for k in range(3):
            path = tmp_path / f"live-{k}.sqlite"
            backup_store(eng, path)
            copy = open_engine(f"sqlite:///{path}")
            with copy.connect() as conn:
                orders = conn.execute(select(func.count()).select_from(Order)).scalar_one()
                lines = conn.execute(select(func.count()).select_from(OrderLine)).scalar_one()
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            copy.dispose()
            assert lines == 3 * orders
            sizes.append(orders)
            time.sleep(0.5)
    finally:
        out, _ = writer.communicate(timeout=60)
        eng.dispose()
    assert writer.returncode == 0
    assert int(out.strip()) > sizes[-1] > sizes[0] > 0
