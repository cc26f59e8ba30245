"""Bulk writing of generated tables (the demo business) straight through the DBAPI.

The ORM is far too slow for ten million rows, so frames are written with the driver:
SQLite through ``executemany`` (timestamps bound as epoch seconds and formatted by SQLite in
the ORM's own format), PostgreSQL through ``COPY … FROM STDIN`` (CSV). Nothing here commits:
the caller owns the transaction. On SQLite, :func:`bulk_load_session` turns off foreign-key
enforcement and durability for the load (restored afterwards) and drops the secondary
indexes, :func:`finish_load` rebuilds them and verifies every foreign key.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
from sqlalchemy import Connection, Index, inspect, text

from clientbase.errors import StorageError
from clientbase.storage.orm import Base

__all__ = ["bulk_load_session", "empty_store", "finish_load", "has_data", "write_frame"]

CHUNK = 200_000
_DATA_TABLES = ("customers", "users", "orders", "events", "products", "campaigns", "partners")


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


def _secondary_indexes() -> list[Index]:
    return [ix for t in Base.metadata.sorted_tables for ix in t.indexes]


@contextmanager
def bulk_load_session(conn: Connection) -> Iterator[None]:
    """Connection settings for a fast load; call outside a transaction (SQLite pragmas)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = _raw(conn)
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("PRAGMA cache_size=-500000")
    raw.execute("PRAGMA temp_store=MEMORY")
    try:
        yield
    finally:
        if not raw.in_transaction:  # after a commit: fold the WAL into the file
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.execute("PRAGMA synchronous=NORMAL")
            raw.execute("PRAGMA foreign_keys=ON")
            raw.execute("PRAGMA cache_size=-2000")


def drop_indexes(conn: Connection) -> None:
    """Drop secondary (non-unique) indexes before a SQLite load; :func:`finish_load` rebuilds."""
    if conn.dialect.name != "sqlite":
        return
    existing = {
        ix["name"] for t in Base.metadata.sorted_tables for ix in inspect(conn).get_indexes(t.name)
    }
    for ix in _secondary_indexes():
        if ix.name in existing:
            ix.drop(conn)


def finish_load(conn: Connection) -> None:
    """Rebuild the indexes and check every foreign key (SQLite), in the transaction.

    Raises
    ------
    StorageError
        A row references a missing parent.
    """
    if conn.dialect.name != "sqlite":
        return
    for ix in _secondary_indexes():
        ix.create(conn, checkfirst=True)
    bad = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if bad:
        raise StorageError(f"the bulk load left {len(bad)} broken references, e.g. {bad[0]}")
    conn.exec_driver_sql("ANALYZE")


def write_frame(conn: Connection, table: str, frame: pl.DataFrame) -> int:
    """Insert every row of ``frame`` (columns named as the table's) into ``table``."""
    if frame.height == 0:
        return 0
    if conn.dialect.name == "postgresql":
        _copy_postgres(conn, table, frame)
    else:
        _insert_sqlite(conn, table, frame)
    return frame.height


def _insert_sqlite(conn: Connection, table: str, frame: pl.DataFrame) -> None:
    exprs, columns = [], []
    for i, (name, dtype) in enumerate(frame.schema.items(), start=1):
        if dtype == pl.Datetime("us"):
            exprs.append(f"datetime(?{i}, 'unixepoch') || '.000000'")
            columns.append(pl.col(name).dt.epoch("s"))
        elif dtype == pl.Date:
            exprs.append(f"?{i}")
            columns.append(pl.col(name).cast(pl.String))
        elif dtype == pl.Boolean:
            exprs.append(f"?{i}")
            columns.append(pl.col(name).cast(pl.Int8))
        else:
            exprs.append(f"?{i}")
            columns.append(pl.col(name))
    names = ", ".join(f'"{c}"' for c in frame.columns)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(exprs)})'
    ready = frame.select(columns)
    cursor = _raw(conn).cursor()
    try:
        for start in range(0, ready.height, CHUNK):
            part = ready.slice(start, CHUNK)
            cursor.executemany(sql, zip(*(part[c].to_list() for c in part.columns), strict=True))
    finally:
        cursor.close()


def _copy_postgres(conn: Connection, table: str, frame: pl.DataFrame) -> None:
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
