"""How a SQLite demo build reaches the store: renamed into place or copied in one transaction.

Either way the store ends consistent (WAL, every index of the migrated schema, integrity and
foreign keys clean), and a build that fails leaves the store as it was and no build file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import text

from clientbase.config import get_settings
from clientbase.demo.business import DemoStats, generate
from clientbase.errors import Conflict, StorageError
from clientbase.services import demo as demo_service
from clientbase.services.demo import build_demo
from clientbase.storage.database import open_engine
from clientbase.storage.demo_sqlite import SQLiteFileBuild


def _schema(path: Path) -> set[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'index') "
            "AND name NOT LIKE 'sqlite_stat%'"
        ).fetchall()
    return {(str(t), str(n), str(s)) for t, n, s in rows}


def _assert_consistent(path: Path, template: Path) -> None:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert _schema(path) == _schema(template)


def _build_files(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if ".build-" in p.name]


def test_a_new_file_is_renamed_into_place_and_consistent(
    tmp_path: Path, sqlite_template: Path
) -> None:
    target = tmp_path / "new" / "store.sqlite"
    result = build_demo(get_settings(db=f"sqlite:///{target}"), customers=400, seed=5)
    assert result.published == "rename"
    _assert_consistent(target, sqlite_template)
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT COUNT(*) FROM customers").fetchone() == (400,)
        assert conn.execute("SELECT COUNT(*) FROM orders").fetchone() == (result.stats.orders,)
    assert _build_files(target.parent) == []


def test_a_store_in_use_is_replaced_in_one_transaction(
    sqlite_url: str, sqlite_template: Path
) -> None:
    settings = get_settings(db=sqlite_url)
    build_demo(settings, customers=300, seed=1)
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    reader = open_engine(sqlite_url)
    try:
        with reader.connect() as conn:  # an open connection: the store is in use
            assert conn.execute(text("SELECT COUNT(*) FROM customers")).scalar() == 300
            with pytest.raises(Conflict):
                build_demo(settings, customers=350, seed=2)
            again = build_demo(settings, customers=350, seed=2, replace=True)
            assert again.published == "copy"
            conn.rollback()
            assert conn.execute(text("SELECT COUNT(*) FROM customers")).scalar() == 350
    finally:
        reader.dispose()
    _assert_consistent(path, sqlite_template)
    assert _build_files(path.parent) == []


def test_an_idle_store_with_data_is_replaced_by_rename(sqlite_url: str) -> None:
    settings = get_settings(db=sqlite_url)
    build_demo(settings, customers=300, seed=1)
    again = build_demo(settings, customers=320, seed=2, replace=True)
    assert again.published == "rename"
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM customers").fetchone() == (320,)


def test_rows_outside_the_main_tables_are_kept_without_replace(sqlite_url: str) -> None:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO audit_log (at, actor, action) "
            "VALUES ('2026-01-01 00:00:00.000000', 'system', 'init')"
        )
    result = build_demo(get_settings(db=sqlite_url), customers=200, seed=3)
    assert result.published == "copy"  # renaming would have dropped the audit row
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit_log").fetchone() == (1,)
        assert conn.execute("SELECT COUNT(*) FROM customers").fetchone() == (200,)


def test_a_failed_build_leaves_the_store_as_it_was(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings(db=sqlite_url)
    build_demo(settings, customers=250, seed=4)
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = path.read_bytes()

    real = generate

    def broken(customers: int, seed: int, stats: DemoStats) -> Iterator[tuple[str, pl.DataFrame]]:
        for table, frame in real(customers, seed, stats):
            if table == "orders":
                raise RuntimeError("the generator broke half-way")
            yield table, frame

    monkeypatch.setattr(demo_service, "generate", broken)
    with pytest.raises(RuntimeError, match="half-way"):
        build_demo(settings, customers=250, seed=4, replace=True)
    assert path.read_bytes() == before
    assert _build_files(path.parent) == []


def test_a_write_the_store_refuses_fails_the_build_and_removes_its_file(tmp_path: Path) -> None:
    with (
        pytest.raises(StorageError, match="writing the demo store failed"),
        SQLiteFileBuild(tmp_path, "store.sqlite") as build,
    ):
        build.write("users", pl.DataFrame({"id": [1], "username": ["no display name"]}))
        build.finish()
    assert list(tmp_path.iterdir()) == []
