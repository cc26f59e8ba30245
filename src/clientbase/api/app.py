"""The FastAPI application of the REST API (the dashboard adds its pages to it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

import clientbase
from clientbase.api.errors import ErrorResponse, install_error_handling
from clientbase.api.routes import analytics, customers, events, imports, users
from clientbase.config import Settings

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


@asynccontextmanager
async def _threads(app: FastAPI) -> AsyncIterator[None]:
    """Run the requests' blocking work on ``settings.threads`` threads of this process.

    The work is mostly Python holding the GIL between short database calls. With AnyIO's
    default of 40 threads, 50 busy clients kept 40 threads fighting for the GIL: the
    switching doubled the CPU a request cost and made waits longer for everyone. A few
    threads still overlap the database's waits (PostgreSQL round trips, SQLite I/O), and a
    request beyond them waits its turn in order instead.
    """
    settings: Settings = app.state.settings
    to_thread.current_default_thread_limiter().total_tokens = settings.threads
    yield


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    """The application with the API under ``/api/v1``, its error model and request ids."""
    app = FastAPI(
        lifespan=_threads,
        title="clientbase",
        version=clientbase.__version__,
        description="Customer-base intelligence. Authenticate with `Authorization: Bearer`.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    install_error_handling(app)
    errors = {code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422)}
    api = APIRouter(prefix=API_PREFIX, responses=errors)  # type: ignore[arg-type]
    for module in (customers, events, users, analytics, imports):
        api.include_router(module.router)
    app.include_router(api)
    return app
