"""``clientbase analyze``: RFM, rungs and categories from a transactions file, no store."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from clientbase.cli.common import err_console
from clientbase.cli.output import OutputFormat, emit_table

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)


def analyze(
    file: Annotated[Path, typer.Argument(help="Transactions: CSV, Parquet or XLSX.")],
    customer_col: Annotated[
        str | None,
        typer.Option("--customer-col", help="Customer id column (or the mapping's customer)."),
    ] = None,
    date_col: Annotated[
        str | None,
        typer.Option("--date-col", help="Transaction date column (or the mapping's ordered_at)."),
    ] = None,
    amount_col: Annotated[
        str | None, typer.Option("--amount-col", help="Amount column (or the mapping's total).")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help=(
                "Column mapping (TOML, as for `clientbase import orders`; see "
                "docs/import-mapping.md): encoding, delimiter, decimal comma, date order, "
                "column names."
            ),
        ),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Day to describe (default: the last transaction).")
    ] = None,
    language: Annotated[str, typer.Option("--lang", help="Reasons in en, hu or pl.")] = "en",
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="TOML policy file that overrides the default (as for score)."
        ),
    ] = None,
    margin: Annotated[
        float | None,
        typer.Option(
            "--margin",
            help="Gross margin as a share of revenue (e.g. 0.35) for the CLV; default: the CLV "
            "is of revenue (transactions carry no cost of goods).",
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, csv, json or parquet.")
    ] = OutputFormat.TABLE,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
) -> None:
    """Score customers straight from a transactions file (RFM, rung, category, reasons, CLV).

    Name the customer, date and amount columns, or give a `--mapping` file: then the file
    is read as `clientbase import orders` reads it (any encoding and delimiter, `1 234,50`,
    `2025.03.14.`, status words), and only when every row can be read. A negative amount
    is a return.

    With enough buyers (see the policy's [lifetime]) BG/NBD and Gamma-Gamma are fitted as in
    `clientbase score`: P(alive) then feeds the lost category, and every buyer gets the
    expected purchases in the next 12 months and the CLV.
    """
    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise typer.BadParameter(f"{as_of!r} is not a date (YYYY-MM-DD)") from None
    from clientbase.services.quick import analyze_file

    result = analyze_file(
        file,
        customer_col,
        date_col,
        amount_col,
        mapping=mapping,
        as_of=day,
        language=language,
        margin=margin,
        policy=policy,
    )
    if fmt is OutputFormat.TABLE or out is not None:
        # Not in CSV or JSON on standard output, which stays exactly the data.
        err_console.print(
            f"{result.table.num_rows:,} customers as of {result.as_of}; lifetime value: "
            f"{result.lifetime}",
            soft_wrap=True,
        )
    emit_table(result.table, fmt, out=out, title=f"Customers of {file.name}")
