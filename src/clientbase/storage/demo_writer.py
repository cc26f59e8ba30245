"""Bulk writing of the demo business into a live store, inside the caller's transaction.

* PostgreSQL: frames go through ``COPY … FROM STDIN`` (CSV), :func:`write_frame`.
* SQLite: the business is first built as a file of its own (``storage.demo_sqlite``); when
  that file cannot simply be renamed over the store (somebody has the store open, or it
  holds data that is being replaced), :func:`copy_store` copies it in with one
  ``INSERT … SELECT`` per table from the attached file. That is the transactional path:
  readers keep seeing the old store until the commit, a crash leaves the store as it was,
  and it costs what a WAL costs (every page written twice).

Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, text

from clientbase.errors import StorageError
from clientbase.storage.orm import Base

__all__ = [
    "attached",
    "bulk_load_session",
    "copy_store",
    "empty_store",
    "has_data",
    "reset_sequences",
    "write_frame",
]

CHUNK = 200_000
_DATA_TABLES = ("customers", "users", "orders", "events", "products", "campaigns", "partners")
_SOURCE = "demo_build"


def _raw(conn: Connection) -> Any:
    return conn.connection.dbapi_connection


def has_data(conn: Connection) -> bool:
    """Whether any of the store's main tables holds a row."""
    return any(
        conn.execute(text(f"SELECT 1 FROM {t} LIMIT 1")).first() is not None for t in _DATA_TABLES
    )


def empty_store(conn: Connection) -> None:
    """Delete every row of every clientbase table (children first), inside the transaction."""
    if conn.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    for table in reversed(Base.metadata.sorted_tables):
        conn.execute(table.delete())


@contextmanager
def bulk_load_session(conn: Connection) -> Iterator[None]:
    """SQLite: no per-row foreign-key checks and a large cache for a bulk copy.

    Call outside a transaction (SQLite ignores these pragmas inside one); the copy checks
    every reference once with ``PRAGMA foreign_key_check`` before it may be committed.
    Afterwards the WAL is checkpointed (as far as readers allow) and truncated.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = _raw(conn)
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("PRAGMA cache_size=-262144")
    try:
        yield
    finally:
        if not raw.in_transaction:  # after the commit: fold the WAL back into the file
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.execute("PRAGMA foreign_keys=ON")
            raw.execute("PRAGMA cache_size=-2000")


@contextmanager
def attached(conn: Connection, path: Path) -> Iterator[None]:
    """Attach the SQLite file at ``path`` as ``demo_build`` (call outside a transaction)."""
    raw = _raw(conn)  # the driver connection: SQLAlchemy would open a transaction first
    raw.execute(f"ATTACH DATABASE ? AS {_SOURCE}", (str(path),))
    try:
        yield
    finally:
        if conn.in_transaction():
            conn.rollback()
        raw.execute(f"DETACH DATABASE {_SOURCE}")


def copy_store(conn: Connection) -> int:
    """Copy every row of the attached build into this (empty) SQLite store; return the count.

    Runs in the caller's transaction: the secondary indexes are dropped, the tables filled
    parents first, the indexes recreated from their own SQL and every foreign key checked.

    Raises
    ------
    StorageError
        A copied row references a missing parent.
    """
    indexes = conn.exec_driver_sql(
        "SELECT name, sql FROM main.sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).all()
    for name, _sql in indexes:
        conn.exec_driver_sql(f'DROP INDEX main."{name}"')
    copied = 0
    for table in Base.metadata.sorted_tables:
        cols = [r[1] for r in conn.exec_driver_sql(f'PRAGMA {_SOURCE}.table_info("{table.name}")')]
        if not cols:
            continue
        names = ", ".join(f'"{c}"' for c in cols)
        result = conn.exec_driver_sql(
            f'INSERT INTO main."{table.name}" ({names}) '
            f'SELECT {names} FROM {_SOURCE}."{table.name}"'
        )
        copied += max(result.rowcount, 0)
    for _name, sql in indexes:
        conn.exec_driver_sql(sql)
    bad = conn.exec_driver_sql("PRAGMA main.foreign_key_check").all()
    if bad:
        raise StorageError(f"the demo copy left {len(bad)} broken references, e.g. {bad[0]}")
    conn.exec_driver_sql("PRAGMA analysis_limit=1000")
    conn.exec_driver_sql("ANALYZE main")
    return copied


def write_frame(conn: Connection, table: str, frame: pl.DataFrame) -> int:
    """Insert every row of ``frame`` (columns named as the table's) into a PostgreSQL table."""
    if conn.dialect.name != "postgresql":
        raise StorageError(f"write_frame writes to PostgreSQL, not {conn.dialect.name}")
    if frame.height == 0:
        return 0
    names = ", ".join(f'"{c}"' for c in frame.columns)
    cursor = _raw(conn).cursor()
    try:
        with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN (FORMAT csv)') as copy:
            for start in range(0, frame.height, CHUNK):
                buf = io.BytesIO()
                frame.slice(start, CHUNK).write_csv(
                    buf,
                    include_header=False,
                    datetime_format="%Y-%m-%d %H:%M:%S",
                    null_value="",
                )
                copy.write(buf.getvalue())
    finally:
        cursor.close()
    return frame.height


def reset_sequences(conn: Connection) -> None:
    """After a load with explicit ids, move PostgreSQL's id sequences past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
                )
            )
