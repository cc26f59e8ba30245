"""Scoring commands: ``score``, ``customers``, ``explain``, ``funnel``, ``whale``."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from clientbase.cli.common import TokenOption, acting_actor, console, settings_from
from clientbase.cli.output import OutputFormat, emit_document, emit_rows, emit_table
from clientbase.domain.vocabulary import Rung
from clientbase.security.actor import Actor

# Scoring pulls in Ibis, DuckDB and the models: each command imports its service when it
# runs, so that other commands start quickly.

__all__ = ["register"]

FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output: table, csv or json.")
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")]
RunOption = Annotated[int | None, typer.Option("--run", help="Score run id (default: latest).")]


class ComputeChoice(StrEnum):
    """Where ``score`` computes the features."""

    PROCESS = "process"
    DATABASE = "database"


def register(app: typer.Typer) -> None:
    app.command("score")(score)
    app.command("customers")(customers)
    app.command("explain")(explain)
    app.command("funnel")(funnel)
    app.command("whale")(whale)


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def score(
    ctx: typer.Context,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Day to score (YYYY-MM-DD; default today).")
    ] = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="TOML policy file that overrides the default.")
    ] = None,
    compute: Annotated[
        ComputeChoice | None,
        typer.Option(
            "--compute",
            help="Where to compute the features: process (here, the default) or database "
            "(inside a PostgreSQL store). Default: CLIENTBASE_COMPUTE, else process.",
        ),
    ] = None,
) -> None:
    """Score every customer (features, rung, category, reasons) and save the run."""
    from clientbase.services.scoring import run_score

    summary = run_score(
        settings_from(ctx),
        Actor.local_operator(),
        as_of=_date(as_of),
        policy_path=policy,
        compute=compute.value if compute else None,
    )
    console.print(
        f"Score run {summary.run_id}: {summary.customers_scored} customers as of "
        f"{summary.as_of} in {summary.duration_s:.1f} s (policy {summary.policy_hash[:12]})."
    )
    rows = [
        {"rung": k, "name": Rung(int(k)).name.lower().replace("_", " "), "customers": v}
        for k, v in summary.counts["rung"].items()
    ]
    emit_rows(rows, OutputFormat.TABLE, title="Customers per rung")
    rows = [{"category": k, "customers": v} for k, v in summary.counts["category"].items()]
    emit_rows(rows, OutputFormat.TABLE, title="Customers per category")


def customers(
    ctx: typer.Context,
    rung: Annotated[str | None, typer.Option("--rung", help="1-7 or a rung name.")] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="loyal, average, demanding or lost.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows (0: all).")] = 100,
    run: RunOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
    out: OutOption = None,
    token: TokenOption = None,
) -> None:
    """List scored customers you may see, filtered by rung and category."""
    from clientbase.services.score_queries import customers_table, parse_category, parse_rung

    settings = settings_from(ctx)
    table = customers_table(
        settings,
        acting_actor(settings, token),
        rung=parse_rung(rung),
        category=parse_category(category),
        run_id=run,
        limit=limit or None,
    )
    emit_table(table, fmt, out=out, title="Customers")


def explain(
    ctx: typer.Context,
    customer: Annotated[int, typer.Argument(help="Customer id.")],
    language: Annotated[str, typer.Option("--lang", help="en, hu or pl.")] = "en",
    run: RunOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
    out: OutOption = None,
    token: TokenOption = None,
) -> None:
    """Why a customer is on their rung and in their category, with their figures."""
    from clientbase.services.score_queries import explain_customer

    settings = settings_from(ctx)
    actor = acting_actor(settings, token)
    e = explain_customer(settings, actor, customer, run_id=run, language=language)
    document = {
        "customer_id": e.customer_id,
        "run_id": e.run_id,
        "as_of": e.as_of,
        "rung": e.rung,
        "category": e.category,
        "reason": e.sentence,
        "reasons": e.reasons,
        "statement": e.statement,
        "loss_drivers": e.loss_drivers,
        "features": e.features,
        "timeline": e.timeline,
    }
    if fmt is OutputFormat.JSON:
        emit_document(document, fmt, out=out)
        return
    rows = [
        {"field": k, "value": v}
        for k, v in [
            ("customer", e.customer_id),
            ("run", e.run_id),
            ("as of", e.as_of),
            ("rung", e.rung),
            ("category", e.category),
            ("reason", e.sentence),
            *e.statement.items(),
            *e.features.items(),
        ]
    ]
    rows += [{"field": f"orders {s}", "value": v} for s, v in e.timeline["orders"].items()]
    rows += [{"field": f"events {k}", "value": v} for k, v in e.timeline["events"].items()]
    emit_rows(rows, fmt, out=out, title=f"Customer {e.customer_id}")


def funnel(
    ctx: typer.Context,
    window: Annotated[int, typer.Option("--window", help="Days allowed to climb.")] = 365,
    fmt: FormatOption = OutputFormat.TABLE,
    out: OutOption = None,
    token: TokenOption = None,
) -> None:
    """Customers per rung, conversion to the next rung, time to climb, fall-backs (over the
    customers you may see)."""
    from clientbase.services.score_queries import funnel_report

    settings = settings_from(ctx)
    report = funnel_report(settings, acting_actor(settings, token), window_days=window)
    if fmt is OutputFormat.JSON:
        emit_document(report, fmt, out=out)
        return
    counts = {r["rung"]: r["customers"] for r in report["rungs"]}
    rows = [{**r, "customers_now": counts.get(r["rung"], 0)} for r in report["conversion"]]
    emit_rows(
        rows, fmt, out=out, title=f"Funnel over {report['runs']} runs, as of {report['as_of']}"
    )
    if fmt is OutputFormat.TABLE and out is None:
        moves = [m for m in report["transitions"] if m["kind"] != "stay"]
        emit_rows(moves, fmt, title="Moves between runs")


def whale(
    ctx: typer.Context,
    points: Annotated[int, typer.Option("--points", help="Points of the curve.")] = 20,
    run: RunOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
    out: OutOption = None,
    token: TokenOption = None,
) -> None:
    """The whale curve, profit by rung and category, and the worst loss-makers (over the
    customers you may see)."""
    from clientbase.services.score_queries import whale_report

    settings = settings_from(ctx)
    report = whale_report(settings, acting_actor(settings, token), run_id=run, points=points)
    if fmt is OutputFormat.JSON:
        emit_document(report, fmt, out=out)
        return
    w = report["whale"]
    emit_rows(
        w["points"],
        fmt,
        out=out,
        title=(
            f"Whale curve: peak {w['peak_minor']} at {100 * w['peak_customer_share']:.0f}% of "
            f"customers, total {w['total_minor']}"
        ),
    )
    if fmt is OutputFormat.TABLE and out is None:
        emit_rows(report["by_rung"], fmt, title="Profit by rung")
        emit_rows(report["by_category"], fmt, title="Profit by category")
        emit_rows(report["loss_makers"], fmt, title="Loss-makers")
