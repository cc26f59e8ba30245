"""What every command shares: the consoles, the global options and output helpers."""

from __future__ import annotations

from dataclasses import dataclass

import typer
from rich.console import Console

from clientbase.config import Settings, get_settings
from clientbase.errors import InvalidInput

__all__ = ["CliState", "console", "err_console", "read_password", "settings_from"]

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
