"""What every command shares: the consoles, the global options and output helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console

from clientbase.config import Settings, get_settings
from clientbase.errors import InvalidInput
from clientbase.security.actor import Actor

__all__ = [
    "CliState",
    "TokenOption",
    "acting_actor",
    "console",
    "err_console",
    "read_password",
    "settings_from",
]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass
class CliState:
    """Global options given before the command (``clientbase --db URL import …``)."""

    db: str | None = None
    debug: bool = False


def settings_from(ctx: typer.Context, db: str | None = None) -> Settings:
    """Settings with the command's and the global ``--db`` applied (command wins)."""
    state = ctx.find_object(CliState) or CliState()
    return get_settings(db=db or state.db, debug=state.debug or None)


def read_password(from_stdin: bool) -> str:
    """A new password: the first line of standard input, or asked for twice, hidden.

    The rules a password must meet are checked where it is hashed (the user service).
    """
    if from_stdin:
        password = typer.get_text_stream("stdin").readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise InvalidInput("a password is needed")
    return str(password)


TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        help=(
            "Act as the user of this API token (`clientbase tokens create`), seeing only what "
            "they may see; default: CLIENTBASE_TOKEN, else the local administrator. Prefer "
            "CLIENTBASE_TOKEN: a command line is visible to other users of the machine."
        ),
        show_default=False,
    ),
]


def acting_actor(settings: Settings, token: str | None = None) -> Actor:
    """Who a command acts as: the user of ``--token`` or CLIENTBASE_TOKEN, else the local
    operator (an administrator: whoever runs the CLI next to the store can read it anyway).

    Raises
    ------
    AuthenticationFailed
        The token is unknown, revoked or expired, or its user is disabled.
    """
    secret = token or (settings.token.get_secret_value() if settings.token else None)
    if not secret:
        return Actor.local_operator()
    from clientbase.services.database import connect
    from clientbase.services.users import actor_for_cli_token

    engine = connect(settings)
    try:
        actor = actor_for_cli_token(engine, secret)
    finally:
        engine.dispose()
    err_console.print(f"acting as {actor.username} ({actor.role})")
    return actor
