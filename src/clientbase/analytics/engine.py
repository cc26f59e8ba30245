"""The one place that executes analytics expressions: DuckDB in-process by default.

Builders elsewhere in :mod:`clientbase.analytics` only return Ibis expressions;
:class:`Engine` turns Arrow tables into Ibis tables and expressions into Arrow tables.

:meth:`Engine.in_postgres` gives the other engine of DESIGN §2: the same expressions run
inside a PostgreSQL store, over its own tables (:meth:`Engine.source`), and only their
results travel.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

__all__ = ["Engine"]


class Engine:
    """An in-process DuckDB (through Ibis) that runs the analytics expressions.

    Parameters
    ----------
    threads
        DuckDB worker threads (default: DuckDB's own choice, every core).
    memory_limit
        DuckDB's memory limit, e.g. ``"3GB"`` (default: DuckDB's).
    """

    #: ``"duckdb"`` or ``"postgres"``: where the expressions run.
    name: str

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        config: dict[str, Any] = {}
        if threads is not None:
            config["threads"] = threads
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        self.backend: Any = ibis.duckdb.connect(**config)
        self.name = "duckdb"

    @classmethod
    def in_postgres(cls, uri: str) -> Engine:
        """An engine that runs the expressions inside the PostgreSQL database at ``uri``.

        ``uri`` is a libpq connection URI (``postgresql://user@host:port/dbname``). The
        connection only reads: its transactions are ``READ ONLY``, and :meth:`snapshot`
        makes several expressions see the same state of the database.
        """
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        params: dict[str, Any] = dict(conninfo_to_dict(uri))
        if "dbname" in params:
            params["database"] = params.pop("dbname")
        params["port"] = int(params.get("port") or 5432)
        engine = cls.__new__(cls)
        engine.backend = ibis.postgres.connect(**params)
        engine.name = "postgres"
        con: psycopg.Connection[Any] = engine.backend.con
        con.read_only = True
        con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        return engine

    def source(self, name: str) -> ir.Table:
        """The table ``name`` of the database the engine runs in (:meth:`in_postgres`)."""
        if self.name == "duckdb":
            raise ValueError("the in-process engine has no store tables: pass Arrow tables")
        table: ir.Table = self.backend.table(name)
        return table

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Run the expressions of the block on one snapshot of the database.

        On PostgreSQL this is one ``REPEATABLE READ``, read-only transaction; DuckDB runs on
        Arrow tables that do not change, so there it does nothing.
        """
        if self.name == "duckdb":
            yield
            return
        import psycopg

        con: psycopg.Connection[Any] = self.backend.con
        # BEGIN by hand, not psycopg's transaction(): Ibis rolls back by hand when a query
        # fails, which psycopg forbids inside transaction() (and would hide the error).
        con.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        except BaseException:
            with suppress(psycopg.Error):
                if con.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def table(self, data: pa.Table) -> ir.Table:
        """An Ibis table over an Arrow table (no copy; read when an expression runs)."""
        return ibis.memtable(data)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        """Execute ``expr`` and return its rows as an Arrow table."""
        result: pa.Table = self.backend.to_pyarrow(expr)
        return result

    def close(self) -> None:
        self.backend.disconnect()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
