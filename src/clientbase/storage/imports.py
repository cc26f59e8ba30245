"""What an import needs to read from the store: ids behind external ids, and existing rows.

Frames come back with the column ``key`` (an external id, or a username) and ``id``, plus
the store columns asked for; they feed :mod:`clientbase.ingest.reconcile`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import Connection, literal
from sqlalchemy.sql.elements import ColumnElement

from clientbase.storage.bulk import read_frame, table_of

__all__ = ["KEY", "customer_emails", "existing_rows", "key_map"]

KEY = "key"
_IN_CHUNK = 5_000


def key_map(conn: Connection, table: str, source: str) -> pl.DataFrame:
    """``key`` -> ``id`` of the records of ``table`` known under ``source``.

    Customers are found through their external ids; users by username (any source).
    """
    if table == "customers":
        ext = table_of("customer_external_ids")
        return read_frame(
            conn,
            [ext.c.external_id.label(KEY), ext.c.customer_id.label("id")],
            ext.c.source == source,
        )
    target = table_of(table)
    if table == "users":
        return read_frame(conn, [target.c.username.label(KEY), target.c.id])
    return read_frame(
        conn, [target.c.external_id.label(KEY), target.c.id], target.c.source == source
    )


def existing_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    *,
    source: str | None = None,
    within: tuple[str, Sequence[int]] | None = None,
) -> pl.DataFrame:
    """The rows of ``table`` an import may match, with ``id`` and ``columns``.

    Records keyed by external id are those of ``source`` (with ``key``); users all (with
    ``key`` = username); others (order lines, campaign members) those whose ``within``
    column holds one of the given ids.
    """
    target = table_of(table)
    wanted: list[ColumnElement[Any]] = [target.c.id, *(target.c[c] for c in columns if c != "id")]
    if table == "customers":
        ext = table_of("customer_external_ids")
        joined = [ext.c.external_id.label(KEY), *wanted]
        query_columns = joined
        frame = read_frame(
            conn,
            query_columns,
            ext.c.customer_id == target.c.id,
            ext.c.source == (source or "default"),
        )
        return frame
    if table == "users":
        return read_frame(conn, [target.c.username.label(KEY), *wanted])
    if within is None:
        return read_frame(
            conn,
            [target.c.external_id.label(KEY), *wanted],
            target.c.source == (source or "default"),
        )
    column, ids = within
    unique = sorted(set(ids))
    parts = [
        read_frame(conn, wanted, target.c[column].in_(unique[i : i + _IN_CHUNK]))
        for i in range(0, len(unique), _IN_CHUNK)
    ]
    if not parts:
        return read_frame(conn, wanted, literal(False))
    return pl.concat(parts)


def customer_emails(conn: Connection, source: str) -> pl.DataFrame:
    """``email`` (lower case) and ``key`` of every customer with an e-mail and an id in ``source``.

    Customers known only under other sources are listed with ``key`` = ``source:id``.
    """
    customers = table_of("customers")
    ext = table_of("customer_external_ids")
    frame = read_frame(
        conn,
        [customers.c.email, ext.c.external_id.label(KEY), ext.c.source],
        ext.c.customer_id == customers.c.id,
        customers.c.email.is_not(None),
    )
    return frame.select(
        pl.col("email").str.to_lowercase(),
        pl.when(pl.col("source") == source)
        .then(pl.col(KEY))
        .otherwise(pl.format("{}:{}", "source", KEY))
        .alias(KEY),
    )
