"""Building a whole SQLite store file at full speed (the demo business), then publishing it.

Loading ten million rows into a live WAL database writes every page twice (WAL, then the
checkpoint) and keeps every index up to date row by row. A store that is built from nothing
does not need any of that, so :class:`SQLiteFileBuild` builds a *new* file next to the target:

* the schema comes from the migrations (``upgrade``), so it is exactly the store's schema;
  secondary indexes whose rows arrive out of order are dropped and recreated at the end
  from their own stored SQL (the ``sqlite_master`` text is unchanged); the others and the
  unique constraints stay (rows arrive in key order: their indexes are only appended to);
* the file is private while it is built: ``journal_mode=OFF``, ``synchronous=OFF``,
  ``locking_mode=EXCLUSIVE``, a large page cache, foreign keys not enforced row by row but
  proven per block from id ranges (:class:`ReferenceGuard`), with ``PRAGMA
  foreign_key_check`` at the end for whatever that cannot prove;
* rows go in through ADBC (Arrow in, ``sqlite3_bind`` in C, no Python object per row), on a
  writer thread that releases the GIL, so the next block is generated while this one is
  written;
* at the end the file is switched to WAL, synced, and then either renamed over the target
  (:func:`publish_by_rename`, only when nobody has the target open) or copied into it in
  one transaction by the caller (``demo_writer.copy_store``).

Nothing here commits the caller's store: the build file is committed by the service through
:meth:`SQLiteFileBuild.commit`, and a build that is not committed is deleted.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
import uuid
from collections.abc import Callable, Collection
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from clientbase.errors import StorageError
from clientbase.storage.database import open_engine
from clientbase.storage.orm import Base
from clientbase.storage.schema import upgrade

__all__ = ["ReferenceGuard", "SQLiteFileBuild", "publish_by_rename", "secondary_index_sql"]

#: SQLAlchemy's text format of a SQLite ``DateTime``.
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%6f"
#: Page cache of the build connection (KiB, as ``PRAGMA cache_size`` takes negative values).
CACHE_KIB = 512 * 1024
_QUEUE_DEPTH = 3
_SIDE_FILES = ("-wal", "-shm", "-journal")

#: ``progress(stage, rows written so far)`` while the build finishes.
StageProgress = Callable[[str, int], None]


def secondary_index_sql(conn: Any) -> list[tuple[str, str]]:
    """``(name, CREATE INDEX …)`` of every explicitly created index (not the autoindexes)."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "ORDER BY tbl_name, name"
    ).fetchall()
    return [(str(name), str(sql)) for name, sql in rows]


def _arrow(frame: pl.DataFrame) -> Any:
    """The frame as an Arrow table with datetimes as SQLAlchemy's SQLite text."""
    text = [
        pl.col(name).dt.to_string(DATETIME_FORMAT)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    ]
    return (frame.with_columns(text) if text else frame).to_arrow()


class ReferenceGuard:
    """Proves foreign keys from id ranges while frames arrive, so few need checking in SQL.

    A table whose ``id`` values arrive as ``1, 2, 3, …`` without a gap (every table the demo
    writes) holds exactly the ids up to its row count; a reference to it is valid exactly
    when it lies in that range, which a min/max per column shows. References that cannot
    be proven so (a parent with other ids, or one not written yet) leave their table to
    ``PRAGMA foreign_key_check`` at the end.
    """

    def __init__(self) -> None:
        self._dense: dict[str, int] = {}
        self._sparse: set[str] = set()
        self.unproven: set[str] = set()

    def _count(self, table: str, frame: pl.DataFrame) -> None:
        if table in self._sparse or "id" not in frame.columns:
            self._sparse.add(table)
            return
        before = self._dense.get(table, 0)
        ids = frame["id"].to_numpy()
        expected = np.arange(before + 1, before + frame.height + 1)
        if ids.dtype.kind != "i" or not np.array_equal(ids, expected):
            self._sparse.add(table)
            self._dense.pop(table, None)
            return
        self._dense[table] = before + frame.height

    def admit(self, table: str, frame: pl.DataFrame) -> None:
        """Account for ``frame`` (before it is written) and check its references.

        Raises
        ------
        StorageError
            A reference points outside the ids its parent table holds.
        """
        self._count(table, frame)
        if table not in Base.metadata.tables:
            return
        for fk in Base.metadata.tables[table].foreign_keys:
            column, parent = fk.parent.name, fk.column.table.name
            if column not in frame.columns or frame[column].null_count() == frame.height:
                continue
            if parent in self._sparse or fk.column.name != "id" or parent not in self._dense:
                self.unproven.add(table)
                continue
            low, high = frame[column].min(), frame[column].max()
            if not (isinstance(low, int) and isinstance(high, int)):
                self.unproven.add(table)
            elif low < 1 or high > self._dense[parent]:
                raise StorageError(
                    f"{table}.{column} references {parent} ids {low}..{high}, "
                    f"but {parent} holds ids 1..{self._dense[parent]}"
                )


