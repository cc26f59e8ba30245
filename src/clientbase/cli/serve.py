"""``clientbase serve``: the REST API and the dashboard in one uvicorn process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from clientbase.cli.common import console, settings_from
from clientbase.config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from clientbase.services.demo_access import DemoLogin

# The web stack (FastAPI, Jinja2, Altair) is imported when `serve` runs, not when any
# other command starts: the CLI stays quick.

__all__ = ["build_app", "register"]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def build_app(settings: Settings) -> FastAPI:
    """The API under /api/v1 and the dashboard at /, on the configured store.

    Raises ``ConfigurationError`` at once when the secret key is missing or insecure.
    """
    from clientbase.api.app import create_app
    from clientbase.services.database import connect
    from clientbase.web.app import install

    settings.require_secret_key()
    engine = connect(settings)
    app = create_app(settings, engine)
    install(app)
    return app


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
) -> None:
    """Serve the dashboard and the REST API (OpenAPI at /api/v1/docs).

    In demo mode (CLIENTBASE_DEMO=true) the demo staff get public passwords, one login per
    role, printed here.
    """
    import uvicorn

    from clientbase.services.demo_access import grant_demo_logins

    settings = settings_from(ctx, db)
    app = build_app(settings)
    console.print(f"clientbase is serving at http://{host}:{port}/ (API docs: /api/v1/docs)")
    if settings.demo:
        _print_logins(grant_demo_logins(app.state.engine, settings))
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _print_logins(logins: list[DemoLogin]) -> None:
    table = Table(title="Demo logins (demo mode only: public passwords)")
    for column in ("role", "user name", "password", "name"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.role, login.username, login.password, login.display_name)
    console.print(table)
