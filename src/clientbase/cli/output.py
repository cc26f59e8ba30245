"""Writing query results as a table, CSV or JSON (and Parquet for Arrow results)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from clientbase.cli.common import console
from clientbase.errors import InvalidInput

__all__ = ["OutputFormat", "emit_document", "emit_rows", "emit_table", "to_json"]


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"


def _default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return str(value)


def to_json(document: Any) -> str:
    return json.dumps(document, default=_default, ensure_ascii=False, indent=2)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    else:
        out.write_text(text, "utf-8")


def emit_rows(
    rows: list[dict[str, Any]],
    fmt: OutputFormat,
    *,
    out: Path | None = None,
    title: str | None = None,
) -> None:
    """Rows of dicts in ``fmt`` to the console or ``out``."""
    if fmt is OutputFormat.JSON:
        _write(to_json(rows), out)
        return
    columns = list(rows[0]) if rows else []
    if fmt is OutputFormat.CSV:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        _write(buf.getvalue().rstrip("\n"), out)
        return
    if fmt is OutputFormat.PARQUET:
        raise InvalidInput("parquet output needs --out and a tabular result")
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    if out is None:
        console.print(table)
    else:
        with out.open("w", encoding="utf-8") as fh:
            Console(file=fh, width=200, highlight=False).print(table)


def emit_table(
    data: pa.Table, fmt: OutputFormat, *, out: Path | None = None, title: str | None = None
) -> None:
    """An Arrow table in ``fmt``; CSV and Parquet are written by Arrow (fast for big files)."""
    if fmt is OutputFormat.PARQUET:
        if out is None:
            raise InvalidInput("parquet output needs --out FILE")
        pq.write_table(data, out)
        return
    if fmt is OutputFormat.CSV and out is not None:
        pacsv.write_csv(data, out)
        return
    emit_rows(data.to_pylist(), fmt, out=out, title=title)


def emit_document(document: dict[str, Any], fmt: OutputFormat, *, out: Path | None = None) -> None:
    """A nested document: JSON as it is; table and CSV show its top-level scalars as
    ``key, value`` rows (lists of rows are shown by the caller)."""
    if fmt is OutputFormat.JSON:
        _write(to_json(document), out)
        return
    rows = [{"key": k, "value": v} for k, v in document.items() if not isinstance(v, dict | list)]
    emit_rows(rows, fmt, out=out)
