"""User administration for admins: list, add and disable users (every form with CSRF).

The services decide who may do what (``users.manage``); the page only hides what a role
cannot use and turns refusals of the input into a message in the user's language.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse

from clientbase.domain.vocabulary import Role
from clientbase.errors import Conflict, InvalidInput, PermissionDenied
from clientbase.services.users import LOCALES, add_user, disable_user, list_users
from clientbase.web.context import Page, PageDep, WebRoute, render

__all__ = ["router"]

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _users_page(page: Page, error: str | None = None, status: int = 200) -> HTMLResponse:
    if not page.may("users.manage"):
        raise PermissionDenied("only administrators manage users")
    users = list_users(page.engine, page.actor)
    return render(
        page.request,
        "users.html",
        page.lang,
        status=status,
        page=page,
        active="users",
        users=users,
        managers=[u for u in users if u.role == Role.MANAGER and u.active],
        roles=[r.value for r in Role],
        locales=LOCALES,
        error=error,
        done=page.request.query_params.get("done"),
    )


@router.get("/users")
def users_page(page: PageDep) -> HTMLResponse:
    return _users_page(page)


@router.post("/users", response_model=None)
def users_add(
    page: PageDep,
    username: Annotated[str, Form(max_length=80)],
    display_name: Annotated[str, Form(max_length=200)],
    role: Annotated[Role, Form()],
    password: Annotated[str, Form(max_length=200)],
    manager: Annotated[str, Form(max_length=80)] = "",
    locale: Annotated[str, Form(max_length=5)] = "en",
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    page.check_csrf(csrf)
    _ = page.lang.gettext
    try:
        add_user(
            page.engine,
            page.actor,
            username=username,
            display_name=display_name,
            role=role,
            password=password,
            manager=manager or None,
            locale=locale,
        )
    except Conflict:
        return _users_page(page, _("A user with this name already exists."), 409)
    except InvalidInput:
        message = _("Check the fields: a user name without spaces, a password of 8 characters.")
        return _users_page(page, message, 422)
    return RedirectResponse("/users?done=added", status_code=303)


@router.post("/users/{username}/disable")
def users_disable(
    page: PageDep, username: str, csrf: Annotated[str, Form()] = ""
) -> RedirectResponse:
    page.check_csrf(csrf)
    disable_user(page.engine, page.actor, username)
    return RedirectResponse("/users?done=disabled", status_code=303)
