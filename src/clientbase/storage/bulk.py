"""Bulk reads and writes of columnar batches, inside the caller's transaction.

Imports write hundreds of thousands of rows; building an ORM object per row would take
minutes. These functions turn a polars frame into the DBAPI's ``executemany`` (in chunks,
with the values converted column by column to what the driver stores) on the connection of
the caller's unit of work. They never commit. Column defaults of the ORM are applied to
columns the frame does not carry, and values of columns whose type processes them on the way
in (personal data, JSON) go through that type, so the storage boundary of
``storage/types.py`` holds for bulk writes too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any

import polars as pl
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    SmallInteger,
    String,
    Table,
    TypeDecorator,
    event,
    select,
    text,
    type_coerce,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement

from clientbase.errors import StorageError
from clientbase.storage.database import open_engine, sqlite_path
from clientbase.storage.orm import Base

__all__ = [
    "CHUNK_ROWS",
    "allocate_ids",
    "check_references",
    "insert_frame",
    "read_frame",
    "references_enforced",
    "table_of",
    "unchecked_engine",
    "update_frame",
]

#: Rows per ``executemany`` call (and per progress step).
CHUNK_ROWS = 50_000

#: Inserts of at least this many rows (into a table no larger) build indexes afterwards.
DEFER_INDEXES_ROWS = 100_000

#: Writes of at least this many rows into a SQLite file check their references themselves
#: (see :func:`unchecked_engine`).
UNCHECKED_REFERENCES_ROWS = 100_000

#: Rows per ``INSERT … VALUES`` statement on SQLite (fewer if the variables would not fit).
SQLITE_ROWS_PER_STATEMENT = 256

#: Page cache SQLite may use during a bulk write, in KiB.
SQLITE_CACHE_KIB = 256 * 1024

#: Page cache while SQLite builds an index, in KiB (SQLite's default). It also bounds the
#: sorter's in-memory runs: with the large cache CREATE INDEX of a million rows sorted in one
#: run and took 1.0-1.4 s of CPU, with 2 MiB 0.65-0.9 s.
SQLITE_SORT_CACHE_KIB = 2 * 1024

Progress = Callable[[int], None]


def table_of(name: str) -> Table:
    """The ORM table called ``name``."""
    return Base.metadata.tables[name]


def allocate_ids(conn: Connection, table: str, count: int) -> Sequence[int]:
    """Reserve ``count`` new primary keys of ``table``.

    On PostgreSQL they come from the table's sequence; on SQLite they follow the largest id,
    which is safe because the caller holds the write lock (it has written in this
    transaction before asking).
    """
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table, "n": count},
        )
        return [int(r[0]) for r in rows]
    top = conn.execute(select(table_of(table).c.id).order_by(table_of(table).c.id.desc()).limit(1))
    start = (top.scalar() or 0) + 1
    return range(start, start + count)


def read_frame(
    conn: Connection, columns: Sequence[ColumnElement[Any]], *where: ColumnElement[bool]
) -> pl.DataFrame:
    """Run ``SELECT columns WHERE where`` and return a typed polars frame.

    The labels of ``columns`` name the frame's columns; values come through the column
    types (so personal data is read through its boundary).
    """
    sqlite = conn.dialect.name == "sqlite"
    # SQLite keeps dates as ISO text: read the text and parse it a column at a time in
    # polars, instead of one Python datetime per value.
    as_text = [
        sqlite and not isinstance(c.type, TypeDecorator) and isinstance(c.type, DateTime | Date)
        for c in columns
    ]
    query = select(
        *(
            type_coerce(c, String).label(c.key or f"c{i}") if text_ else c
            for i, (c, text_) in enumerate(zip(columns, as_text, strict=True))
        )
    )
    for condition in where:
        query = query.where(condition)
    result = conn.execute(query)
    names = list(result.keys())
    schema = {
        n: pl.String() if text_ else _polars_type(c)
        for n, c, text_ in zip(names, columns, as_text, strict=True)
    }
    if any(c.type.result_processor(conn.dialect, None) is not None for c in query.selected_columns):
        rows: Sequence[Any] = result.all()
    else:
        # No column converts its values: take the driver's tuples, not a Row per record.
        rows = result.cursor.fetchall()
        result.close()
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    parsed = [
        _parse_stored(n, pl.Datetime("us") if isinstance(c.type, DateTime) else pl.Date())
        for n, c, text_ in zip(names, columns, as_text, strict=True)
        if text_
    ]
    return frame.with_columns(parsed) if parsed else frame


def _parse_stored(name: str, dtype: pl.Datetime | pl.Date) -> pl.Expr:
    """Dates as SQLite stores them (SQLAlchemy's format, or ISO with a ``T``)."""
    text = pl.col(name)
    return pl.coalesce(
        text.str.strptime(dtype, fmt, strict=False)
        for fmt in ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d")
    ).alias(name)


def _polars_type(column: ColumnElement[Any]) -> pl.DataType:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, Integer | BigInteger | SmallInteger):
        return pl.Int64()
    if isinstance(kind, DateTime):
        return pl.Datetime("us")
    if isinstance(kind, Date):
        return pl.Date()
    if isinstance(kind, Boolean):
        return pl.Boolean()
    if isinstance(kind, JSON):
        return pl.List(pl.String())
    return pl.String()


