"""``clientbase users add|disable|list`` and ``clientbase tokens create``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from clientbase.cli.common import console, read_password, settings_from
from clientbase.domain.vocabulary import Role
from clientbase.security.actor import Actor
from clientbase.services.database import connect
from clientbase.services.sign_in import create_token
from clientbase.services.users import add_user, disable_user, list_users

users_app = typer.Typer(help="Manage the people who sign in to clientbase.", no_args_is_help=True)
tokens_app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL.")]


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
    users_app.command("add")(users_add)
    users_app.command("disable")(users_disable)
    users_app.command("list")(users_list)
    tokens_app.command("create")(tokens_create)


def users_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Sign-in name (no spaces).")],
    role: Annotated[Role, typer.Option("--role", help="admin, manager, analyst, representative")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    manager: Annotated[
        str | None, typer.Option("--manager", help="User name of their manager (team).")
    ] = None,
    locale: Annotated[str, typer.Option("--locale", help="en, hu or pl")] = "en",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Add a user; the password is asked for (twice) unless --password-stdin is given."""
    password = read_password(password_stdin)
    engine = connect(settings_from(ctx, db))
    try:
        user = add_user(
            engine,
            Actor.local_operator(),
            username=username,
            display_name=name or username,
            role=role,
            password=password,
            email=email,
            manager=manager,
            locale=locale,
        )
    finally:
        engine.dispose()
    console.print(f"Added {user.role} {user.username!r} (id {user.id}).")


def users_disable(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user to disable.")],
    db: DbOption = None,
) -> None:
    """Disable a user: their sessions and API tokens stop working at once."""
    engine = connect(settings_from(ctx, db))
    try:
        disable_user(engine, Actor.local_operator(), username)
    finally:
        engine.dispose()
    console.print(f"Disabled {username!r}; their sessions and tokens no longer work.")


def users_list(ctx: typer.Context, db: DbOption = None) -> None:
    """List users with their role, team and state."""
    engine = connect(settings_from(ctx, db))
    try:
        users = list_users(engine, Actor.local_operator())
    finally:
        engine.dispose()
    names = {u.id: u.username for u in users}
    table = Table(title="Users")
    for column in ("id", "user name", "name", "role", "manager", "language", "state"):
        table.add_column(column)
    for u in users:
        table.add_row(
            str(u.id),
            u.username,
            u.display_name,
            u.role,
            names.get(u.manager_id or 0, ""),
            u.locale,
            "active" if u.active else "disabled",
        )
    console.print(table)


def tokens_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Whose token it is.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "api",
    days: Annotated[int, typer.Option("--days", help="Lifetime in days (0: no expiry).")] = 90,
    db: DbOption = None,
) -> None:
    """Create an API bearer token; it is shown once and stored only as a hash."""
    engine = connect(settings_from(ctx, db))
    try:
        token = create_token(engine, Actor.local_operator(), username, name, days or None)
    finally:
        engine.dispose()
    console.print(token, soft_wrap=True)
