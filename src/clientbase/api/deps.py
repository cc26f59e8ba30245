"""Request dependencies of the API: the engine, the settings and the bearer-token actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from clientbase.config import Settings
from clientbase.errors import AuthenticationFailed
from clientbase.security.actor import Actor
from clientbase.services.sign_in import actor_for_token

__all__ = ["ActorDep", "EngineDep", "SettingsDep"]

_bearer = HTTPBearer(auto_error=False, description="An API token from `clientbase tokens create`.")


# The plain lookups are ``async``: FastAPI runs a plain ``def`` dependency in a worker
# thread, a hop that costs more than the lookup itself.
async def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _actor(
    engine: Annotated[Engine, Depends(_engine)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    # On the event loop: one indexed lookup by primary key and unique digest (well under a
    # millisecond) costs less there than the hop to a worker thread and back, which every
    # API request would otherwise make once more before its own work.
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationFailed("an API token is needed: Authorization: Bearer <token>")
    return actor_for_token(engine, credentials.credentials).actor


EngineDep = Annotated[Engine, Depends(_engine)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ActorDep = Annotated[Actor, Depends(_actor)]