def insert_frame(
    conn: Connection,
    table: str,
    frame: pl.DataFrame,
    *,
    constants: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> int:
    """Insert every row of ``frame`` (columns named as the table's) into ``table``.

    ``constants`` give one value to a column for every row; columns with an ORM default
    that neither provides get the default. Returns the number of rows inserted.
    """
    if frame.height == 0:
        return 0
    target = table_of(table)
    sqlite = conn.dialect.name == "sqlite"
    fixed = dict(constants or {})
    fixed.update(
        (col.name, _default(col))
        for col in target.columns
        if col.name not in frame.columns and col.name not in fixed and col.default is not None
    )
    # On SQLite a value shared by every row is written into the statement once rather than
    # bound for each row (a million binds of the same text cost 0.2-0.3 s).
    literals = {
        name: literal
        for name, value in fixed.items()
        if sqlite and (literal := _sql_literal(target.c[name], value)) is not None
    }
    frame = frame.drop([k for k in literals if k in frame.columns]).with_columns(
        pl.lit(v).alias(k)
        for k, v in fixed.items()
        if k not in literals and (k in (constants or {}) or k not in frame.columns)
    )
    # A column that is null everywhere and has no default need not be sent at all.
    empty = [
        c
        for c in frame.columns
        if target.c[c].nullable
        and target.c[c].default is None
        and frame[c].null_count() == frame.height
    ]
    frame = frame.drop(empty)
    count = frame.height
    appended = sqlite and frame.width > 1 and _appends(conn, table, frame)
    if appended:
        # The ids are exactly the next ones: SQLite gives each inserted row the id after
        # the largest one, so the column need not be bound (checked after the insert).
        frame = frame.drop("id")
    names = list(frame.columns)
    values = _driver_frame(conn, target, frame)
    if conn.dialect.name == "postgresql":
        _copy(conn, table, names, values, progress)
        return count
    head = f'INSERT INTO "{table}" ({", ".join(_quote(n) for n in [*names, *literals])}) VALUES '
    row = f"({', '.join(['?'] * len(names) + list(literals.values()))})"
    with _cache_size(conn, SQLITE_CACHE_KIB), _deferred_indexes(conn, table, count):
        top = _top_id(conn, table) if appended else 0
        _insert_many(conn, head, row, values, progress)
        if appended and _top_id(conn, table) != top + count:
            raise StorageError(
                f"the ids of the rows inserted into {table} are not the planned ones"
            )
    return count


def _top_id(conn: Connection, table: str) -> int:
    return int(conn.exec_driver_sql(f'SELECT coalesce(max(id), 0) FROM "{table}"').scalar_one())


def _appends(conn: Connection, table: str, frame: pl.DataFrame) -> bool:
    """Whether ``frame``'s ids are the consecutive ids after the largest one of ``table``."""
    if "id" not in frame.columns or "id" not in table_of(table).primary_key.columns:
        return False
    ids = frame.get_column("id")
    if ids.null_count() or ids.dtype not in {pl.Int64, pl.Int32, pl.UInt32, pl.UInt64}:
        return False
    first, top = ids[0], _top_id(conn, table)
    return bool(first == top + 1 and ids.diff().drop_nulls().eq(1).all())


def _sql_literal(column: Column[Any], value: Any) -> str | None:
    """``value`` as an SQL literal for ``column``, if it is plain text or a whole number."""
    if isinstance(column.type, TypeDecorator):
        return None  # its values must go through the type's processing
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _copy(
    conn: Connection, table: str, names: list[str], frame: pl.DataFrame, progress: Progress | None
) -> None:
    """PostgreSQL: stream the rows with ``COPY … FROM STDIN`` on the transaction's connection."""
    columns = ", ".join(_quote(n) for n in names)
    statement = f'COPY "{table}" ({columns}) FROM STDIN'
    driver_error = conn.dialect.loaded_dbapi.Error
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for offset in range(0, frame.height, CHUNK_ROWS):
                chunk = frame.slice(offset, CHUNK_ROWS)
                for row in chunk.iter_rows():
                    copy.write_row(row)
                if progress is not None:
                    progress(chunk.height)
    except driver_error as exc:
        # Raised by the driver, not through SQLAlchemy: wrap it as SQLAlchemy would, so
        # callers see one kind of database error whichever way the rows were sent.
        raise DBAPIError.instance(statement, None, exc, driver_error) from exc


@contextmanager
def _deferred_indexes(conn: Connection, table: str, rows: int) -> Iterator[None]:
    """On SQLite, build plain secondary indexes after a load larger than the table.

    Sorting once is cheaper than a million random index insertions. The indexes are dropped
    and re-created, from their own stored definition, inside the caller's transaction: a
    failure or a killed process rolls back to the original indexes with everything else.
    """
    if conn.dialect.name != "sqlite" or rows < DEFER_INDEXES_ROWS:
        yield
        return
    present = conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar_one()
    if present > rows:
        yield
        return
    indexes = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL AND upper(sql) NOT LIKE 'CREATE UNIQUE%'",
        (table,),
    ).all()
    for name, _sql in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    with _cache_size(conn, SQLITE_SORT_CACHE_KIB):
        for _name, sql in indexes:
            conn.exec_driver_sql(sql)


