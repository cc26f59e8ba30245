"""Reading the store's tables into Arrow, in the normalised shapes of the feature pipeline.

The store is SQLite (embedded) or PostgreSQL; both are read through ADBC, which hands
columns straight to Arrow without a Python object per value. Each query reads only what
the features need and nothing dated after the as-of day, and returns the same Arrow schema
on both databases (:data:`clientbase.analytics.features.INPUT_SCHEMAS`), so that the
DuckDB computation that follows cannot tell them apart.

SQLite caution: ADBC links its own copy of SQLite. While it has the store open, no
connection of Python's ``sqlite3`` to the same file may be open in the same process
(dispose SQLAlchemy engines first), or POSIX lock semantics can corrupt the WAL.
"""

from __future__ import annotations

from contextlib import closing
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import make_url

from clientbase.analytics.features import INPUT_SCHEMAS
from clientbase.errors import ConfigurationError, StorageError

__all__ = ["adbc_connect", "adbc_uri", "read_store"]

# SQLite keeps DateTime as ISO text; its first ten characters are the (UTC) day. Missing
# ids and ratings travel as 0 / -1 so that ADBC's per-batch type inference always sees
# integers, and are turned back into nulls below.
_SQLITE = {
    "orders": (
        "SELECT customer_id, substr(ordered_at, 1, 10) AS day, status, total_minor, "
        "discount_minor, COALESCE(cost_minor, 0) AS cost_minor FROM orders "
        "WHERE ordered_at < ?"
    ),
    "events": (
        "SELECT customer_id, substr(occurred_at, 1, 10) AS day, kind, "
        "COALESCE(amount_minor, 0) AS amount_minor, COALESCE(cost_minor, 0) AS cost_minor, "
        "COALESCE(rating, -1) AS rating, COALESCE(related_customer_id, 0) AS related_customer_id "
        "FROM events WHERE occurred_at < ?"
    ),
    "customers": (
        "SELECT id AS customer_id, COALESCE(substr(acquired_at, 1, 10), '') AS acquired_day, "
        "COALESCE(acquisition_campaign_id, 0) AS acquisition_campaign_id, "
        "COALESCE(referred_by_customer_id, 0) AS referred_by_customer_id FROM customers"
    ),
    "campaigns": (
        "SELECT id AS campaign_id, cost_minor, substr(starts_on, 1, 10) AS starts_on "
        "FROM campaigns WHERE starts_on < ?"
    ),
    "responses": (
        "SELECT customer_id, substr(responded_at, 1, 10) AS day FROM campaign_members "
        "WHERE responded_at IS NOT NULL AND responded_at < ?"
    ),
}

_POSTGRES = {
    "orders": (
        "SELECT customer_id::bigint, ordered_at::date AS day, status, total_minor, "
        "discount_minor, COALESCE(cost_minor, 0) AS cost_minor FROM orders "
        "WHERE ordered_at < $1::date"
    ),
    "events": (
        "SELECT customer_id::bigint, occurred_at::date AS day, kind, "
        "COALESCE(amount_minor, 0) AS amount_minor, COALESCE(cost_minor, 0) AS cost_minor, "
        "COALESCE(rating, -1)::bigint AS rating, "
        "COALESCE(related_customer_id, 0)::bigint AS related_customer_id "
        "FROM events WHERE occurred_at < $1::date"
    ),
    "customers": (
        "SELECT id::bigint AS customer_id, acquired_at::date AS acquired_day, "
        "COALESCE(acquisition_campaign_id, 0)::bigint AS acquisition_campaign_id, "
        "COALESCE(referred_by_customer_id, 0)::bigint AS referred_by_customer_id "
        "FROM customers"
    ),
    "campaigns": (
        "SELECT id::bigint AS campaign_id, cost_minor, starts_on FROM campaigns "
        "WHERE starts_on < $1::date"
    ),
    "responses": (
        "SELECT customer_id::bigint, responded_at::date AS day FROM campaign_members "
        "WHERE responded_at IS NOT NULL AND responded_at < $1::date"
    ),
}

_ZERO_IS_NULL = {
    "events": {"related_customer_id": 0, "rating": -1},
    "customers": {"acquisition_campaign_id": 0, "referred_by_customer_id": 0},
}


def adbc_uri(database_url: str) -> tuple[str, str]:
    """The ADBC driver (``sqlite`` or ``postgresql``) and URI for a SQLAlchemy URL."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ConfigurationError("an in-memory SQLite store cannot be read by analytics")
        return "sqlite", url.database
    if backend == "postgresql":
        plain = url.set(drivername="postgresql")
        return "postgresql", plain.render_as_string(hide_password=False)
    raise ConfigurationError(f"analytics cannot read a {backend!r} store")


def adbc_connect(database_url: str) -> Any:
    """An ADBC DB-API connection to the store (the caller closes it)."""
    driver, uri = adbc_uri(database_url)
    try:
        if driver == "sqlite":
            import adbc_driver_sqlite.dbapi as sqlite_dbapi

            return sqlite_dbapi.connect(uri)
        import adbc_driver_postgresql.dbapi as pg_dbapi  # type: ignore[import-untyped]

        return pg_dbapi.connect(uri)
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigurationError(
            f"the ADBC driver for {driver} is not installed",
            hint="install clientbase[postgres]",
        ) from exc
    except Exception as exc:
        raise StorageError(f"analytics cannot open the {driver} store: {exc}") from exc


def _normalise(name: str, table: pa.Table) -> pa.Table:
    schema = INPUT_SCHEMAS[name]
    sentinels = _ZERO_IS_NULL.get(name, {})
    columns = []
    for col, kind in schema.items():
        arr = table.column(col)
        if kind == "date" and not pa.types.is_date(arr.type):
            text = pc.cast(arr, pa.string())
            text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
            arr = pc.cast(text, pa.date32())
        elif kind == "date":
            arr = pc.cast(arr, pa.date32())
        elif kind == "int64":
            arr = pc.cast(arr, pa.int64())
        elif kind == "string":
            arr = pc.cast(arr, pa.string())
        if col in sentinels:
            arr = pc.if_else(pc.equal(arr, sentinels[col]), pa.scalar(None, arr.type), arr)
        columns.append(arr)
    return pa.table(columns, names=list(schema))


def _empty(name: str) -> pa.Table:
    types = {"int64": pa.int64(), "date": pa.date32(), "string": pa.string()}
    schema = pa.schema([(c, types[k]) for c, k in INPUT_SCHEMAS[name].items()])
    return schema.empty_table()


def read_store(database_url: str, as_of: date) -> dict[str, pa.Table]:
    """The store's activity up to and including ``as_of``, normalised, as Arrow tables."""
    driver, _ = adbc_uri(database_url)
    queries = _SQLITE if driver == "sqlite" else _POSTGRES
    upto = (as_of + timedelta(days=1)).isoformat()
    out: dict[str, pa.Table] = {}
    with closing(adbc_connect(database_url)) as conn, closing(conn.cursor()) as cur:
        for name, sql in queries.items():
            try:
                cur.execute(sql, (upto,) if "?" in sql or "$1" in sql else None)
                table = cur.fetch_arrow_table()
            except Exception as exc:
                raise StorageError(f"analytics could not read {name}: {exc}") from exc
            out[name] = _normalise(name, table) if table.num_rows else _empty(name)
    return out
