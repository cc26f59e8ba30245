"""What the feature pipeline reads from the store, and how it is normalised.

:func:`store_queries` gives, per input of :data:`clientbase.analytics.features.INPUT_SCHEMAS`,
the SQL that reads it from a SQLite or PostgreSQL store (only the columns the features need,
nothing dated after the as-of day); :func:`normalise_inputs` turns the fetched Arrow tables
into the normalised schemas, identical on both databases, so that the DuckDB computation that
follows cannot tell them apart. Fetching is storage's business
(:func:`clientbase.storage.arrow_io.fetch_tables`); the service joins the two.

To keep the transfer cheap, days travel as integers (days since 1970-01-01), order statuses
and event kinds as small integer codes (:data:`~clientbase.analytics.features.ORDER_STATUS_CODES`,
:data:`~clientbase.analytics.features.EVENT_KIND_CODES`), and missing values as sentinels
that ADBC's per-batch type inference always sees as integers; all are turned back here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from clientbase.analytics.features import EVENT_KIND_CODES, INPUT_SCHEMAS, ORDER_STATUS_CODES

__all__ = ["normalise_inputs", "store_queries"]

#: ``(sql, split_table)`` per input; ``{part}`` in ``sql`` takes a condition on the ``id`` of
#: ``split_table`` so that large tables can be read in parallel parts.
Queries = dict[str, tuple[str, str | None]]

_NULL_DAY = -999_999


def _case(column: str, codes: Mapping[str, int]) -> str:
    whens = " ".join(f"WHEN '{value}' THEN {code:d}" for value, code in codes.items())
    return f"CASE {column} {whens} ELSE 0 END"


def _sqlite_day(column: str) -> str:
    # Timestamps are ISO text; the first ten characters are the (UTC) day.
    return f"COALESCE(unixepoch(substr({column}, 1, 10)) / 86400, {_NULL_DAY})"


def _postgres_day(column: str) -> str:
    return f"COALESCE(({column})::date - DATE '1970-01-01', {_NULL_DAY})"


def store_queries(dialect: str, as_of: date) -> Queries:
    """The SQL of every input for a ``sqlite`` or ``postgresql`` store, up to ``as_of``."""
    upto = (as_of + timedelta(days=1)).isoformat()  # formatted here: a date, not user text
    if dialect == "sqlite":
        day, bigint, before = _sqlite_day, "", f"< '{upto}'"
    elif dialect == "postgresql":
        day, bigint, before = _postgres_day, "::bigint", f"< DATE '{upto}'"
    else:
        raise ValueError(f"no store queries for {dialect!r}")
    status, kind = _case("status", ORDER_STATUS_CODES), _case("kind", EVENT_KIND_CODES)
    return {
        "orders": (
            f"SELECT customer_id{bigint} AS customer_id, {day('ordered_at')} AS day, "
            f"{status} AS status, total_minor{bigint} AS total_minor, "
            f"discount_minor{bigint} AS discount_minor, "
            f"COALESCE(cost_minor, 0){bigint} AS cost_minor "
            f"FROM orders WHERE {{part}} AND ordered_at {before}",
            "orders",
        ),
        "events": (
            f"SELECT customer_id{bigint} AS customer_id, {day('occurred_at')} AS day, "
            f"{kind} AS kind, COALESCE(amount_minor, 0){bigint} AS amount_minor, "
            f"COALESCE(cost_minor, 0){bigint} AS cost_minor, "
            f"COALESCE(rating, -1){bigint} AS rating, "
            f"COALESCE(related_customer_id, 0){bigint} AS related_customer_id "
            f"FROM events WHERE {{part}} AND occurred_at {before}",
            "events",
        ),
        "customers": (
            f"SELECT id{bigint} AS customer_id, {day('acquired_at')} AS acquired_day, "
            f"COALESCE(acquisition_campaign_id, 0){bigint} AS acquisition_campaign_id, "
            f"COALESCE(referred_by_customer_id, 0){bigint} AS referred_by_customer_id "
            "FROM customers WHERE {part}",
            "customers",
        ),
        "campaigns": (
            f"SELECT id{bigint} AS campaign_id, cost_minor{bigint} AS cost_minor, "
            f"{day('starts_on')} AS starts_on FROM campaigns WHERE starts_on {before}",
            None,
        ),
        "responses": (
            f"SELECT customer_id{bigint} AS customer_id, {day('responded_at')} AS day "
            f"FROM campaign_members WHERE responded_at IS NOT NULL AND responded_at {before}",
            None,
        ),
    }


_SENTINELS = {
    "events": {"related_customer_id": 0, "rating": -1},
    "customers": {"acquisition_campaign_id": 0, "referred_by_customer_id": 0},
}
_TYPES = {"int64": pa.int64(), "date": pa.date32(), "code": pa.int8()}


def _normalise(name: str, table: pa.Table) -> pa.Table:
    schema = INPUT_SCHEMAS[name]
    if table.num_rows == 0:
        return pa.schema([(c, _TYPES[k]) for c, k in schema.items()]).empty_table()
    sentinels = _SENTINELS.get(name, {})
    columns = []
    for col, kind in schema.items():
        arr = table.column(col)
        if kind == "date":
            days = pc.cast(arr, pa.int32())
            null = pc.equal(days, _NULL_DAY)
            arr = pc.cast(days, pa.date32())
            if pc.any(null).as_py():
                arr = pc.if_else(null, pa.scalar(None, pa.date32()), arr)
        else:
            arr = pc.cast(arr, _TYPES[kind])
        if col in sentinels:
            null = pc.equal(arr, sentinels[col])
            if pc.any(null).as_py():
                arr = pc.if_else(null, pa.scalar(None, arr.type), arr)
        columns.append(arr)
    return pa.table(columns, names=list(schema))


def normalise_inputs(tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """The fetched tables in the normalised schemas of ``INPUT_SCHEMAS``.

    Each column comes out as one contiguous array (the reader's many small batches joined
    once), which the in-process kernels then read without copying.
    """
    return {name: _normalise(name, tables[name]).combine_chunks() for name in INPUT_SCHEMAS}
