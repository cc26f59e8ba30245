"""``clientbase clv``: lifetime-value models from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from clientbase.cli.common import console

if TYPE_CHECKING:
    from clientbase.services.clv import ValidationReport

clv_app = typer.Typer(
    help="Customer lifetime value: fit and check BG/NBD, Pareto/NBD and Gamma-Gamma models.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(clv_app, name="clv")
    clv_app.command("validate")(validate)


def validate(
    file: Annotated[Path, typer.Argument(help="Transactions: CSV, whitespace text or Parquet.")],
    customer_col: Annotated[
        str, typer.Option("--customer-col", help="Customer id column (name, column_N or N).")
    ],
    date_col: Annotated[str, typer.Option("--date-col", help="Transaction date column.")],
    calibration_end: Annotated[
        str, typer.Option("--calibration-end", help="Last day of the calibration period.")
    ],
    amount_col: Annotated[
        str | None, typer.Option("--amount-col", help="Transaction value column.")
    ] = None,
    holdout_end: Annotated[
        str | None,
        typer.Option("--holdout-end", help="Last day of the holdout (default: last date)."),
    ] = None,
    time_unit: Annotated[
        Literal["weeks", "days"], typer.Option("--time-unit", help="Model time unit.")
    ] = "weeks",
    model: Annotated[
        Literal["bgnbd", "pareto"], typer.Option("--model", help="Purchase model.")
    ] = "bgnbd",
    separator: Annotated[
        str,
        typer.Option("--separator", help="auto, ',', ';', tab or whitespace (text files)."),
    ] = "auto",
    no_header: Annotated[
        bool, typer.Option("--no-header", help="The file has no header line.")
    ] = False,
    output_format: Annotated[
        Literal["table", "json"], typer.Option("--format", help="Output format.")
    ] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the full report as JSON here.")
    ] = None,
) -> None:
    """Fit on the calibration period and compare predicted with actual holdout purchases.

    Example (the CDNOW sample, which has no header):

        clientbase clv validate CDNOW_sample.txt --no-header --customer-col 2 --date-col 3
        --amount-col 5 --calibration-end 1997-09-30 --holdout-end 1998-06-30
    """
    from clientbase.services.clv import read_transactions, validate_purchase_model

    data = read_transactions(
        file,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        separator=separator,
        has_header=not no_header,
    )
    report = validate_purchase_model(
        data,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
        model=model,
    )
    document = json.dumps(report.to_dict(), indent=2)
    if out is not None:
        out.write_text(document + "\n", encoding="utf-8")
    if output_format == "json":
        console.print_json(document)
    else:
        _print_report(report)


def _print_report(report: ValidationReport) -> None:
    params = ", ".join(f"{k} = {v:.4g}" for k, v in report.params.items())
    console.print(
        f"[bold]{report.model}[/] fitted on {report.customers:,} customers up to "
        f"{report.calibration_end}: {params} (log-likelihood {report.log_likelihood:,.2f})"
    )
    console.print(
        f"Holdout to {report.holdout_end} ({report.holdout_length:.2f} {report.time_unit}): "
        f"[bold]{report.actual_total:,.0f}[/] actual repeat purchases, "
        f"{report.predicted_total:,.1f} predicted "
        f"({_pct(report.predicted_total, report.actual_total)}); per-customer mean absolute "
        f"error {report.mean_absolute_error:.3f}"
    )
    table = Table(title="Holdout purchases by calibration frequency")
    for header in ("repeat purchases", "customers", "actual", "predicted", "per customer"):
        table.add_column(header, justify="right")
    for row in report.buckets:
        per = (
            f"{row.actual / row.customers:.2f} / {row.predicted / row.customers:.2f}"
            if row.customers
            else "-"
        )
        table.add_row(
            row.frequency, f"{row.customers:,}", f"{row.actual:,.0f}", f"{row.predicted:,.1f}", per
        )
    console.print(table)
    if report.tracking:
        step = max(1, len(report.tracking) // 8)
        shown = report.tracking[step - 1 :: step]
        if shown[-1] is not report.tracking[-1]:
            shown.append(report.tracking[-1])
        tracking = Table(title="Cumulative repeat purchases in the holdout (weekly; --out for all)")
        for header in ("week", "to", "actual", "predicted"):
            tracking.add_column(header, justify="right")
        for point in shown:
            tracking.add_row(
                str(point.week), point.date, f"{point.actual:,.0f}", f"{point.predicted:,.1f}"
            )
        console.print(tracking)


def _pct(predicted: float, actual: float) -> str:
    if actual == 0:
        return "no actual purchases"
    return f"{(predicted - actual) / actual:+.1%}"
