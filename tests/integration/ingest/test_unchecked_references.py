"""Large SQLite imports check their references themselves: nothing dangling gets in.

A write of many rows into a SQLite file goes through connections that do not check foreign
keys row by row (``storage.bulk.unchecked_engine``); the import must then prove every
reference it wrote before committing. Run on PostgreSQL too, where the database checks.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, select

from clientbase.errors import StorageError
from clientbase.ingest.reconcile import WritePlan, reconcile
from clientbase.security.actor import Actor
from clientbase.services import imports
from clientbase.storage import bulk
from clientbase.storage.orm import Base, Order

ACTOR = Actor.local_operator()
CUSTOMERS = "external_id,name\nC1,Anna\nC2,Béla\n"
ORDERS = "external_id,customer,ordered_at,total\n" + "".join(
    f"O{i},C{1 + i % 2},2024-01-0{1 + i % 9},{i}\n" for i in range(300)
)


def _file(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / f"{name}.csv"
    path.write_text(content, encoding="utf-8")
    return path


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr)
            for t in Base.metadata.sorted_tables
        }


@pytest.fixture
def unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every import is large enough for the unchecked path."""
    monkeypatch.setattr(bulk, "UNCHECKED_REFERENCES_ROWS", 1)


@pytest.mark.usefixtures("unchecked")
def test_large_import_writes_valid_references_and_leaves_the_engine_checking(
    engine: Engine, tmp_path: Path
) -> None:
    imports.import_file(engine, ACTOR, "customers", _file(tmp_path, "customers", CUSTOMERS))
    report = imports.import_file(engine, ACTOR, "orders", _file(tmp_path, "orders", ORDERS))
    assert report.imported == 300
    with engine.connect() as conn:
        assert bulk.references_enforced(conn)
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert conn.execute(select(Order.customer_id).distinct()).scalars().all()


@pytest.mark.usefixtures("unchecked")
def test_unchecked_path_is_taken_on_a_sqlite_file(engine: Engine) -> None:
    with bulk.unchecked_engine(engine, 1_000_000) as target, target.connect() as conn:
        expected = engine.dialect.name != "sqlite"
        assert (target is engine) is expected
        assert bulk.references_enforced(conn) is expected
    with engine.connect() as conn:
        assert bulk.references_enforced(conn)


@pytest.mark.usefixtures("unchecked")
def test_a_dangling_reference_rolls_the_whole_import_back(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imports.import_file(engine, ACTOR, "customers", _file(tmp_path, "customers", CUSTOMERS))
    before = _snapshot(engine)

    def dangling(*args: object, **kwargs: object) -> WritePlan:
        plan = reconcile(*args, **kwargs)  # type: ignore[arg-type]
        # One order of the plan points at a customer that does not exist.
        plan.inserts = (
            plan.inserts.with_row_index("n")
            .with_columns(
                customer_id=pl.when(pl.col("n") == 150)
                .then(pl.lit(10_000))
                .otherwise(pl.col("customer_id"))
            )
            .drop("n")
        )
        return plan

    monkeypatch.setattr("clientbase.services.imports.reconcile", dangling)
    with pytest.raises(StorageError) as raised:
        imports.import_file(engine, ACTOR, "orders", _file(tmp_path, "orders", ORDERS))
    if engine.dialect.name == "sqlite":
        assert "orders.customer_id = 10000 refers to no row of customers" in str(raised.value)
    assert _snapshot(engine) == before
