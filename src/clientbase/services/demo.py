"""Use case: build the demo business into a store (``clientbase demo``), all or nothing.

SQLite: the business is built as a new file next to the store at full speed (see
``storage.demo_sqlite``) and then published in one of two ways:

* **rename** (fast): when the store file does not exist yet, or nobody has it open and it is
  empty (or ``replace`` is set), the built file is renamed over it — atomic, so readers see
  the old store or the new one, never a half-built one;
* **transactional copy** (safe when the store is in use): otherwise the built file is
  attached and copied in with ``INSERT … SELECT`` inside one transaction that also empties
  the store (``replace``). Readers keep the old data until the commit; this path writes the
  data twice more (WAL, then checkpoint), so it is slower, and it needs the disk space of
  the build file on top of the store's while it runs.

PostgreSQL: one transaction of ``COPY`` per table block.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from clientbase.config import Settings
from clientbase.demo.business import DemoStats, generate
from clientbase.demo.plan import AS_OF
from clientbase.demo.tables import ORDERED_INDEXES
from clientbase.errors import Conflict, InvalidInput
from clientbase.services.database import connect
from clientbase.storage.database import normalise_url, redact, refresh_statistics, sqlite_path
from clientbase.storage.demo_sqlite import SQLiteFileBuild, publish_by_rename
from clientbase.storage.demo_writer import (
    attached,
    bulk_load_session,
    copy_store,
    empty_store,
    has_data,
    reset_sequences,
    write_frame,
)
from clientbase.storage.schema import upgrade

__all__ = ["DemoResult", "build_demo"]

#: ``progress(stage or table, rows written so far in total, customers done, customers)``.
Progress = Callable[[str, int, int, int], None]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What ``build_demo`` wrote: the target, the as-of date, the figures and the time.

    ``published`` says how a SQLite store received the data (``"rename"`` or ``"copy"``);
    it is ``"copy"`` for PostgreSQL.
    """

    url: str
    customers: int
    seed: int
    as_of: date
    stats: DemoStats
    seconds: float
    published: str = "copy"


def build_demo(
    settings: Settings,
    *,
    customers: int = 5_000,
    seed: int = 42,
    replace: bool = False,
    progress: Progress | None = None,
) -> DemoResult:
    """Generate the demo business and write it all or nothing.

    Raises
    ------
    InvalidInput
        ``customers`` is below 50.
    Conflict
        The store already holds data and ``replace`` is not set.
    """
    if customers < 50:
        raise InvalidInput(f"the demo needs at least 50 customers, got {customers}")
    started = time.perf_counter()
    url = normalise_url(settings.database_url)
    stats = DemoStats()
    if url.get_backend_name() == "sqlite":
        published = _build_sqlite(settings, customers, seed, replace, stats, progress)
    else:
        _build_postgres(settings, customers, seed, replace, stats, progress)
        published = "copy"
    return DemoResult(
        url=redact(settings.database_url),
        customers=customers,
        seed=seed,
        as_of=AS_OF,
        stats=stats,
        seconds=time.perf_counter() - started,
        published=published,
    )


def _refuse_data(settings: Settings) -> Conflict:
    return Conflict(
        f"the database {redact(settings.database_url)} already holds data",
        hint="use --replace to empty it and build the demo anew",
    )


def _check_target(settings: Settings, replace: bool) -> None:
    """Upgrade an existing store and refuse one with data (before any work is done)."""
    engine = connect(settings, require_current=False)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            if has_data(conn) and not replace:
                raise _refuse_data(settings)
    finally:
        engine.dispose()


def _build_sqlite(
    settings: Settings,
    customers: int,
    seed: int,
    replace: bool,
    stats: DemoStats,
    progress: Progress | None,
) -> str:
    path = sqlite_path(normalise_url(settings.database_url))
    if path is None or path.exists():
        _check_target(settings, replace)
    directory = path.parent if path is not None else Path(tempfile.gettempdir())
    directory.mkdir(parents=True, exist_ok=True)
    name = path.name if path is not None else "memory"
    with SQLiteFileBuild(directory, name, ordered_indexes=ORDERED_INDEXES) as build:
        done = 0
        for table, frame in generate(customers, seed, stats):
            build.write(table, frame)
            stats.rows[table] += frame.height
            if table == "demo_truths":
                done += frame.height
            if progress is not None:
                progress(table, build.rows, done, customers)

        def stage(name: str, rows: int) -> None:
            if progress is not None:
                progress(name, rows, customers, customers)

        build.finish(stage)
        build.commit()
        if path is not None and publish_by_rename(build, path, replace=replace):
            return "rename"
        stage("copying into the store in one transaction", build.rows)
        _copy_in(settings, build.path, replace)
    return "copy"


def _copy_in(settings: Settings, source: Path, replace: bool) -> None:
    engine = connect(settings, require_current=False)
    try:
        upgrade(engine)
        with (
            engine.connect() as conn,
            bulk_load_session(conn),
            attached(conn, source),
            conn.begin(),
        ):
            if has_data(conn):
                if not replace:
                    raise _refuse_data(settings)
                empty_store(conn)
            copy_store(conn)
    finally:
        engine.dispose()


def _build_postgres(
    settings: Settings,
    customers: int,
    seed: int,
    replace: bool,
    stats: DemoStats,
    progress: Progress | None,
) -> None:
    engine = connect(settings, require_current=False)
    try:
        upgrade(engine)
        with engine.connect() as conn, conn.begin():
            if has_data(conn):
                if not replace:
                    raise _refuse_data(settings)
                empty_store(conn)
            written = done = 0
            for table, frame in generate(customers, seed, stats):
                written += write_frame(conn, table, frame)
                stats.rows[table] += frame.height
                if table == "demo_truths":
                    done += frame.height
                if progress is not None:
                    progress(table, written, done, customers)
            reset_sequences(conn)
            refresh_statistics(conn, stats.rows)
    finally:
        engine.dispose()
