"""``/users`` and ``/me``."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from clientbase.api.deps import ActorDep, EngineDep
from clientbase.domain.vocabulary import Role
from clientbase.services.users import UserView, add_user, disable_user, get_user, list_users

router = APIRouter(tags=["users"])


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=80)
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str | None = Field(default=None, min_length=8, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    manager: str | None = Field(default=None, max_length=80)
    locale: str = Field(default="en", pattern="^(en|hu|pl)$")


@router.get("/me", summary="The caller")
def me(engine: EngineDep, actor: ActorDep) -> UserView:
    return get_user(engine, actor, actor.user_id or 0)


@router.get("/users", summary="List users")
def users_list(engine: EngineDep, actor: ActorDep) -> list[UserView]:
    """Admins and analysts see everyone, a manager their team, others themselves."""
    return list_users(engine, actor)


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Add a user")
def users_create(engine: EngineDep, actor: ActorDep, body: NewUser) -> UserView:
    return add_user(
        engine,
        actor,
        username=body.username,
        display_name=body.display_name,
        role=body.role,
        password=body.password,
        email=body.email,
        manager=body.manager,
        locale=body.locale,
    )


@router.get("/users/{user_id}", summary="One user")
def users_detail(engine: EngineDep, actor: ActorDep, user_id: int) -> UserView:
    return get_user(engine, actor, user_id)


@router.post("/users/{user_id}/disable", summary="Disable a user and end their sessions")
def users_disable(engine: EngineDep, actor: ActorDep, user_id: int) -> UserView:
    user = get_user(engine, actor, user_id)
    return disable_user(engine, actor, user.username)