@contextmanager
def _cache_size(conn: Connection, kib: int) -> Iterator[None]:
    """On SQLite, let the page cache hold up to ``kib`` KiB, then restore the former size.

    A large cache keeps the table and its unique index of a big write in memory until the
    commit writes them once.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{int(kib)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


def references_enforced(conn: Connection) -> bool:
    """Whether the database checks every foreign key itself (SQLite: ``PRAGMA foreign_keys``)."""
    if conn.dialect.name != "sqlite":
        return True
    return bool(conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one())


def check_references(conn: Connection, table: str, frame: pl.DataFrame) -> None:
    """Check, in one query per foreign key, that every reference in ``frame`` exists.

    For writes on a connection that does not enforce foreign keys (see
    :func:`unchecked_engine`): each distinct non-null value of a foreign-key column of
    ``table`` that ``frame`` carries must be the key of a row of the referenced table, as
    seen inside the caller's transaction (which holds the write lock, so no row can vanish
    before the commit).

    Raises
    ------
    StorageError
        A value refers to no row; the caller's transaction must not be committed.
    """
    for key in table_of(table).foreign_keys:
        name = key.parent.name
        if name not in frame.columns:
            continue
        values = frame.get_column(name).drop_nulls().unique().sort()  # seeks in key order
        if values.len() == 0:
            continue
        parent, column = key.column.table.name, key.column.name
        # A join, not NOT EXISTS: the correlated subquery opens the parent table once per
        # value (0.2 s for 100,000 customers against 0.03 s).
        missing = conn.exec_driver_sql(
            f'SELECT j.value FROM json_each(?) AS j LEFT JOIN "{parent}" AS p '
            f'ON p."{column}" = j.value WHERE p."{column}" IS NULL LIMIT 1',
            (json.dumps(values.to_list()),),
        ).first()
        if missing is not None:
            raise StorageError(
                f"{table}.{name} = {missing[0]} refers to no row of {parent}; nothing was written"
            )


@contextmanager
def unchecked_engine(engine: Engine, rows: int) -> Iterator[Engine]:
    """The engine a bulk write of about ``rows`` rows should go through.

    SQLite checks a foreign key with a lookup per inserted row; for a million orders that
    is 1.3-1.9 s of CPU, a third of the whole write. For a large write into a SQLite file
    this yields a private engine on the same file whose connections do not check foreign
    keys (``PRAGMA foreign_keys`` can only change outside a transaction, so it is set when
    the connection opens); the writer must then call :func:`check_references` for what it
    wrote before committing (:func:`references_enforced` says whether it must). The private
    connections are closed afterwards, never handed to anyone else. Otherwise (PostgreSQL,
    an in-memory store, a small write) this yields ``engine`` itself.
    """
    url = engine.url
    if (
        rows < UNCHECKED_REFERENCES_ROWS
        or url.get_backend_name() != "sqlite"
        or not sqlite_path(url)
    ):
        yield engine
        return
    probe = engine.raw_connection()
    try:
        timeout_ms = int(probe.driver_connection.execute("PRAGMA busy_timeout").fetchone()[0])  # type: ignore[union-attr]
    finally:
        probe.close()
    private = open_engine(
        url.render_as_string(hide_password=False), busy_timeout_ms=timeout_ms, create_dir=False
    )
    private.dispose()  # the connection that checked the URL enforces foreign keys
    event.listen(private, "connect", _references_unchecked)
    try:
        yield private
    finally:
        private.dispose()


def _references_unchecked(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")


def update_frame(
    conn: Connection, table: str, frame: pl.DataFrame, *, progress: Progress | None = None
) -> int:
    """Set the columns of ``frame`` on the rows of ``table`` whose ``id`` it gives."""
    if frame.height == 0:
        return 0
    target = table_of(table)
    names = [n for n in frame.columns if n != "id"]
    if not names:
        return 0
    stamps = [c for c in target.columns if c.onupdate is not None and c.name not in frame.columns]
    frame = frame.with_columns(pl.lit(_default(c, "onupdate")).alias(c.name) for c in stamps)
    names += [c.name for c in stamps]
    sets = ", ".join(f"{_quote(n)} = {_placeholder(conn, target.c[n])}" for n in names)
    mark = _placeholder(conn, target.c.id)
    statement = f'UPDATE "{table}" SET {sets} WHERE id = {mark}'
    _executemany(
        conn, statement, _driver_frame(conn, target, frame.select([*names, "id"])), progress
    )
    return frame.height


def _insert_many(
    conn: Connection, head: str, row: str, frame: pl.DataFrame, progress: Progress | None
) -> None:
    """SQLite: insert the rows of ``frame`` with ``head`` + ``VALUES`` rows shaped ``row``.

    Each statement carries up to :data:`SQLITE_ROWS_PER_STATEMENT` rows, so SQLite opens
    the table and its indexes once per statement rather than once per row: a million
    orders took 1.3-1.4 s of CPU against 2.3 s with one row per statement.
    """
    width = frame.width
    limit = conn.connection.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
    per = max(1, min(SQLITE_ROWS_PER_STATEMENT, limit // max(width, 1)))
    many = head + ", ".join([row] * per)
    for offset in range(0, frame.height, CHUNK_ROWS):
        chunk = frame.slice(offset, CHUNK_ROWS)
        columns = [chunk.get_column(n).to_list() for n in chunk.columns]
        flat = list(chain.from_iterable(zip(*columns, strict=True)))
        step = per * width
        full = chunk.height // per
        if full:
            conn.exec_driver_sql(
                many, [tuple(flat[i : i + step]) for i in range(0, full * step, step)]
            )
        if chunk.height > full * per:
            rest = chunk.height - full * per
            conn.exec_driver_sql(head + ", ".join([row] * rest), tuple(flat[full * step :]))
        if progress is not None:
            progress(chunk.height)


def _executemany(
    conn: Connection, statement: str, frame: pl.DataFrame, progress: Progress | None
) -> None:
    """The driver's ``executemany``, a chunk at a time.

    Rows are zipped from whole columns: ``to_list`` builds a column's Python values in one
    call, about half the cost of polars building a tuple per row.
    """
    for offset in range(0, frame.height, CHUNK_ROWS):
        chunk = frame.slice(offset, CHUNK_ROWS)
        columns = [chunk.get_column(n).to_list() for n in chunk.columns]
        conn.exec_driver_sql(statement, list(zip(*columns, strict=True)))
        if progress is not None:
            progress(chunk.height)


def _quote(name: str) -> str:
    return f'"{name}"'


def _placeholder(conn: Connection, column: Column[Any]) -> str:
    if conn.dialect.name == "postgresql":
        if isinstance(_impl(column), JSON):
            return "CAST(%s AS JSONB)"
        return "%s"
    return "?"


def _impl(column: Column[Any]) -> Any:
    kind = column.type
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


def _default(column: Column[Any], which: str = "default") -> Any:
    default: Any = getattr(column, which)
    if getattr(default, "is_callable", False):
        return default.arg(None)
    return default.arg


def _driver_frame(conn: Connection, table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Values as the driver stores them, converted a column at a time."""
    sqlite = conn.dialect.name == "sqlite"
    converted: list[pl.Series] = []
    for name in frame.columns:
        column = table.c[name]
        series = frame.get_column(name)
        impl = _impl(column)
        if isinstance(impl, JSON):
            series = pl.Series(
                name,
                [
                    None if v is None else json.dumps(v, ensure_ascii=False)
                    for v in series.to_list()
                ],
                dtype=pl.String,
            )
        elif isinstance(impl, DateTime):
            series = series.cast(pl.Datetime("us")).dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
        elif isinstance(impl, Date):
            series = series.cast(pl.Date).dt.strftime("%Y-%m-%d")
        elif isinstance(impl, Boolean) and sqlite:
            series = series.cast(pl.Int64)
        if isinstance(column.type, TypeDecorator):
            processor = column.type.bind_processor(conn.dialect)
            if processor is not None and not isinstance(impl, JSON):
                series = pl.Series(name, [processor(v) for v in series.to_list()])
        converted.append(series)
    return pl.DataFrame(converted)
