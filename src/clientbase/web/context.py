"""What every page needs: the engine, settings, the signed-in user, language, CSRF, templates.

Pages are signed in with the session cookie (HttpOnly, SameSite=Lax, Secure over TLS); every
form carries a CSRF token, an HMAC of the session (or, before sign-in, of a random cookie).
Errors of the services become pages here: 401 sends to the sign-in page, others render the
error page with the request id.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import Engine

from clientbase.config import Settings
from clientbase.errors import AuthenticationFailed, ClientbaseError, PermissionDenied
from clientbase.security.actor import Actor
from clientbase.security.credentials import csrf_token, csrf_valid
from clientbase.security.rbac import Permission, allowed
from clientbase.services.sign_in import Signed, actor_for_session
from clientbase.web.i18n import NAMES, Language, language
from clientbase.web.vega_locale import vega_locale

__all__ = ["PRE_COOKIE", "SESSION_COOKIE", "Page", "PageDep", "WebRoute", "render", "templates"]

SESSION_COOKIE = "cb_session"
PRE_COOKIE = "cb_pre"


def _spec_json(spec: dict[str, Any]) -> Markup:
    """A chart spec for a ``<script type="application/json">`` (``</`` cannot end the tag)."""
    return Markup(json.dumps(spec).replace("</", "<\\/"))  # noqa: S704


@cache
def templates() -> Jinja2Templates:
    """The page templates (autoescaped), made on first use."""
    made = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
    made.env.filters["spec_json"] = _spec_json
    return made


@dataclass(frozen=True, slots=True)
class Page:
    """The request's signed-in user and everything templates need from it."""

    request: Request
    engine: Engine
    settings: Settings
    user: Signed
    lang: Language
    csrf: str

    @property
    def actor(self) -> Actor:
        return self.user.actor

    def may(self, permission: str) -> bool:
        return allowed(self.actor, Permission(permission))

    def check_csrf(self, token: str | None) -> None:
        binding = self.request.cookies.get(SESSION_COOKIE, "")
        if not csrf_valid(self.settings.require_secret_key(), binding, token):
            raise PermissionDenied("the form has expired; reload the page and try again")


def _page(request: Request) -> Page:
    engine: Engine = request.app.state.engine
    settings: Settings = request.app.state.settings
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise AuthenticationFailed("not signed in")
    user = actor_for_session(engine, token)
    key = settings.require_secret_key()
    return Page(
        request=request,
        engine=engine,
        settings=settings,
        user=user,
        lang=language(user.locale, settings.currency),
        csrf=csrf_token(key, token),
    )


PageDep = Annotated[Page, Depends(_page)]


def render(
    request: Request, name: str, lang: Language, status: int = 200, **context: Any
) -> HTMLResponse:
    response: HTMLResponse = templates().TemplateResponse(
        request,
        name,
        {
            "_": lang.gettext,
            "lang": lang,
            "languages": NAMES,
            "vega_locale": vega_locale(lang.code, lang.locale, lang.currency),
            **context,
        },
        status_code=status,
    )
    return response


def pre_sign_in_csrf(request: Request, settings: Settings) -> tuple[str, str]:
    """The random pre-sign-in cookie value (existing or new) and its CSRF token."""
    binding = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    return binding, csrf_token(settings.require_secret_key(), binding)


class WebRoute(APIRoute):
    """A page route: service errors become pages, a missing session the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except AuthenticationFailed:
                response = RedirectResponse("/login", status_code=303)
                response.delete_cookie(SESSION_COOKIE)
                return response
            except ClientbaseError as exc:
                settings: Settings = request.app.state.settings
                lang = language(request.cookies.get("cb_lang"), settings.currency)
                return render(
                    request,
                    "error.html",
                    lang,
                    status=exc.http_status,
                    code=exc.code,
                    message=exc.message,
                    request_id=getattr(request.state, "request_id", "-"),
                )

        return route
