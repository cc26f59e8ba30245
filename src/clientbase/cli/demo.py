"""``clientbase demo``: build the demo business and print its summary."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clientbase.cli.common import console, settings_from
from clientbase.demo.cast import DEPARTED_REP_ID, KEY_ACCOUNT_REP_ID, STAFF
from clientbase.services.demo import DemoResult, build_demo


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    ctx: typer.Context,
    customers: Annotated[
        int, typer.Option("--customers", "-n", help="How many customers to plant.")
    ] = 5_000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same business.")] = 42,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: CLIENTBASE_DB or the embedded file)."),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help=(
                "Replace a database that already holds data. When nobody has it open the new "
                "store is renamed into place; while it is in use it is replaced in one "
                "transaction instead (slower, and needs room for a second copy)."
            ),
        ),
    ] = False,
) -> None:
    """Build a deterministic demo business with planted truths, and show what it holds.

    Customers sit on all seven rungs and in all four value categories as of 2026-06-30;
    the truths are in the tables demo_truths and demo_campaign_truths. On SQLite the demo
    is built as a new file next to the store and swapped in at the end: all or nothing.
    """
    settings = settings_from(ctx, db)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("building the demo business", total=customers, rows=0)

        def tick(stage: str, rows: int, done: int, total: int) -> None:
            # a table name while rows are generated and written, else a finishing stage
            text = stage if " " in stage else f"building {stage}"
            bar.update(task, completed=done, rows=rows, description=text)

        result = build_demo(
            settings, customers=customers, seed=seed, replace=replace, progress=tick
        )
    _summary(result)


def _money(minor: int) -> str:
    return f"{minor / 100:,.0f}"


def _summary(r: DemoResult) -> None:
    s = r.stats
    console.print(
        f"Demo business built at {r.url}: {r.customers:,} customers, seed {r.seed}, "
        f"demo as-of date {r.as_of.isoformat()}."
    )
    t = Table(title="Customers by acquisition channel")
    t.add_column("channel")
    t.add_column("customers", justify="right")
    for ch, k in sorted(s.customers_by_channel.items()):
        t.add_row(ch, f"{k:,}")
    console.print(t)
    t = Table(title="Customers by planted rung and category")
    t.add_column("rung")
    for cat in ("loyal", "average", "demanding", "lost", "-"):
        t.add_column(cat, justify="right")
    names = {
        1: "suspect",
        2: "prospect",
        3: "first-time buyer",
        4: "client",
        5: "member",
        6: "advocate",
        7: "partner",
    }
    for rung, name in names.items():
        t.add_row(
            f"{rung} {name}",
            *(
                f"{s.customers_by_rung_category.get((rung, c), 0):,}"
                for c in ("loyal", "average", "demanding", "lost", "-")
            ),
        )
    console.print(t)
    t = Table(title="Orders")
    for col in ("orders", "completed", "lines", "revenue (completed)"):
        t.add_column(col, justify="right")
    t.add_row(
        f"{s.orders:,}", f"{s.completed_orders:,}", f"{s.order_lines:,}", _money(s.revenue_minor)
    )
    console.print(t)
    t = Table(title="Events by kind")
    t.add_column("kind")
    t.add_column("events", justify="right")
    for kind, k in sorted(s.events_by_kind.items()):
        t.add_row(kind, f"{k:,}")
    console.print(t)
    t = Table(title="Representatives")
    for col in ("user", "customers owned", "share of revenue", "note"):
        t.add_column(col)
    total = max(1, s.revenue_minor)
    for uid, member in enumerate(STAFF, start=1):
        if member.role != "representative":
            continue
        note = (
            "departed"
            if uid == DEPARTED_REP_ID
            else ("key accounts" if uid == KEY_ACCOUNT_REP_ID else "")
        )
        t.add_row(
            member.username,
            f"{s.rep_customers.get(uid, 0):,}",
            f"{100 * s.rep_revenue_minor.get(uid, 0) / total:.1f} %",
            note,
        )
    console.print(t)
    t = Table(title="Campaigns with a control group")
    for col in ("campaign", "treatment", "control", "planted uplift / treated"):
        t.add_column(col)
    for c in s.campaigns:
        t.add_row(
            str(c["name"]),
            f"{c['treatment']:,}",
            f"{c['control']:,}",
            _money(int(str(c["uplift_per_treated_minor"]))),
        )
    console.print(t)
    how = "renamed into place" if r.published == "rename" else "copied in one transaction"
    console.print(f"Built in {r.seconds:.1f} s ({how}).")
