"""Plain reads: the busiest SELECTs, compiled once and run on the driver's connection.

Every API request signs in again and most read a customer or a page of them: a few short,
indexed statements whose rows the server finds in well under a millisecond. Run through a
SQLAlchemy ``Connection``, each spent more of the server's CPU in SQLAlchemy around the
statement (a connection and transaction object per unit of work, an execution context,
result metadata from the cursor's description, a ``Row`` per row) than in the driver and
the database together, and on a busy server that CPU is the latency.

:class:`PlainQuery` keeps a Core statement (still written, typed and reviewed as SQLAlchemy
Core) and compiles it once per dialect into its SQL text, its fixed parameters (constant
``IN`` lists expanded) and the type processing its bound values and columns need — so a
value reads exactly as SQLAlchemy would read it (tested statement by statement against
``Connection.execute`` on SQLite and PostgreSQL). :func:`plain_reader` lends a pooled
connection of the engine's own pool (same checkout events, so the idle ping still runs):

- on PostgreSQL in autocommit: no ``BEGIN`` or ``ROLLBACK`` around the reads (see
  :func:`clientbase.storage.database.reader` for why that reads the same rows);
- on SQLite inside a deferred ``BEGIN`` ... ``ROLLBACK``, so all its statements read one
  snapshot, as a read unit of work does.

Only SELECTs run on a reader. :func:`plain_autocommit` lends the same kind of connection on
PostgreSQL for one statement that writes and commits on its own (the audit log's store
function). Driver errors come out as
SQLAlchemy's (:class:`sqlalchemy.exc.DBAPIError` and its subclasses), and a connection
the server closed is dropped from the pool, as SQLAlchemy does for its own connections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Select
from sqlalchemy.sql.selectable import CompoundSelect

__all__ = [
    "PlainConnection",
    "PlainQuery",
    "plain_autocommit",
    "plain_connection",
    "plain_reader",
]

_Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One statement for one dialect."""

    sql: str
    #: Every parameter by name, the fixed ones with their values (runtime ones overwritten).
    fixed: dict[str, Any]
    #: Parameter names in order, for the positional paramstyles (SQLite's ``?``).
    order: tuple[str, ...] | None
    #: Bind processors of the runtime parameters that have one (SQLite's date-times).
    binds: tuple[tuple[str, _Processor], ...]
    #: The columns' types for this dialect.
    types: tuple[Any, ...]


class PlainConnection:
    """A DBAPI connection lent for plain reads, with its dialect (see :func:`plain_reader`)."""

    __slots__ = ("dbapi", "dialect")

    def __init__(self, dbapi: Any, dialect: Dialect) -> None:
        self.dbapi = dbapi
        self.dialect = dialect


