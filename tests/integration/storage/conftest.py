"""Fixtures of the storage tests: a PostgreSQL engine with a one-connection pool, and ending
that connection's server process from outside (as a restart or an idle timeout would)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text

from clientbase.storage.database import open_engine


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = open_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def terminate_backend(pg_url: str) -> Callable[[int], None]:
    """Terminate the server process ``pid`` from another connection."""

    def terminate(pid: int) -> None:
        admin = open_engine(pg_url)
        try:
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            admin.dispose()

    return terminate
