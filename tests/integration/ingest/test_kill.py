"""A ``kill -9`` in the middle of a large import leaves the store exactly as it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sqlalchemy import select

from clientbase.security.actor import Actor
from clientbase.services.imports import import_file
from clientbase.storage.database import open_engine
from clientbase.storage.orm import Base
from clientbase.storage.schema import upgrade

ROWS = 400_000


def _snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
        found["sqlite_master"] = conn.execute(
            "SELECT * FROM sqlite_master ORDER BY name"
        ).fetchall()
    return found


def _files(tmp_path: Path, seed: int) -> tuple[Path, Path]:
    """A customers file and a large orders file that refers to them."""
    rng = np.random.default_rng(seed)
    customers = tmp_path / "customers.csv"
    pl.DataFrame({"external_id": [f"C{i}" for i in range(1000)]}).write_csv(customers)
    orders = tmp_path / "orders.csv"
    pl.DataFrame(
        {
            "external_id": [f"O{i}" for i in range(ROWS)],
            "customer": [f"C{i}" for i in rng.integers(0, 1000, ROWS)],
            "ordered_at": ["2024-03-15 10:00:00"] * ROWS,
            "total": rng.integers(100, 100_000, ROWS).astype(str),
        }
    ).write_csv(orders)
    return customers, orders


def _kill_while_writing(tmp_path: Path, orders: Path, db_url: str) -> None:
    """Run ``clientbase import orders`` in a real process and SIGKILL it while it writes."""
    env = {**os.environ, "CLIENTBASE_HOME": str(tmp_path / "home")}
    command = ["-m", "clientbase", "import", "orders", str(orders), "--db", db_url]
    process = subprocess.Popen(
        [sys.executable, *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # one line per stage when stderr is not a terminal
        if line.startswith("Writing"):
            break
    else:
        pytest.fail(f"the import never started writing (exit {process.wait()})")
    time.sleep(0.3)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(60) == -signal.SIGKILL, "the import ended before it could be killed"
    process.stderr.close()


@pytest.mark.slow
def test_kill_9_mid_import_leaves_the_store_unchanged(tmp_path: Path) -> None:
    customers, orders = _files(tmp_path, seed=3)
    store = tmp_path / "store.sqlite"
    engine = open_engine(f"sqlite:///{store}")
    upgrade(engine)
    import_file(engine, Actor.local_operator(), "customers", customers)
    engine.dispose()
    before = _snapshot(store)
    _kill_while_writing(tmp_path, orders, f"sqlite:///{store}")
    after = _snapshot(store)
    assert after == before
    assert after["orders"] == []


def _pg_snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: [
                    tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns)).all()
                ]
                for t in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_kill_9_mid_import_leaves_a_postgresql_store_unchanged(tmp_path: Path, pg_url: str) -> None:
    customers, orders = _files(tmp_path, seed=4)
    engine = open_engine(pg_url)
    import_file(engine, Actor.local_operator(), "customers", customers)
    engine.dispose()
    before = _pg_snapshot(pg_url)
    _kill_while_writing(tmp_path, orders, pg_url)
    after = _pg_snapshot(pg_url)
    assert after == before
    assert after["orders"] == []
