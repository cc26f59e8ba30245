"""Consistent copies of the store, and putting a copy back.

A backup is always a **SQLite file** holding the clientbase schema, whatever the source
engine: one format that opens anywhere, and that moves a business from the embedded store to
PostgreSQL and back.

* From SQLite, SQLite's online backup API copies the file page by page under one read
  transaction: a consistent snapshot even while imports and the dashboard use the store.
* From PostgreSQL, every table is read inside one ``REPEATABLE READ READ ONLY`` transaction
  (one snapshot for all tables) and written into a freshly migrated SQLite file.

Restoring replaces the whole content of the target store, in one transaction: into SQLite
through the backup API in reverse, into PostgreSQL by emptying the tables and copying the
rows back (self-references are filled in a second pass) and resetting the id sequences.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, select, text, update

from clientbase.errors import InvalidInput, NotFound, SchemaOutOfDate
from clientbase.storage.database import open_engine, sqlite_path
from clientbase.storage.orm import Base
from clientbase.storage.schema import current_revision, head_revision, upgrade

__all__ = ["BackupStats", "backup_store", "restore_store"]

_CHUNK = 20_000

#: Called with (table name, rows copied so far) while copying.
Progress = Callable[[str, int], None]

BackupStats = dict[str, int]


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _count_rows(conn: Connection) -> BackupStats:
    return {
        t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
        for t in _tables()
    }


def _self_ref_columns(table: Table) -> list[str]:
    return [
        fk.parent.name
        for fk in table.foreign_keys
        if fk.column.table is table and fk.parent.name != "id"
    ]


def _chunks(conn: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    result = conn.execution_options(yield_per=_CHUNK).execute(
        select(table).order_by(*table.primary_key.columns)
    )
    for part in result.mappings().partitions(_CHUNK):
        yield [dict(row) for row in part]


def _copy_tables(source: Connection, target: Connection, progress: Progress | None) -> BackupStats:
    stats: BackupStats = {}
    for table in _tables():
        selfrefs = _self_ref_columns(table)
        stamped = [c.name for c in table.columns if c.onupdate is not None]
        deferred: list[dict[str, Any]] = []
        copied = 0
        for rows in _chunks(source, table):
            if selfrefs:
                for row in rows:
                    if any(row[c] is not None for c in selfrefs):
                        # Carry columns with an ``onupdate`` so the second pass keeps them.
                        keep = [*selfrefs, *stamped]
                        deferred.append({"_id": row["id"], **{c: row[c] for c in keep}})
                        for c in selfrefs:
                            row[c] = None
            target.execute(table.insert(), rows)
            copied += len(rows)
            if progress:
                progress(table.name, copied)
        if deferred:
            stmt = (
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in [*selfrefs, *stamped]})
            )
            target.execute(stmt, deferred)
        stats[table.name] = copied
    return stats


def backup_store(
    engine: Engine, destination: Path, progress: Progress | None = None
) -> BackupStats:
    """Write a consistent copy of the store to ``destination`` (a new SQLite file).

    Returns the number of rows of every table in the copy.
    """
    if destination.exists():
        raise InvalidInput(f"{destination} already exists: choose a new file for the backup")
    destination.parent.mkdir(parents=True, exist_ok=True)
    _require_head(engine, "the database to back up")
    source_file = sqlite_path(engine.url)
    if engine.dialect.name == "sqlite" and source_file is not None:
        tmp = destination.with_name(destination.name + ".partial")
        tmp.unlink(missing_ok=True)
        src = sqlite3.connect(source_file)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        _single_file(tmp)
        tmp.replace(destination)
        target = open_engine(f"sqlite:///{destination}", create_dir=False)
        try:
            with target.connect() as conn:
                return _count_rows(conn)
        finally:
            target.dispose()

    tmp = destination.with_name(destination.name + ".partial")
    tmp.unlink(missing_ok=True)
    target = open_engine(f"sqlite:///{tmp}")
    try:
        upgrade(target)
        with (
            engine.connect().execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            ) as src_conn,
            target.begin() as dst_conn,
        ):
            dst_conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            stats = _copy_tables(src_conn, dst_conn, progress)
    finally:
        target.dispose()
    _single_file(tmp)
    tmp.replace(destination)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    return stats


def _single_file(path: Path) -> None:
    """Fold the WAL into the file and leave WAL mode, so the backup is one file."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def _require_head(engine: Engine, what: str) -> None:
    revision = current_revision(engine)
    if revision != head_revision():
        raise SchemaOutOfDate(
            f"{what} is at schema {revision or 'none'}, this clientbase expects {head_revision()}",
            hint="run `clientbase db upgrade` first",
        )


def _open_backup(path: Path) -> Engine:
    if not path.is_file():
        raise NotFound(f"backup file {path} does not exist")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as probe:
            probe.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{path} is not a clientbase backup: {exc}") from exc
    engine = open_engine(f"sqlite:///{path}", create_dir=False)
    revision = current_revision(engine)
    if revision != head_revision():
        engine.dispose()
        raise SchemaOutOfDate(
            f"backup {path} is at schema {revision}, this clientbase expects {head_revision()}",
            hint="restore it with the clientbase version that wrote it, then upgrade",
        )
    return engine


def restore_store(engine: Engine, source: Path, progress: Progress | None = None) -> BackupStats:
    """Replace the whole content of the store with the backup in ``source``.

    The target keeps its old content if anything fails (one transaction).
    """
    backup = _open_backup(source)
    try:
        target_file = sqlite_path(engine.url)
        if engine.dialect.name == "sqlite" and target_file is not None:
            engine.dispose()
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            dst = sqlite3.connect(target_file, timeout=30)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
            with backup.connect() as conn:
                return _count_rows(conn)

        _require_head(engine, "the database to restore into")
        with backup.connect() as src_conn, engine.begin() as dst_conn:
            names = ", ".join(f'"{t.name}"' for t in _tables())
            dst_conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            stats = _copy_tables(src_conn, dst_conn, progress)
            for table in _tables():
                if "id" in table.c and table.c.id.autoincrement is not False:
                    seq = dst_conn.execute(
                        text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
                    ).scalar()
                    if seq:
                        top = f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table.name}"'
                        dst_conn.execute(text(f"SELECT setval(:s, ({top}), false)"), {"s": seq})
        return stats
    finally:
        backup.dispose()
