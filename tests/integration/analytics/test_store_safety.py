"""Scoring never breaks the locks of the store's other connections in the same process.

ADBC's SQLite driver carries its own copy of the SQLite library. If that copy opened the
store inside a process that also has Python's ``sqlite3`` open on it, closing the copy's
files would drop the whole process's POSIX locks on them, and another process could then
write under a transaction that believes it holds the write lock: the way to "database disk
image is malformed". Scoring must do its ADBC work in child processes instead.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pyarrow as pa
import pytest
from sqlalchemy.engine import make_url

from clientbase.config import get_settings
from clientbase.errors import StorageError
from clientbase.security.actor import Actor
from clientbase.services.scoring import read_store, run_score
from clientbase.storage.arrow_io import ArrowQuery, append_table, fetch_tables
from tests.integration.analytics.handbuilt import AS_OF, build

# Exits 3 when the store's write lock is held by someone else, 0 when it could take it.
PROBE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
try:
    conn.execute("BEGIN IMMEDIATE")
except sqlite3.OperationalError as exc:
    sys.exit(3 if "locked" in str(exc) else 4)
conn.execute("ROLLBACK")
"""


def _write_lock_is_held(path: str) -> bool:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, path], capture_output=True, text=True, timeout=120
    )
    assert probe.returncode in (0, 3), probe.stderr
    return probe.returncode == 3


@pytest.mark.slow
def test_scoring_keeps_the_locks_and_writes_of_another_connection(sqlite_url: str) -> None:
    build(sqlite_url)
    path = make_url(sqlite_url).database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None, timeout=30)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other.execute("CREATE TABLE probe_writes (n INTEGER NOT NULL)")

    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO probe_writes VALUES (1)")
    assert _write_lock_is_held(path)
    inputs = read_store(sqlite_url, AS_OF)  # a bulk read while this process holds the lock
    assert inputs["orders"].num_rows > 0
    assert _write_lock_is_held(path), "the bulk read dropped this process's write lock"
    other.execute("INSERT INTO probe_writes VALUES (2)")
    other.execute("COMMIT")

    # A whole run (bulk read, bulk write) while the connection stays open, then more writes.
    summary = run_score(get_settings(db=sqlite_url), Actor.local_operator(), as_of=AS_OF)
    assert summary.customers_scored == 14
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO probe_writes VALUES (3)")
    assert _write_lock_is_held(path), "the bulk write dropped this process's write lock"
    other.execute("COMMIT")

    assert other.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert [r[0] for r in other.execute("SELECT n FROM probe_writes ORDER BY n")] == [1, 2, 3]
    scored = other.execute("SELECT count(*) FROM customer_scores WHERE run_id = ?", (1,))
    assert scored.fetchone()[0] == 14
    other.close()


def test_a_failed_bulk_read_reports_the_database_error(sqlite_url: str) -> None:
    query = {"x": ArrowQuery("SELECT id FROM no_such_table WHERE {part}", "customers")}
    with pytest.raises(StorageError, match="no such table"):
        fetch_tables(sqlite_url, query)


def test_a_failed_bulk_append_writes_nothing(sqlite_url: str) -> None:
    path = make_url(sqlite_url).database
    assert path is not None
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE pairs (a INTEGER PRIMARY KEY, b INTEGER NOT NULL)")
    conn.execute("INSERT INTO pairs VALUES (5, 0)")
    rows = pa.table({"a": pa.array([1, 2, 5], pa.int64()), "b": pa.array([1, 2, 3], pa.int64())})
    with pytest.raises(StorageError, match=r"UNIQUE|constraint"):
        append_table(sqlite_url, "pairs", rows)  # the third row collides: none is written
    assert conn.execute("SELECT a FROM pairs").fetchall() == [(5,)]
    assert append_table(sqlite_url, "pairs", rows.slice(0, 2)) == 2
    assert conn.execute("SELECT a, b FROM pairs ORDER BY a").fetchall() == [(1, 1), (2, 2), (5, 0)]
    conn.close()
