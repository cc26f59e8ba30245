"""Use case: check a purchase model against a holdout period of a transaction file.

Reads a CSV, whitespace-separated text or Parquet file of transactions, fits BG/NBD or
Pareto/NBD on the calibration period and compares its predictions for the holdout with what
happened: in total, by calibration frequency, per customer (mean absolute error) and week by
week (cumulative tracking, the chart of Fader, Hardie & Lee 2005, figure 2).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from clientbase.errors import InvalidInput, NotFound
from clientbase.models.clv import (
    BetaGeoModel,
    ParetoNBDModel,
    TransactionSummary,
    summary_from_transactions,
)

__all__ = [
    "BucketRow",
    "TrackingPoint",
    "Transactions",
    "ValidationReport",
    "read_transactions",
    "validate_purchase_model",
]

ModelName = Literal["bgnbd", "pareto"]
_TOP_BUCKET = 7


@dataclass(frozen=True)
class Transactions:
    """The three columns the CLV models need, as numpy arrays."""

    customer_id: np.ndarray[Any, Any]
    date: np.ndarray[Any, np.dtype[np.datetime64]]
    amount: np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class BucketRow:
    """Holdout purchases of the customers with one calibration frequency (``7+`` pooled)."""

    frequency: str
    customers: int
    actual: float
    predicted: float


@dataclass(frozen=True)
class TrackingPoint:
    """Cumulative repeat purchases in the holdout up to the end of ``week``."""

    week: int
    date: str
    actual: float
    predicted: float


@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate_purchase_model` found; ``to_dict`` gives plain JSON types."""

    model: str
    params: dict[str, float]
    log_likelihood: float
    customers: int
    calibration_end: str
    holdout_end: str
    holdout_length: float
    time_unit: str
    actual_total: float
    predicted_total: float
    mean_absolute_error: float
    buckets: list[BucketRow] = field(default_factory=list)
    tracking: list[TrackingPoint] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready dictionaries and lists."""
        return asdict(self)


def _column_name(spec: str, columns: list[str]) -> str:
    """A column by name, by ``column_N`` or by its 1-based position ``N``."""
    if spec in columns:
        return spec
    match = re.fullmatch(r"(?:column_)?(\d+)", spec.strip())
    if match and 1 <= int(match.group(1)) <= len(columns):
        return columns[int(match.group(1)) - 1]
    raise InvalidInput(
        f"No column {spec!r} in the file.",
        hint=f"columns are {', '.join(columns[:12])}; positions 1..{len(columns)} work too",
    )


def _sniff_separator(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
    for candidate in (",", "\t", ";", "|"):
        if candidate in first:
            return candidate
    return "whitespace"


def _read_frame(path: Path, separator: str, has_header: bool) -> pl.DataFrame:
    if path.suffix.lower() in (".parquet", ".pq"):
        return pl.read_parquet(path)
    if separator == "auto":
        separator = _sniff_separator(path)
    if separator in ("whitespace", "space", " "):
        lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise InvalidInput(f"{path.name} is empty.")
        header = lines[0] if has_header else [f"column_{i + 1}" for i in range(len(lines[0]))]
        body = lines[1:] if has_header else lines
        widths = {len(line) for line in body}
        if widths != {len(header)}:
            raise InvalidInput(f"{path.name}: the rows do not all have {len(header)} fields.")
        return pl.DataFrame(
            {name: [row[i] for row in body] for i, name in enumerate(header)},
            schema=dict.fromkeys(header, pl.String),
        )
    sep = "\t" if separator in ("tab", "\\t") else separator
    try:
        return pl.read_csv(path, separator=sep, has_header=has_header, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise InvalidInput(f"Cannot read {path.name} as CSV: {exc}") from exc


def _parse_dates(column: pl.Series, name: str) -> np.ndarray[Any, np.dtype[np.datetime64]]:
    if column.dtype in (pl.Date, pl.Datetime):
        parsed = column.cast(pl.Date)
    else:
        text = column.cast(pl.String).str.strip_chars()
        compact = text.str.contains(r"^\d{8}$").all()
        try:
            if compact:
                parsed = text.str.to_date("%Y%m%d")
            else:
                parsed = text.str.to_datetime(strict=True).dt.date()
        except pl.exceptions.PolarsError as exc:
            raise InvalidInput(
                f"Column {name!r} has values that are not dates ({exc}).",
                hint="use YYYY-MM-DD or YYYYMMDD",
            ) from exc
    if parsed.null_count():
        raise InvalidInput(f"Column {name!r} has {parsed.null_count()} empty date(s).")
    return parsed.to_numpy().astype("datetime64[D]")


def read_transactions(
    path: str | Path,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    separator: str = "auto",
    has_header: bool = True,
) -> Transactions:
    """Read the customer, date and amount columns of a CSV, text or Parquet file.

    Parameters
    ----------
    path
        The file; ``.parquet`` is read as Parquet, anything else as delimited text.
    customer_col, date_col, amount_col
        Column names, ``column_N`` or 1-based positions (files without a header).
    separator
        ``"auto"`` (sniffed from the first line), ``","``, ``";"``, ``"tab"`` or
        ``"whitespace"`` (runs of blanks, as in the CDNOW text file).
    has_header
        Whether the first line holds column names.
    """
    file = Path(path)
    if not file.is_file():
        raise NotFound(f"No file at {file}.")
    frame = _read_frame(file, separator, has_header)
    if frame.height == 0:
        raise InvalidInput(f"{file.name} has no rows.")
    columns = frame.columns
    customer = frame[_column_name(customer_col, columns)].cast(pl.String).str.strip_chars()
    if customer.null_count() or (customer == "").any():
        raise InvalidInput("Some transactions have no customer id.")
    dates = _parse_dates(frame[_column_name(date_col, columns)], date_col)
    if amount_col is None:
        amounts = np.zeros(frame.height)
    else:
        raw = frame[_column_name(amount_col, columns)]
        try:
            amount_series = raw.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=True)
        except pl.exceptions.PolarsError as exc:
            raise InvalidInput(f"Column {amount_col!r} has values that are not numbers.") from exc
        if amount_series.null_count():
            raise InvalidInput(
                f"Column {amount_col!r} has {amount_series.null_count()} empty value(s)."
            )
        amounts = amount_series.to_numpy().astype(np.float64)
    return Transactions(customer.to_numpy(), dates, amounts)


def _tracking(
    data: Transactions,
    summary: TransactionSummary,
    model: BetaGeoModel | ParetoNBDModel,
    unit_days: float,
) -> list[TrackingPoint]:
    """Weekly cumulative repeat purchases of the cohort in the holdout, actual and predicted."""
    if summary.holdout_end is None:  # pragma: no cover - the caller always sets it
        return []
    cal_day = int(summary.calibration_end.astype(np.int64))
    end_day = int(summary.holdout_end.astype(np.int64))
    cohort = np.isin(data.customer_id, summary.customer_id)
    day = data.date.astype(np.int64)
    hold = cohort & (day > cal_day) & (day <= end_day)
    codes = np.unique(data.customer_id[hold], return_inverse=True)[1].reshape(-1)
    days_held = day[hold]
    order = np.lexsort((days_held, codes))
    c_sorted, d_sorted = codes[order], days_held[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (c_sorted[1:] != c_sorted[:-1]) | (d_sorted[1:] != d_sorted[:-1])
    occasion_days = np.sort(d_sorted[first])  # one purchase occasion per customer-day
    weeks = math.ceil((end_day - cal_day) / 7)
    points = []
    for week in range(1, weeks + 1):
        horizon_day = min(cal_day + 7 * week, end_day)
        actual = float(np.searchsorted(occasion_days, horizon_day, side="right"))
        predicted = float(
            model.expected_purchases(
                (horizon_day - cal_day) / unit_days, summary.frequency, summary.recency, summary.T
            ).sum()
        )
        date = str(np.datetime64(horizon_day, "D"))
        points.append(TrackingPoint(week, date, actual, predicted))
    return points


def validate_purchase_model(
    data: Transactions,
    *,
    calibration_end: str,
    holdout_end: str | None = None,
    time_unit: Literal["days", "weeks"] = "weeks",
    model: ModelName = "bgnbd",
) -> ValidationReport:
    """Fit on the calibration period and compare predictions with the holdout period.

    ``holdout_end`` defaults to the last transaction date. Repeat purchases are distinct
    customer-days, as in the model.
    """
    if model not in ("bgnbd", "pareto"):
        raise InvalidInput(f"model must be 'bgnbd' or 'pareto', not {model!r}.")
    end = holdout_end if holdout_end is not None else str(data.date.max())
    summary = summary_from_transactions(
        data.customer_id,
        data.date,
        data.amount,
        calibration_end=calibration_end,
        holdout_end=end,
        time_unit=time_unit,
    )
    fitted: BetaGeoModel | ParetoNBDModel = (
        BetaGeoModel() if model == "bgnbd" else ParetoNBDModel()
    ).fit(summary.frequency, summary.recency, summary.T)
    predicted = fitted.expected_purchases(
        summary.holdout_duration, summary.frequency, summary.recency, summary.T
    )
    actual = summary.holdout_frequency
    bucket = np.minimum(summary.frequency, _TOP_BUCKET).astype(int)
    buckets = [
        BucketRow(
            frequency=f"{b}+" if b == _TOP_BUCKET else str(b),
            customers=int(np.count_nonzero(bucket == b)),
            actual=float(actual[bucket == b].sum()),
            predicted=float(predicted[bucket == b].sum()),
        )
        for b in range(_TOP_BUCKET + 1)
    ]
    unit_days = 7.0 if time_unit == "weeks" else 1.0
    return ValidationReport(
        model="BG/NBD" if model == "bgnbd" else "Pareto/NBD",
        params=dict(fitted.params_),
        log_likelihood=fitted.log_likelihood_,
        customers=len(summary),
        calibration_end=str(summary.calibration_end),
        holdout_end=str(summary.holdout_end),
        holdout_length=summary.holdout_duration,
        time_unit=time_unit,
        actual_total=float(actual.sum()),
        predicted_total=float(predicted.sum()),
        mean_absolute_error=float(np.mean(np.abs(predicted - actual))),
        buckets=buckets,
        tracking=_tracking(data, summary, fitted, unit_days),
    )
