"""Adding the dashboard (pages and vendored static files) to the application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from clientbase.web import admin_pages, analysis_pages, import_pages
from clientbase.web.pages import router

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Mount the dashboard on ``app`` (whose state holds the engine and the settings)."""
    app.state.settings.require_secret_key()
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(router)
    app.include_router(analysis_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(import_pages.router)
