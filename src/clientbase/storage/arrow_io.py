"""Whole tables in and out of the store as Arrow, in bulk, without a Python object per value.

:func:`fetch_tables` runs read queries and returns Arrow tables; :func:`append_table` appends
an Arrow table to a store table in one transaction. Both go through ADBC:

* **SQLite**: in short-lived child processes (:mod:`clientbase.storage.sqlite_child`), never
  in this process. ADBC bundles its own copy of the SQLite library, and two copies in one
  process that open the same file silently break each other's POSIX locks (sqlite.org, "How
  To Corrupt An SQLite Database File", "Multiple copies of SQLite linked into the same
  application"); this process keeps Python's ``sqlite3`` connections (SQLAlchemy) open on the
  store. Children and parent exchange Arrow IPC files in a private temporary directory, which
  the parent memory-maps. Large tables are read by several children at once, each a range of
  ``id`` (rowid) values. Each child reads in its own transaction: the parts of one read are
  not one snapshot, as the separate queries of a single connection in autocommit never were.
* **PostgreSQL**: in this process (libpq has no such problem), ``COPY`` for appends.

SQL is passed as text with its values already inlined by the caller (dates and integers
formatted by the caller, never user text).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
from sqlalchemy.engine import make_url

from clientbase.errors import ConfigurationError, StorageError

__all__ = ["ArrowQuery", "append_table", "fetch_tables", "store_dialect"]

_CHILD = Path(__file__).with_name("sqlite_child.py")
_PART = "{part}"


@dataclass(frozen=True, slots=True)
class ArrowQuery:
    """A read query. When ``split_table`` is given, ``sql`` holds ``{part}`` where a condition
    on that table's integer ``id`` goes, so that parts can be read in parallel."""

    sql: str
    split_table: str | None = None


def store_dialect(database_url: str) -> str:
    """``sqlite`` or ``postgresql``; anything else cannot be read or written in bulk."""
    backend = make_url(database_url).get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise ConfigurationError(f"bulk Arrow access is not available for a {backend!r} store")
    return backend


def _sqlite_path(database_url: str) -> str:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise ConfigurationError("an in-memory SQLite store cannot be read in bulk")
    return database


@contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="clientbase-arrow-", ignore_cleanup_errors=True) as d:
        yield Path(d)


def _run_children(path: str, jobs_per_child: list[list[dict[str, Any]]], scratch: Path) -> None:
    procs = []
    for i, jobs in enumerate(jobs_per_child):
        spec = scratch / f"job{i}.json"
        spec.write_text(json.dumps({"database": path, "jobs": jobs}), "utf-8")
        # Our own interpreter running a file of this package on a file we wrote.
        cmd = [sys.executable, "-I", str(_CHILD), str(spec)]
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
        procs.append(child)
    errors = []
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            errors.append(err.decode("utf-8", "replace").strip()[-2000:])
    if errors:
        raise StorageError(f"the SQLite store could not be accessed: {'; '.join(errors)}")