class SQLiteFileBuild:
    """A new store file, built privately next to ``target`` and deleted unless committed.

    Secondary indexes are dropped for the load and recreated at the end, except the
    ``ordered_indexes``: those whose rows arrive in index order, so that keeping them up
    to date costs an append per row, less than sorting everything again at the end.

    Use as a context manager: ``write`` frames in foreign-key order, ``finish`` (indexes and
    checks), ``commit``; leaving the block closes the file, and deletes it when the build
    was not committed or :meth:`keep` was not called.
    """

    def __init__(
        self, directory: Path, name: str, *, ordered_indexes: Collection[str] = ()
    ) -> None:
        self.path = directory / f".{name}.build-{uuid.uuid4().hex[:12]}"
        self._ordered = frozenset(ordered_indexes)
        self.rows = 0
        self._conn: Any = None
        self._indexes: list[tuple[str, str]] = []
        self._queue: queue.Queue[tuple[str, Any, int] | None] = queue.Queue(_QUEUE_DEPTH)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._guard = ReferenceGuard()
        self._committed = False
        self._kept = False

    def __enter__(self) -> SQLiteFileBuild:
        # The writer thread creates the file (schema, pragmas) while the caller starts
        # generating, then inserts what is queued.
        self._thread = threading.Thread(target=self._run, name="demo-writer", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None and self._error is None:
            self._error = RuntimeError("the build was abandoned")  # the writer skips the rest
        self._stop()
        self._close()
        if not (self._committed and self._kept):
            self._remove_files()

    # -- building -------------------------------------------------------------------------

    def _create(self) -> None:
        engine = open_engine(f"sqlite:///{self.path}")
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        with closing(sqlite3.connect(self.path, isolation_level=None)) as conn:
            self._indexes = [
                (name, sql) for name, sql in secondary_index_sql(conn) if name not in self._ordered
            ]
            for name, _sql in self._indexes:
                conn.execute(f'DROP INDEX "{name}"')
            conn.execute("PRAGMA journal_mode=DELETE")
        import adbc_driver_sqlite.dbapi as adbc_sqlite

        self._conn = adbc_sqlite.connect(str(self.path), autocommit=True)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "locking_mode=EXCLUSIVE",
            f"cache_size=-{CACHE_KIB}",
            "temp_store=MEMORY",
            "foreign_keys=OFF",
            "threads=2",
        ):
            self._execute(f"PRAGMA {pragma}")
        self._conn.adbc_connection.set_autocommit(False)

    def _execute(self, sql: str) -> list[tuple[Any, ...]]:
        with closing(self._conn.cursor()) as cur:
            cur.execute(sql)
            rows: list[tuple[Any, ...]] = cur.fetchall() if cur.description else []
        return rows

    def _run(self) -> None:
        try:
            self._create()
        except BaseException as exc:  # reported to the producer by write/finish
            self._error = exc
        self._drain()

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep draining so that the producer never blocks
            table, data, height = item
            try:
                with closing(self._conn.cursor()) as cur:
                    cur.adbc_ingest(table, data, mode="append")
                self.rows += height
            except BaseException as exc:  # reported to the producer by write/finish
                self._error = exc

    def _raise_writer_error(self) -> None:
        if self._error is not None:
            raise StorageError(f"writing the demo store failed: {self._error}") from self._error

    def write(self, table: str, frame: pl.DataFrame) -> None:
        """Check the references of ``frame`` and queue it for the writer thread.

        The Arrow conversion happens here, on the caller's thread, so that the writer
        thread (the bottleneck) only inserts.

        Raises
        ------
        StorageError
            The writer failed, or ``frame`` references rows its parents do not hold.
        """
        self._raise_writer_error()
        if frame.height:
            self._guard.admit(table, frame)
            self._queue.put((table, _arrow(frame), frame.height))

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def finish(self, progress: StageProgress | None = None) -> None:
        """Wait for the writer, recreate the dropped indexes and check every foreign key.

        References proven by :class:`ReferenceGuard` while writing are not checked again;
        the tables with others go through ``PRAGMA foreign_key_check``.

        Raises
        ------
        StorageError
            A write failed, or a row references a missing parent.
        """
        self._stop()
        self._raise_writer_error()
        for name, sql in self._indexes:
            if progress is not None:
                progress(f"indexing {name}", self.rows)
            self._execute(sql)
        for table in sorted(self._guard.unproven):
            if progress is not None:
                progress(f"checking references of {table}", self.rows)
            bad = self._execute(f'PRAGMA foreign_key_check("{table}")')
            if bad:
                raise StorageError(
                    f"the build left {len(bad)} broken references in {table}, e.g. {bad[0]}"
                )
        self._execute("PRAGMA analysis_limit=1000")
        self._execute("ANALYZE")

    def commit(self) -> None:
        """Commit the build file (not the target) and switch it to WAL, like every store."""
        self._conn.adbc_connection.commit()
        self._conn.adbc_connection.set_autocommit(True)
        self._execute("PRAGMA journal_mode=WAL")
        self._close()
        with self.path.open("rb") as fh:
            os.fsync(fh.fileno())
        self._committed = True

    def keep(self) -> None:
        """The committed file has been moved or must stay: do not delete it on exit."""
        self._kept = True

    def _close(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                self._conn.close()
            self._conn = None

    def _remove_files(self) -> None:
        for suffix in ("", *_SIDE_FILES):
            with suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()


def _empty(conn: sqlite3.Connection) -> bool:
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return all(
        conn.execute(f'SELECT 1 FROM "{t.name}" LIMIT 1').fetchone() is None
        for t in Base.metadata.sorted_tables
        if t.name in present
    )


def publish_by_rename(build: SQLiteFileBuild, target: Path, *, replace: bool) -> bool:
    """Rename the committed build over ``target`` when that is safe; say whether it was.

    Safe means: ``target`` does not exist, or it can be locked exclusively (which SQLite
    refuses while any other connection, even an idle one, has the WAL store open) and it
    holds no row at all unless ``replace`` is set. The lock is held across the rename, so
    nobody reads a half-state; processes that open the target afterwards see the new file.
    When it is not safe, nothing is changed and the caller copies the build in instead.
    """
    if not target.exists():
        build.path.replace(target)
        build.keep()
        _sync_directory(target.parent)
        return True
    lock = sqlite3.connect(target, isolation_level=None, timeout=0.2)
    try:
        lock.execute("PRAGMA locking_mode=EXCLUSIVE")
        mode = lock.execute("PRAGMA journal_mode=DELETE").fetchone()
        if mode is None or str(mode[0]).lower() != "delete":
            return False
        lock.execute("BEGIN EXCLUSIVE")
        if not replace and not _empty(lock):
            return False
        with suppress(OSError):
            build.path.chmod(target.stat().st_mode & 0o777)
        for suffix in _SIDE_FILES:
            with suppress(FileNotFoundError):
                Path(f"{target}{suffix}").unlink()
        build.path.replace(target)
        build.keep()
        _sync_directory(target.parent)
        return True
    except sqlite3.OperationalError:  # busy: somebody else has the store open
        return False
    finally:
        with suppress(sqlite3.Error):
            lock.close()


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
