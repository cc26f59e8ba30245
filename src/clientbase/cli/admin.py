"""Store administration: ``init``, ``db upgrade``, ``backup``, ``restore``."""

from __future__ import annotations

from typing import Annotated

import typer

from clientbase.cli.common import console, settings_from
from clientbase.services.database import init_database, upgrade_database

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=(
            "Database URL (sqlite:///path or postgresql://…); "
            "default: CLIENTBASE_DB or the embedded SQLite file."
        ),
    ),
]

db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")
    db_app.command("upgrade")(db_upgrade)


def init(ctx: typer.Context, db: DbOption = None) -> None:
    """Create the customer-base store (the embedded SQLite file, or the --db database).

    Safe to run again: an existing store is left as it is, or upgraded.
    """
    status = init_database(settings_from(ctx, db))
    if status.before is None:
        console.print(f"Created the clientbase store at {status.url} (schema {status.after}).")
    else:
        console.print(f"The clientbase store at {status.url} is ready (schema {status.after}).")


def db_upgrade(ctx: typer.Context, db: DbOption = None) -> None:
    """Upgrade the database schema to this version of clientbase (run after updating)."""
    status = upgrade_database(settings_from(ctx, db))
    if status.before == status.after:
        console.print(f"Schema already current ({status.after}) at {status.url}.")
    else:
        console.print(
            f"Schema upgraded {status.before or 'empty'} -> {status.after} at {status.url}."
        )
