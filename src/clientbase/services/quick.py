"""The analyst's quick path as a use case: read a transactions file and score it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa

from clientbase.analytics.quick import analyze_transactions
from clientbase.errors import InvalidInput, NotFound

__all__ = ["analyze_file", "read_transactions"]


def read_transactions(path: Path) -> pa.Table:
    """A CSV, Parquet or XLSX file as an Arrow table (the file is not changed)."""
    if not path.exists():
        raise NotFound(f"no file at {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif suffix in {".xlsx", ".xls"}:
            frame = pl.read_excel(path)
        else:
            frame = pl.read_csv(path, infer_schema_length=10_000)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}") from exc
    return frame.to_arrow()


def analyze_file(
    path: Path,
    customer_col: str,
    date_col: str,
    amount_col: str,
    *,
    as_of: date | None = None,
    language: str = "en",
) -> pa.Table:
    """RFM, purchase-based rung and category of every customer in a transactions file."""
    table = read_transactions(path)
    try:
        return analyze_transactions(
            table, customer_col, date_col, amount_col, as_of=as_of, reasons_language=language
        )
    except InvalidInput:
        raise
    except Exception as exc:  # a date or amount column that cannot be read as one
        raise InvalidInput(f"cannot analyse {path.name}: {exc}") from exc