def _id_ranges(path: str, table: str, parts: int) -> list[tuple[int, int]]:
    # Python's own sqlite3 (the library SQLAlchemy uses) may open the store here.
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        # Two subqueries: SQLite answers a lone min() or max() from the index's ends, but
        # scans the whole table for min(id), max(id) in one select.
        low, high = conn.execute(
            f'SELECT (SELECT min(id) FROM "{table}"), (SELECT max(id) FROM "{table}")'
        ).fetchone()
    finally:
        conn.close()
    if low is None:
        return [(0, -1)]
    step = max(1, -(-(high - low + 1) // parts))
    return [(s, min(s + step - 1, high)) for s in range(low, high + 1, step)]


def _fetch_sqlite(path: str, queries: Mapping[str, ArrowQuery], workers: int) -> dict[str, Any]:
    planned: list[tuple[int, str, dict[str, Any]]] = []
    with _scratch() as scratch:
        for name, query in queries.items():
            if query.split_table is None:
                planned.append((0, name, {"query": query.sql}))
                continue
            for i, (low, high) in enumerate(_id_ranges(path, query.split_table, workers)):
                sql = query.sql.replace(_PART, f"id BETWEEN {low:d} AND {high:d}")
                planned.append((high - low + 1, name, {"query": sql, "part": i}))
        children: list[list[dict[str, Any]]] = [[] for _ in range(workers)]
        load = [0] * workers
        outputs: dict[str, list[tuple[int, Path]]] = {name: [] for name in queries}
        for n, (weight, name, job) in enumerate(sorted(planned, key=lambda p: -p[0])):
            out = scratch / f"{name}.{n}.arrow"
            outputs[name].append((job.get("part", 0), out))
            child = load.index(min(load))
            children[child].append({"query": job["query"], "out": str(out)})
            load[child] += max(weight, 1)
        _run_children(path, [c for c in children if c], scratch)
        result: dict[str, Any] = {}
        for name, files in outputs.items():
            # In part order, so that rows keep their store (rowid) order.
            parts = [ipc.open_file(pa.memory_map(str(f))).read_all() for _, f in sorted(files)]
            result[name] = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        return result


def _adbc_postgres(database_url: str) -> tuple[Any, Any]:
    try:
        import adbc_driver_manager as dm
        import adbc_driver_postgresql  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigurationError(
            "the ADBC driver for PostgreSQL is not installed", hint="install clientbase[postgres]"
        ) from exc
    uri = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    try:
        database = adbc_driver_postgresql.connect(uri)
        return database, dm.AdbcConnection(database)
    except Exception as exc:
        raise StorageError(f"cannot open the PostgreSQL store: {exc}") from exc


def _fetch_postgres(database_url: str, queries: Mapping[str, ArrowQuery]) -> dict[str, Any]:
    import adbc_driver_manager as dm

    database, conn = _adbc_postgres(database_url)
    out: dict[str, Any] = {}
    try:
        for name, query in queries.items():
            stmt = dm.AdbcStatement(conn)
            try:
                stmt.set_sql_query(query.sql.replace(_PART, "TRUE"))
                stream, _ = stmt.execute_query()
                out[name] = pa.RecordBatchReader.from_stream(stream).read_all()
            finally:
                stmt.close()
    finally:
        conn.close()
        database.close()
    return out


def fetch_tables(
    database_url: str, queries: Mapping[str, ArrowQuery], *, workers: int | None = None
) -> dict[str, pa.Table]:
    """Run every query and return its rows as Arrow, by name.

    Parameters
    ----------
    workers
        Child processes reading a SQLite store at once (default: the number of CPUs).

    Raises
    ------
    StorageError
        A query failed (the message carries the database's error).
    """
    try:
        if store_dialect(database_url) == "sqlite":
            count = max(1, workers or os.cpu_count() or 1)
            return _fetch_sqlite(_sqlite_path(database_url), queries, count)
        return _fetch_postgres(database_url, queries)
    except (ConfigurationError, StorageError):
        raise
    except Exception as exc:
        raise StorageError(f"the store could not be read: {exc}") from exc


def append_table(database_url: str, table: str, data: pa.Table) -> int:
    """Append ``data`` to ``table`` in one transaction (all rows or none); return the count."""
    try:
        if store_dialect(database_url) == "sqlite":
            with _scratch() as scratch:
                source = scratch / f"{table}.arrow"
                with ipc.new_file(str(source), data.schema) as sink:
                    sink.write_table(data)
                job = {"ingest": table, "source": str(source)}
                _run_children(_sqlite_path(database_url), [[job]], scratch)
        else:
            _append_postgres(database_url, table, data)
    except (ConfigurationError, StorageError):
        raise
    except Exception as exc:
        raise StorageError(f"could not append to {table}: {exc}") from exc
    return int(data.num_rows)


def _append_postgres(database_url: str, table: str, data: pa.Table) -> None:
    import adbc_driver_manager as dm

    database, conn = _adbc_postgres(database_url)
    try:
        conn.set_autocommit(False)
        stmt = dm.AdbcStatement(conn)
        try:
            stmt.set_options(
                **{
                    "adbc.ingest.target_table": table,
                    "adbc.ingest.mode": "adbc.ingest.mode.append",
                }
            )
            stmt.bind_stream(pa.RecordBatchReader.from_batches(data.schema, data.to_batches()))
            stmt.execute_update()
        finally:
            stmt.close()
        conn.commit()
    finally:
        conn.close()
        database.close()
