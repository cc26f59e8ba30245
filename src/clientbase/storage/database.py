"""Opening the store: engines with the right pragmas, and the schema's version check.

SQLite (the embedded default) is opened with WAL journalling, foreign keys on and a busy
timeout, so that a dashboard can read while an import writes; transactions that will write
start with ``BEGIN IMMEDIATE`` (see :data:`WRITES`). PostgreSQL is opened by URL
(``postgresql+psycopg://…``; a plain ``postgresql://`` URL is given the psycopg driver).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.pool import NullPool

from clientbase.errors import ConfigurationError, StorageError

__all__ = [
    "ANALYZE_AFTER_ROWS",
    "PING_AFTER_IDLE_SECONDS",
    "WRITES",
    "is_sqlite",
    "kept_on",
    "normalise_url",
    "open_engine",
    "reader",
    "redact",
    "refresh_statistics",
    "sqlite_path",
]

_T = TypeVar("_T")

#: Execution option of a connection whose transaction will write. On SQLite it begins with
#: ``BEGIN IMMEDIATE`` (the write lock is taken, or waited for within the busy timeout, at
#: the start); other transactions begin with a plain deferred ``BEGIN`` so readers never
#: wait. Without it, a transaction that read first and writes later fails at once with
#: "database is locked" when another connection committed a write in between: SQLite
#: cannot upgrade a read snapshot that is no longer the newest, and busy_timeout does not
#: apply. PostgreSQL ignores the option.
WRITES = "clientbase_writes"


def normalise_url(url: str) -> URL:
    """Parse ``url`` and choose clientbase's drivers (psycopg 3 for PostgreSQL)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"not a database URL: {redact(url)}") from exc
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigurationError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
        )
    return parsed


def redact(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable URL>"
    return parsed.render_as_string(hide_password=True)


def is_sqlite(engine_or_url: Engine | URL | str) -> bool:
    if isinstance(engine_or_url, Engine):
        return engine_or_url.dialect.name == "sqlite"
    url = make_url(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    return url.get_backend_name() == "sqlite"


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL, or ``None`` for an in-memory database."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def open_engine(
    url: str,
    *,
    busy_timeout_ms: int = 30_000,
    create_dir: bool = True,
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> Engine:
    """Create an engine for ``url`` with clientbase's connection settings.

    ``pool_size`` and ``max_overflow`` size the connection pool (SQLAlchemy's defaults,
    5 and 10, when not given); an in-memory SQLite database has no pool.

    Raises
    ------
    ConfigurationError
        The URL is not one clientbase can use.
    StorageError
        The database cannot be reached.
    """
    parsed = normalise_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is not None and create_dir:
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000}
        if path is None:
            kwargs["poolclass"] = NullPool
    else:
        # Reads run in autocommit (see reader): no rollback to send when they end.
        kwargs["skip_autocommit_rollback"] = True
    if kwargs.get("poolclass") is None:
        if pool_size is not None:
            kwargs["pool_size"] = pool_size
        if max_overflow is not None:
            kwargs["max_overflow"] = max_overflow
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _install_sqlite_pragmas(engine, busy_timeout_ms)
    else:
        _install_idle_ping(engine)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        engine.dispose()
        raise StorageError(
            f"cannot open the database {redact(parsed)}: {exc.orig}",
            hint="check the URL given with --db or CLIENTBASE_DB",
        ) from exc
    return engine


def _install_sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not pysqlite) decide where transactions begin, so that BEGIN
        # covers every statement of a unit of work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writes = connection.get_execution_options().get(WRITES, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


#: A pooled server connection that has waited in the pool longer than this is pinged before
#: it is handed out again; one given back more recently is handed out as it is.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "clientbase_idle_since"


def _install_idle_ping(engine: Engine) -> None:
    """Check a server connection that sat idle before it is used again.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip before each
    unit of work, the most frequent statement of a busy API. A connection that went back to
    the pool a moment ago was working a moment ago, so only one idle longer than
    :data:`PING_AFTER_IDLE_SECONDS` (when a server restart, a failover or an idle timeout
    may have closed it meanwhile) is pinged; a dead one is replaced before anyone uses it.
    If the server goes away under load, the statements in flight fail as they would with
    any pinging, the pool drops all its connections at the first failure (SQLAlchemy's
    disconnect handling) and the next units of work open new ones.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # a new connection, or one in use a moment ago
        # In autocommit for the ping: one round trip, no transaction begun and rolled back.
        switch = getattr(dbapi_connection, "autocommit", None) is False
        try:
            if switch:
                dbapi_connection.autocommit = True
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError("the pooled connection was closed") from exc
            raise
        finally:
            if switch:
                with suppress(dialect.loaded_dbapi.Error):  # a dead connection is dropped
                    dbapi_connection.autocommit = False


_kept_lock = threading.RLock()


def kept_on(engine: Engine, name: str, build: Callable[[], _T]) -> _T:
    """``build()``, made once per engine and kept on the engine itself (thread-safe).

    For what every unit of work needs and is costly to remake (session factories, the
    reading engine). Kept in the engine's ``__dict__``, so it goes when the engine goes (a
    weak mapping could not let go: what is kept refers back to the engine).
    """
    found: _T | None = engine.__dict__.get(name)
    if found is None:
        with _kept_lock:  # re-entrant: a build may need another kept value
            found = engine.__dict__.get(name)
            if found is None:
                found = engine.__dict__[name] = build()
    return found


def reader(engine: Engine) -> Engine:
    """The engine to read with, outside any write: read-only units of work and sign-ins.

    On PostgreSQL it runs each statement on its own (autocommit), with no ``BEGIN`` before
    and no ``ROLLBACK`` after: at READ COMMITTED, the server's default and clientbase's,
    every statement of a transaction takes its own snapshot anyway, so the same rows are
    read, with two round trips fewer per unit of work. A write through it would be committed
    at once: :class:`~clientbase.storage.unit_of_work.UnitOfWork` with ``read_only=True``
    refuses writes through its session. On SQLite it is ``engine`` itself: a deferred
    ``BEGIN`` costs no round trip and keeps one snapshot for the whole unit of work.
    """
    if engine.dialect.name == "sqlite":
        return engine
    return kept_on(
        engine, "clientbase_reader", lambda: engine.execution_options(isolation_level="AUTOCOMMIT")
    )


#: A bulk write of at least this many rows refreshes the planner statistics of its tables.
ANALYZE_AFTER_ROWS = 10_000


def refresh_statistics(conn: Connection, tables: Iterable[str]) -> None:
    """PostgreSQL: ``ANALYZE`` tables that a bulk write has just filled or grown.

    The planner chooses by the statistics of each table. Until they are gathered it takes a
    freshly loaded table for a small one: on the 1M-customer demo the customer list's page
    was planned for 2,713 customers in a manager's team where there were 913,976 and
    planned again on every request, before autovacuum (when it is on at all) got round to
    it. Runs in the caller's transaction. SQLite keeps its own statistics (the demo copy
    runs ``ANALYZE``), so nothing is done there.
    """
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.exec_driver_sql(f'ANALYZE "{table}"')