class PlainQuery:
    """A Core SELECT run as plain rows (tuples in the order of its columns).

    ``runtime`` names the parameters given on each run, each with a sample value of its type
    (used once, to expand the statement's constant ``IN`` lists around it). Every other
    bound value of the statement is fixed when it is compiled.
    """

    __slots__ = ("_columns", "_compiled", "_lock", "_runtime", "_statement", "names")

    def __init__(self, statement: Select[Any] | CompoundSelect[Any], **runtime: Any) -> None:
        self._statement = statement
        self._runtime = runtime
        self._compiled: dict[str, _Compiled] = {}
        self._columns: dict[str, tuple[tuple[int, _Processor], ...]] = {}
        self._lock = threading.Lock()
        #: The column names, in order.
        self.names: tuple[str, ...] = tuple(statement.selected_columns.keys())

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(dialect.name) or self._compile(dialect)
                self._compiled[dialect.name] = compiled
        return compiled

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiler = self._statement.compile(dialect=dialect)
        state = compiler.construct_expanded_state(dict(self._runtime))
        # Bound values go through their types as SQLAlchemy sends them: the fixed ones once
        # here, the runtime ones on every run (the expanded IN lists' come with the state).
        processors = dict(state.processors)
        for name in state.parameters:
            bind = compiler.binds.get(name)
            if name not in processors and bind is not None:
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
        fixed = {
            name: processors[name](value)
            if name in processors and name not in self._runtime
            else value
            for name, value in state.parameters.items()
        }
        binds = [(name, processors[name]) for name in self._runtime if name in processors]
        types = tuple(c.type.dialect_impl(dialect) for c in self._statement.selected_columns)
        order = tuple(state.positiontup) if state.positiontup is not None else None
        return _Compiled(state.statement, fixed, order, tuple(binds), types)

    def _processors(
        self, dialect: Dialect, compiled: _Compiled, cursor: Any
    ) -> tuple[tuple[int, _Processor], ...]:
        """``(index, processor)`` of the columns whose values SQLAlchemy converts.

        Some processors depend on the type the server reports for the column (PostgreSQL's
        numbers), so they are chosen at the first run, from the cursor's description, as
        SQLAlchemy chooses them, and kept: a statement's column types do not change (and
        psycopg builds its description anew on every look).
        """
        found = self._columns.get(dialect.name)
        if found is None:
            chosen = []
            described = cursor.description
            for index, (kind, column) in enumerate(zip(compiled.types, described, strict=True)):
                processor = kind.result_processor(dialect, column[1])
                if processor is not None:
                    chosen.append((index, processor))
            found = self._columns[dialect.name] = tuple(chosen)
        return found

    def rows(self, conn: PlainConnection, **params: Any) -> list[tuple[Any, ...]]:
        """Every row, with ``params`` bound (each of the runtime parameters)."""
        compiled = self._for(conn.dialect)
        values = {**compiled.fixed, **params}
        for name, process in compiled.binds:
            values[name] = process(values[name])
        bound: Mapping[str, Any] | Sequence[Any] = values
        if compiled.order is not None:
            bound = [values[name] for name in compiled.order]
        cursor = conn.dbapi.cursor()
        try:
            cursor.execute(compiled.sql, bound)
            found = cursor.fetchall()
            columns = self._processors(conn.dialect, compiled, cursor)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(conn, compiled.sql, bound, exc) from exc
        finally:
            cursor.close()
        if not columns:
            return [tuple(row) for row in found]
        converted = []
        for row in found:
            values_of_row = list(row)
            for index, process in columns:
                values_of_row[index] = process(values_of_row[index])
            converted.append(tuple(values_of_row))
        return converted

    def first(self, conn: PlainConnection, **params: Any) -> tuple[Any, ...] | None:
        found = self.rows(conn, **params)
        return found[0] if found else None


def _wrapped(conn: PlainConnection, sql: str, bound: Any, exc: Any) -> DBAPIError:
    """SQLAlchemy's exception for a driver's error (parameters hidden: they may be a
    credential's digest or personal data, and messages reach logs)."""
    dialect = conn.dialect
    error = DBAPIError.instance(
        sql,
        bound,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        dialect=dialect,
        connection_invalidated=dialect.is_disconnect(exc, conn.dbapi, None),
    )
    return cast(DBAPIError, error)


def plain_reader(engine: Engine) -> AbstractContextManager[PlainConnection]:
    """A pooled connection of ``engine`` for plain reads, given back to the pool after."""
    return _lent(engine)


def plain_autocommit(engine: Engine) -> AbstractContextManager[PlainConnection]:
    """PostgreSQL: a pooled connection in autocommit, where each statement commits on its
    own: for a single statement that writes (one round trip, no ``BEGIN``/``COMMIT``)."""
    if engine.dialect.name == "sqlite":
        raise ValueError("plain_autocommit is for PostgreSQL (SQLite writes in a transaction)")
    return _lent(engine)


@contextmanager
def _lent(engine: Engine) -> Iterator[PlainConnection]:
    dialect = engine.dialect
    pooled = engine.raw_connection()
    dbapi: Any = pooled.driver_connection
    sqlite = dialect.name == "sqlite"
    lent = PlainConnection(dbapi, dialect)
    try:
        try:
            if sqlite:
                dbapi.execute("BEGIN")
            else:
                dbapi.autocommit = True
            yield lent
        finally:
            if sqlite:
                dbapi.execute("ROLLBACK")
            else:
                dbapi.autocommit = False
    except DBAPIError as exc:
        if exc.connection_invalidated:
            pooled.invalidate(exc)
        raise
    except dialect.loaded_dbapi.Error as exc:
        if dialect.is_disconnect(exc, dbapi, None):
            pooled.invalidate(exc)
        raise _wrapped(lent, "BEGIN" if sqlite else "SET autocommit", (), exc) from exc
    finally:
        pooled.close()


def plain_connection(connection: Any) -> PlainConnection:
    """The DBAPI connection under a SQLAlchemy ``Connection`` (in its transaction, if any),
    for running plain queries inside a unit of work."""
    return PlainConnection(connection.connection.driver_connection, connection.dialect)
