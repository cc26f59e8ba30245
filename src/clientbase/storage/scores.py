"""Score runs in the store: the run rows (ORM) and the customers' scores (bulk, via Arrow).

A run's customer rows are written in one bulk append through ADBC
(:func:`clientbase.storage.arrow_io.append_table`: ``COPY`` on PostgreSQL, a prepared
insert in a child process on SQLite) instead of an ORM object per row, in a transaction of
its own. The run row itself goes through the caller's unit of work; only runs whose status
is ``completed`` are read back. Nothing here commits the caller's session.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import BigInteger, Date, Engine, Float, Integer, SmallInteger, String, select
from sqlalchemy import Boolean as SaBoolean
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from clientbase.errors import NotFound, StorageError
from clientbase.storage.arrow_io import append_table, store_dialect
from clientbase.storage.orm import Customer, CustomerScore, ScoreRun

__all__ = [
    "SCORE_COLUMNS",
    "append_scores",
    "latest_run",
    "read_scores",
    "run_by_id",
]

#: The columns of ``customer_scores`` that a run writes, in table order.
SCORE_COLUMNS: tuple[str, ...] = tuple(c.name for c in CustomerScore.__table__.columns)


def _arrow_type(column: Any) -> pa.DataType:
    kind = column.type
    if isinstance(kind, SmallInteger):
        return pa.int16()
    if isinstance(kind, BigInteger):
        return pa.int64()
    if isinstance(kind, Integer):
        return pa.int32()
    if isinstance(kind, Float):
        return pa.float64()
    if isinstance(kind, Date):
        return pa.date32()
    if isinstance(kind, SaBoolean):
        return pa.bool_()
    if isinstance(kind, String):
        return pa.string()
    raise TypeError(f"no Arrow type for customer_scores.{column.name}")


#: Arrow type of each ``customer_scores`` column (exact, as ``COPY`` needs).
SCORE_ARROW_TYPES: dict[str, pa.DataType] = {
    c.name: _arrow_type(c) for c in CustomerScore.__table__.columns
}


def _prepare(run_id: int, scores: pa.Table, sqlite: bool) -> pa.Table:
    n = scores.num_rows
    columns = []
    for name, kind in SCORE_ARROW_TYPES.items():
        if name == "run_id":
            arr: Any = pa.array(np.full(n, run_id), type=kind)
        elif name in scores.column_names:
            arr = pc.cast(scores.column(name), kind)
        else:
            arr = pa.nulls(n, kind)
        if sqlite and pa.types.is_date(kind):
            arr = pc.cast(arr, pa.string())  # SQLAlchemy's SQLite dates are ISO text
        columns.append(arr)
    return pa.table(columns, names=list(SCORE_ARROW_TYPES))


def append_scores(database_url: str, run_id: int, scores: pa.Table) -> int:
    """Append every customer's score of run ``run_id`` in one bulk write; return the count.

    Columns of ``customer_scores`` missing from ``scores`` are written as nulls; extra
    columns of ``scores`` are ignored. All rows are written or none.
    """
    sqlite = store_dialect(database_url) == "sqlite"
    data = _prepare(run_id, scores, sqlite)
    try:
        return append_table(database_url, "customer_scores", data)
    except StorageError as exc:
        raise StorageError(f"could not write the scores of run {run_id}: {exc}") from exc


def run_by_id(session: Session, run_id: int) -> ScoreRun:
    run = session.get(ScoreRun, run_id)
    if run is None or run.status != "completed":
        raise NotFound(f"no completed score run {run_id}")
    return run


def latest_run(session: Session, *, as_of: date | None = None) -> ScoreRun:
    """The most recent completed run (of ``as_of`` when given)."""
    query = select(ScoreRun).where(ScoreRun.status == "completed")
    if as_of is not None:
        query = query.where(ScoreRun.as_of == as_of)
    run = session.scalars(query.order_by(ScoreRun.id.desc()).limit(1)).first()
    if run is None:
        raise NotFound("there is no completed score run yet", hint="run `clientbase score`")
    return run


def read_scores(
    engine: Engine,
    run_ids: list[int],
    columns: list[str] | None = None,
    *,
    where: dict[str, Any] | None = None,
    limit: int | None = None,
    customers: ColumnElement[bool] | None = None,
) -> pa.Table:
    """Scores of the given runs as Arrow (``run_id`` and ``customer_id`` always included).

    ``where`` holds equality filters on score columns (e.g. ``{"rung": 5}``); ``customers`` a
    condition on the customers' records (joined when given, e.g. whose they are), applied
    before ``limit``.
    """
    names = [
        "run_id",
        "customer_id",
        *(c for c in (columns or SCORE_COLUMNS) if c not in {"run_id", "customer_id"}),
    ]
    unknown = set(names) - set(SCORE_COLUMNS)
    if unknown:
        raise ValueError(f"unknown score columns {sorted(unknown)}")
    table = CustomerScore.__table__
    query = select(*(table.c[n] for n in names)).where(table.c.run_id.in_(run_ids))
    if customers is not None:
        query = query.join(Customer, Customer.id == table.c.customer_id).where(customers)
    for key, value in (where or {}).items():
        query = query.where(table.c[key] == value)
    query = query.order_by(table.c.run_id, table.c.customer_id)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pa.table(
        {n: pa.array([r[i] for r in rows], type=SCORE_ARROW_TYPES[n]) for i, n in enumerate(names)}
    )
