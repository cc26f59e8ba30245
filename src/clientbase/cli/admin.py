"""Store administration: ``init``, ``db upgrade``, ``backup``, ``restore``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clientbase.cli.common import console, read_password, settings_from
from clientbase.config import Settings
from clientbase.domain.vocabulary import Role
from clientbase.errors import Conflict, InvalidInput
from clientbase.security.actor import Actor
from clientbase.services.backup import backup, restore
from clientbase.services.database import connect, init_database, upgrade_database
from clientbase.services.users import add_user, find_user

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
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)


def init(
    ctx: typer.Context,
    admin_name: Annotated[
        str | None,
        typer.Option(
            "--admin",
            metavar="NAME",
            help="Also create the first administrator with this sign-in name.",
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the administrator's password from standard input (for scripts).",
        ),
    ] = False,
    display_name: Annotated[
        str | None, typer.Option("--name", help="The administrator's display name.")
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="The administrator's e-mail.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Create the customer-base store (the embedded SQLite file, or the --db database).

    Safe to run again: an existing store is left as it is, or upgraded. With `--admin NAME`
    the first administrator is created too; the password is asked for (twice, hidden)
    unless `--password-stdin` is given, and the command fails if NAME already exists.
    """
    if admin_name is None and (password_stdin or display_name or email):
        raise InvalidInput("--password-stdin, --name and --email need --admin NAME")
    settings = settings_from(ctx, db)
    status = init_database(settings)
    if status.before is None:
        console.print(f"Created the clientbase store at {status.url} (schema {status.after}).")
    else:
        console.print(f"The clientbase store at {status.url} is ready (schema {status.after}).")
    if admin_name is not None:
        _first_admin(settings, admin_name, password_stdin, display_name, email)


def _first_admin(
    settings: Settings,
    username: str,
    password_stdin: bool,
    display_name: str | None,
    email: str | None,
) -> None:
    operator = Actor.local_operator()
    engine = connect(settings)
    try:
        if find_user(engine, operator, username) is not None:
            raise Conflict(
                f"a user named {username!r} already exists: no administrator was added",
                hint="choose another name, or manage users with `clientbase users`",
            )
        password = read_password(password_stdin)
        user = add_user(
            engine,
            operator,
            username=username,
            display_name=display_name or username,
            role=Role.ADMIN,
            password=password,
            email=email,
        )
    finally:
        engine.dispose()
    console.print(f"Added admin {user.username!r} (id {user.id}): sign in with `clientbase serve`.")


def db_upgrade(ctx: typer.Context, db: DbOption = None) -> None:
    """Upgrade the database schema to this version of clientbase (run after updating)."""
    status = upgrade_database(settings_from(ctx, db))
    if status.before == status.after:
        console.print(f"Schema already current ({status.after}) at {status.url}.")
    else:
        console.print(
            f"Schema upgraded {status.before or 'empty'} -> {status.after} at {status.url}."
        )


def _print_stats(title: str, stats: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in stats.items():
        if rows:
            table.add_row(name, f"{rows:,}")
    table.add_row("[b]total[/b]", f"[b]{sum(stats.values()):,}[/b]")
    console.print(table)


def backup_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="New file to write the backup to (SQLite format).")],
    db: DbOption = None,
) -> None:
    """Write a consistent copy of the store to FILE, even while it is in use.

    The backup is a SQLite file whatever the database is, so it can be restored into
    SQLite or PostgreSQL: `clientbase restore FILE`.
    """
    stats = backup(settings_from(ctx, db), file, Actor.local_operator())
    _print_stats(f"Backup written to {file}", stats)


def restore_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Backup file written by `clientbase backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before replacing the store's content.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Replace the whole content of the store with the backup in FILE.

    Everything in the target store is replaced, in one transaction: if anything fails,
    the store keeps its old content.
    """
    settings = settings_from(ctx, db)
    if not yes and not typer.confirm(
        "This replaces everything in the store with the backup. Continue?", default=False
    ):
        raise InvalidInput("restore cancelled: nothing was changed")
    stats = restore(settings, file, Actor.local_operator())
    _print_stats(f"Store restored from {file}", stats)
