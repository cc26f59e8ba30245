"""``storage.bulk.insert_frame``: constants, defaults and ids land as planned (SQLite, PostgreSQL).

On SQLite, values shared by every row are written into the statement as literals and ids
that simply continue the table are left to SQLite; both must store exactly what binding
every value would.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import Engine, select

from clientbase.storage import bulk
from clientbase.storage.bulk import allocate_ids, insert_frame
from clientbase.storage.orm import Customer, Order
from clientbase.storage.unit_of_work import UnitOfWork


def _orders(ids: list[int], customer: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": ids,
            "external_id": [f"O{i}" for i in ids],
            "customer_id": [customer] * len(ids),
            "ordered_at": [dt.datetime(2024, 3, 15, 10, 0, i % 60) for i in ids],
            "total_minor": [100 * i for i in ids],
        }
    )


def _stored(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Order.id,
                Order.source,
                Order.external_id,
                Order.status,
                Order.total_minor,
                Order.discount_minor,
                Order.ordered_at,
            ).order_by(Order.id)
        ).all()
    return [tuple(r) for r in rows]


def test_constants_and_defaults_are_stored_as_given(engine: Engine) -> None:
    source = "Kovács' shop; DROP TABLE orders --"
    with UnitOfWork(engine, write=True) as uow:
        conn = uow.session.connection()
        (customer,) = allocate_ids(conn, "customers", 1)
        insert_frame(conn, "customers", pl.DataFrame({"id": [customer]}))
        ids = list(allocate_ids(conn, "orders", 3))
        insert_frame(conn, "orders", _orders(ids, customer), constants={"source": source})
        uow.commit()
    assert _stored(engine) == [
        (i, source, f"O{i}", "completed", 100 * i, 0, dt.datetime(2024, 3, 15, 10, 0, i % 60))
        for i in ids
    ]
    with engine.connect() as conn:
        kind = conn.execute(select(Customer.kind)).scalar_one()
    assert kind == "person"


def test_ids_are_kept_whether_they_continue_the_table_or_not(engine: Engine) -> None:
    with UnitOfWork(engine, write=True) as uow:
        conn = uow.session.connection()
        insert_frame(conn, "customers", pl.DataFrame({"id": [1]}))
        insert_frame(conn, "orders", _orders([1, 2], 1), constants={"source": "a"})
        insert_frame(conn, "orders", _orders([3, 4, 5], 1), constants={"source": "a"})  # next
        insert_frame(conn, "orders", _orders([40, 41], 1), constants={"source": "a"})  # a gap
        insert_frame(conn, "orders", _orders([7, 6], 1), constants={"source": "b"})  # reversed
        uow.commit()
    assert [(r[0], r[1], r[2]) for r in _stored(engine)] == [
        (1, "a", "O1"),
        (2, "a", "O2"),
        (3, "a", "O3"),
        (4, "a", "O4"),
        (5, "a", "O5"),
        (6, "b", "O6"),
        (7, "b", "O7"),
        (40, "a", "O40"),
        (41, "a", "O41"),
    ]


@pytest.mark.parametrize(("per_statement", "chunk"), [(1, 4), (3, 4), (3, 7), (256, 50_000)])
def test_every_row_is_inserted_whatever_the_statement_and_chunk_sizes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, per_statement: int, chunk: int
) -> None:
    monkeypatch.setattr(bulk, "SQLITE_ROWS_PER_STATEMENT", per_statement)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", chunk)
    done: list[int] = []
    with UnitOfWork(engine, write=True) as uow:
        conn = uow.session.connection()
        insert_frame(conn, "customers", pl.DataFrame({"id": [1]}))
        ids = list(range(1, 24))
        orders = _orders(ids, 1)
        inserted = insert_frame(
            conn, "orders", orders, constants={"source": "s"}, progress=done.append
        )
        uow.commit()
    assert inserted == 23 and sum(done) == 23
    assert _stored(engine) == [
        (i, "s", f"O{i}", "completed", 100 * i, 0, dt.datetime(2024, 3, 15, 10, 0, i % 60))
        for i in ids
    ]
