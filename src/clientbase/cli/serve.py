"""``clientbase serve``: the REST API and the dashboard, in one or more uvicorn processes.

With ``--workers N`` N processes serve the port (on Linux each with its own socket, see
:mod:`clientbase.cli.workers`; elsewhere uvicorn's workers); each builds the application
with :func:`app_from_env`, reading its settings (``CLIENTBASE_DB`` and the rest) from the
environment through :mod:`clientbase.config`, so every process opens its own engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from clientbase.cli.common import console, settings_from
from clientbase.cli.workers import balanced_workers_supported, run_workers
from clientbase.config import Settings, hand_down_to_workers

if TYPE_CHECKING:
    from fastapi import FastAPI

    from clientbase.services.demo_access import DemoLogin

# The web stack (FastAPI, Jinja2, Altair) is imported when `serve` runs, not when any
# other command starts: the CLI stays quick.

__all__ = ["WORKER_HEALTHCHECK_SECONDS", "app_from_env", "build_app", "register"]

#: How long uvicorn's supervisor waits for a worker to answer its health check before it
#: kills and replaces it. Uvicorn's 5 s is shorter than a worker's start (it imports the
#: whole CLI and web stack before it can answer) on a busy machine, and than a GIL-bound
#: worker may take to answer under load: workers were killed and restarted in a loop.
WORKER_HEALTHCHECK_SECONDS = 60


#: The application factory every worker process calls.
_APP = "clientbase.cli.serve:app_from_env"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def build_app(settings: Settings) -> FastAPI:
    """The API under /api/v1 and the dashboard at /, on the configured store.

    Raises ``ConfigurationError`` at once when the secret key is missing or insecure.
    """
    from clientbase.api.app import create_app
    from clientbase.storage.database import open_engine
    from clientbase.storage.schema import check_current
    from clientbase.web.app import install

    settings.require_secret_key()
    engine = open_engine(
        settings.database_url,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    try:
        check_current(engine)
    except BaseException:
        engine.dispose()
        raise
    app = create_app(settings, engine, freeze_startup_objects=True)
    install(app)
    return app


def app_from_env() -> FastAPI:
    """The application factory of each server process: settings from the environment."""
    from clientbase.config import get_settings

    return build_app(get_settings())


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes (default: CLIENTBASE_WORKERS, else 2). Each has its own "
            "connection pool of CLIENTBASE_DB_POOL_SIZE + CLIENTBASE_DB_MAX_OVERFLOW.",
        ),
    ] = None,
) -> None:
    """Serve the dashboard and the REST API (OpenAPI at /api/v1/docs).

    Several worker processes share the port (--workers); each reads its settings from the
    environment (CLIENTBASE_DB, ...), and the figures each caches are its own.

    In demo mode (CLIENTBASE_DEMO=true) the demo staff get public passwords, one login per
    role, printed here.
    """
    import uvicorn

    from clientbase.services.demo_access import grant_demo_logins

    settings = settings_from(ctx, db)
    app = build_app(settings)  # fails fast on a bad key or schema before any worker starts
    if settings.demo:
        _print_logins(grant_demo_logins(app.state.engine, settings))
    app.state.engine.dispose()
    count = workers or settings.workers
    hand_down_to_workers(settings)
    console.print(
        f"clientbase is serving at http://{host}:{port}/ (API docs: /api/v1/docs), "
        f"{count} worker process{'es' if count > 1 else ''}"
    )
    if count > 1 and balanced_workers_supported():
        status = run_workers(_APP, host, port, count)
        if status:
            raise typer.Exit(status)
        return
    uvicorn.run(
        _APP,
        factory=True,
        host=host,
        port=port,
        workers=count,
        log_level="warning",
        access_log=False,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def _print_logins(logins: list[DemoLogin]) -> None:
    table = Table(title="Demo logins (demo mode only: public passwords)")
    for column in ("role", "user name", "password", "name"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.role, login.username, login.password, login.display_name)
    console.print(table)
