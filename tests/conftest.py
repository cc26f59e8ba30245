"""Shared fixtures: a fresh store on SQLite and on a real PostgreSQL server.

PostgreSQL is found at ``CLIENTBASE_TEST_PG_URL`` (a server URL) or 127.0.0.1:5432 (user
``postgres``); when neither answers, a throwaway cluster is started with the PostgreSQL
binaries on the machine. When that fails too, tests that need PostgreSQL fail with a message
that says exactly what is missing — they are never silently skipped.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, text

from clientbase.storage.database import open_engine
from clientbase.storage.orm import Base
from clientbase.storage.schema import upgrade
from tests.pgserver import PostgresUnavailable, find_or_start_postgres

# Property tests draw the same examples on every run (a suite that passes passes again);
# CLIENTBASE_HYPOTHESIS=explore draws new ones, to look for trouble on purpose.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("CLIENTBASE_HYPOTHESIS", "deterministic"))


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server (without a database name) that tests may use."""
    try:
        server = find_or_start_postgres(tmp_path_factory.mktemp("pg"))
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is needed by this test and none could be found or started: {exc}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_database_url(pg_server_url: str) -> Iterator[str]:
    """A database created for this test session, migrated to head, dropped at the end."""
    name = f"clientbase_test_{uuid.uuid4().hex[:10]}"
    admin = open_engine(f"{pg_server_url}/postgres")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{pg_server_url}/{name}"
    engine = open_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (migrating once is faster)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    engine = open_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _truncate_all(url: str) -> None:
    engine = open_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "store.sqlite"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url(pg_database_url: str) -> str:
    _truncate_all(pg_database_url)
    return pg_database_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh, migrated, empty store: the test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    eng = open_engine(store_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own CLIENTBASE_HOME and no CLIENTBASE_DB from the outside."""
    from clientbase.config import _env_settings

    monkeypatch.setenv("CLIENTBASE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLIENTBASE_DB", raising=False)
    _env_settings.cache_clear()
    yield
    _env_settings.cache_clear()
