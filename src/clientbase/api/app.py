"""The FastAPI application of the REST API (the dashboard adds its pages to it)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

import clientbase
from clientbase.api.errors import ErrorResponse, install_error_handling
from clientbase.api.routes import analytics, customers, events, imports, users
from clientbase.config import Settings

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    """The application with the API under ``/api/v1``, its error model and request ids."""
    app = FastAPI(
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
