"""``clientbase import KIND FILE``: load a business's own export, all rows or none."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clientbase.cli.common import console, err_console, settings_from
from clientbase.errors import ImportRejected, InvalidInput
from clientbase.ingest.issue_texts import LANGUAGES
from clientbase.ingest.kinds import KINDS
from clientbase.ingest.report import ImportReport, with_reasons
from clientbase.security.actor import Actor
from clientbase.services.database import connect
from clientbase.services.imports import import_file

__all__ = ["register"]

_STAGES = {
    "read": "Reading",
    "check": "Checking fields",
    "match": "Matching with the store",
    "write": "Writing rows",
}


def register(app: typer.Typer) -> None:
    app.command(
        "import",
        help=(
            "Import a CSV, XLSX or Parquet FILE of KIND: "
            + ", ".join(KINDS)
            + ".\n\nRows are matched by their external id (per source system), so importing "
            "the same file twice changes nothing. The import is all or nothing: if any row is "
            "rejected, nothing is written and every rejection is listed (all of them with "
            "--report), unless --partial. A --mapping TOML file reads an export as it is: see "
            "docs/import-mapping.md."
        ),
    )(import_command)


def import_command(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=f"What the file holds: {', '.join(KINDS)}.")],
    file: Annotated[Path, typer.Argument(help="The CSV, XLSX or Parquet file.")],
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", "-m", help="TOML column mapping (docs/import-mapping.md)."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", "-r", help="Write every rejected row and warning to this CSV."),
    ] = None,
    partial: Annotated[
        bool,
        typer.Option(
            "--partial",
            help="Import the valid rows even if some are rejected (they are listed).",
        ),
    ] = False,
    show: Annotated[
        int, typer.Option("--show", help="How many rejected rows to list on screen.", min=0)
    ] = 20,
    language: Annotated[
        str,
        typer.Option(
            "--lang",
            "--language",
            help="Language of the rejection reasons on screen and in --report: en, hu or pl.",
        ),
    ] = "en",
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: CLIENTBASE_DB or the embedded file)."),
    ] = None,
) -> None:
    """Import FILE as KIND (see `clientbase import --help`)."""
    if language not in LANGUAGES:
        raise InvalidInput(f"no import texts in {language!r}: use --lang {' or '.join(LANGUAGES)}")
    engine = connect(settings_from(ctx, db))
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=not err_console.is_terminal,
        ) as bar:
            task = bar.add_task("Reading", total=None)

            seen: set[str] = set()

            def on_progress(stage: str, done: int, total: int) -> None:
                if not err_console.is_terminal and stage not in seen:
                    # No live bar in a log or a pipe: one line per stage instead.
                    seen.add(stage)
                    rows = f" ({total:,} rows)" if stage in {"match", "write"} else ""
                    err_console.print(f"{_STAGES.get(stage, stage)} {file.name}{rows}…")
                bar.update(
                    task,
                    description=_STAGES.get(stage, stage),
                    completed=done,
                    total=total or None,
                )

            result = import_file(
                engine,
                Actor.local_operator(),
                kind,
                file,
                mapping_path=mapping,
                partial=partial,
                progress=on_progress,
            )
    except ImportRejected as exc:
        rejected = exc.report
        if isinstance(rejected, ImportReport):
            _print_issues(err_console, rejected, show, language)
            err_console.print(_summary(rejected))
            if report is not None:
                rejected.write_csv(report, language)
                err_console.print(f"All rejected rows are listed in {report}.")
        raise
    finally:
        engine.dispose()
    if result.errors.height:
        _print_issues(err_console, result, show, language)
    elif result.warnings.height:
        _print_table(console, "Warnings", result.warnings, show, language)
    console.print(_summary(result))
    if report is not None:
        result.write_csv(report, language)
        console.print(f"The report is in {report}.")


def _summary(report: ImportReport) -> str:
    c = report.counts
    verb = "" if report.committed else "would be "
    tail = "" if report.committed else " — nothing was written"
    return (
        f"{c.rows} rows in {report.file}: {c.imported} {verb}imported, {c.updated} "
        f"{verb}updated, {c.unchanged} unchanged, {c.rejected} rejected{tail}."
    )


def _print_issues(out: Console, report: ImportReport, show: int, language: str) -> None:
    errors = report.sorted_errors()
    _print_table(out, f"Rejected rows of {report.file}", errors, show, language)
    if report.warnings.height:
        _print_table(out, "Warnings", report.warnings, show, language)


def _print_table(out: Console, title: str, issues: pl.DataFrame, show: int, language: str) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("row", justify="right")
    for name in ("column", "value", "reason", "code"):
        table.add_column(name, overflow="fold")
    shown = with_reasons(issues.head(show), language)
    for row, column, value, reason, code in shown.select(
        "row", "column", "value", "reason", "code"
    ).iter_rows():
        table.add_row(str(row), column or "", "" if value is None else str(value), reason, code)
    out.print(table)
    if issues.height > show:
        out.print(f"… and {issues.height - show} more (use --report FILE for all of them).")
