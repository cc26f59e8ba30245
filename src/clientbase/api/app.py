"""The FastAPI application of the REST API (the dashboard adds its pages to it)."""

from __future__ import annotations

import gc
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
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Set the server process up for serving: its threads (below) and its garbage
    collector (:func:`_freeze_startup_objects`).

    The requests' blocking work runs on ``settings.threads`` threads of this process.

    The work is mostly Python holding the GIL between short database calls. With AnyIO's
    default of 40 threads, 50 busy clients kept 40 threads fighting for the GIL: the
    switching doubled the CPU a request cost and made waits longer for everyone. A few
    threads still overlap the database's waits (PostgreSQL round trips, SQLite I/O), and a
    request beyond them waits its turn in order instead.
    """
    settings: Settings = app.state.settings
    to_thread.current_default_thread_limiter().total_tokens = settings.threads
    freeze = bool(getattr(app.state, "freeze_startup_objects", False))
    if freeze:
        _freeze_startup_objects()
    try:
        yield
    finally:
        if freeze:
            gc.unfreeze()  # an application stopped in a process that goes on


def _freeze_startup_objects() -> None:
    """Keep the objects made at start-up out of the garbage collector's full collections.

    A server process holds about 240,000 long-lived objects (the modules, the
    application, the ORM's and the validators' structures), and Python's full (oldest
    generation) collection walks all of them: on the 1M demo under load every process
    paused for about 100 ms every few seconds, finding nothing to free, while the requests
    in flight waited (and, on SQLite, so did the other processes' read-audit batches behind
    the paused one's turn on the write lock): the customer 360's p99 was 120-170 ms for a
    p95 of 35-65 ms. Frozen after one collection, they are never walked again, and a full
    collection of what the requests leave behind takes about 5 ms.
    """
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings, engine: Engine, *, freeze_startup_objects: bool = False
) -> FastAPI:
    """The application with the API under ``/api/v1``, its error model and request ids.

    ``freeze_startup_objects``: the process serves this application and nothing else (the
    server's workers), so its start-up objects are frozen out of the garbage collector's
    full collections (:func:`_freeze_startup_objects`) while it runs; an application
    embedded in another program, or one of many in a test run, leaves the collector alone.
    """
    app = FastAPI(
        lifespan=_lifespan,
        title="clientbase",
        version=clientbase.__version__,
        description="Customer-base intelligence. Authenticate with `Authorization: Bearer`.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.freeze_startup_objects = freeze_startup_objects
    install_error_handling(app)
    errors = {code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422)}
    api = APIRouter(prefix=API_PREFIX, responses=errors)  # type: ignore[arg-type]
    for module in (customers, events, users, analytics, imports):
        api.include_router(module.router)
    app.include_router(api)
    return app
