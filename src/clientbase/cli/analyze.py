"""``clientbase analyze``: RFM, rungs and categories from a transactions file, no store."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

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
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, csv, json or parquet.")
    ] = OutputFormat.TABLE,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
) -> None:
    """Score customers straight from a transactions file (RFM, rung, category, reasons).

    Name the customer, date and amount columns, or give a `--mapping` file: then the file
    is read as `clientbase import orders` reads it (any encoding and delimiter, `1 234,50`,
    `2025.03.14.`, status words), and only when every row can be read. A negative amount
    is a return.
    """
    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise typer.BadParameter(f"{as_of!r} is not a date (YYYY-MM-DD)") from None
    from clientbase.services.quick import analyze_file

    table = analyze_file(
        file, customer_col, date_col, amount_col, mapping=mapping, as_of=day, language=language
    )
    emit_table(table, fmt, out=out, title=f"Customers of {file.name}")
