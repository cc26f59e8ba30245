"""The one place that executes analytics expressions: DuckDB in-process by default.

Builders elsewhere in :mod:`clientbase.analytics` only return Ibis expressions;
:class:`Engine` turns Arrow tables into Ibis tables and expressions into Arrow tables.
"""

from __future__ import annotations

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

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        config: dict[str, Any] = {}
        if threads is not None:
            config["threads"] = threads
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        self.backend = ibis.duckdb.connect(**config)

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
