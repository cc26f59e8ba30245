"""The ``clientbase`` command: global options, command registration and error handling.

Errors are printed as one readable line (no traceback unless ``--debug``) and the exit code
comes from the error's type (see :mod:`clientbase.errors`): 65 bad input, 66 not found,
74 storage, 77 permission, 78 configuration, 70 internal error, 130 interrupted.
"""

from __future__ import annotations

import sys
from typing import Annotated

import click
import typer

from clientbase.cli import admin, clv, demo, imports
from clientbase.cli import analyze as analyze_cli
from clientbase.cli import scoring as scoring_cli
from clientbase.cli import serve as serve_cli
from clientbase.cli import users as users_cli
from clientbase.cli.common import CliState, err_console
from clientbase.errors import ClientbaseError

__all__ = ["app", "main"]

app = typer.Typer(
    name="clientbase",
    help=(
        "clientbase turns your customer records into decisions: the loyalty ladder, value "
        "categories, profit and lifetime value of every customer.\n\n"
        "Start with `clientbase demo` to build a demo business, or "
        "`clientbase init --admin NAME` and `clientbase import customers FILE` to load your own."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",
)

_state = CliState()


@app.callback()
def _global(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help=(
                "Database URL for every command "
                "(default: CLIENTBASE_DB or the embedded SQLite file)."
            ),
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback on errors.")
    ] = False,
) -> None:
    _state.db = db
    _state.debug = debug
    ctx.obj = _state


admin.register(app)
imports.register(app)
clv.register(app)
scoring_cli.register(app)
analyze_cli.register(app)
demo.register(app)
users_cli.register(app)
serve_cli.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``clientbase`` script."""
    try:
        result = app(args=argv, standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # Typer's own usage errors (a bad option value...)
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"[bold red]error:[/] {exc.format_message()}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except (click.Abort, typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted")
        sys.exit(130)
    except ClientbaseError as exc:
        if _state.debug:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if _state.debug:
            raise
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc} "
            "(run again with --debug for the traceback, and please report it)",
            soft_wrap=True,
        )
        sys.exit(70)
    sys.exit(result if isinstance(result, int) else 0)
