"""One error model for every API answer, built from :mod:`clientbase.errors`, and request ids.

Every response carries ``X-Request-ID`` (the caller's, when it is a sane token, else a new
one); error bodies repeat it so that a user's report can be matched with the server log.
"""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clientbase.errors import ClientbaseError

__all__ = ["ErrorBody", "ErrorResponse", "install_error_handling", "request_id"]

log = logging.getLogger("clientbase.api")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Vega compiles its expressions with Function(): 'unsafe-eval' is needed for charts.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    ),
}


class ErrorBody(BaseModel):
    code: str
    message: str
    hint: str | None = None
    fields: list[str] | None = None
    request_id: str


class ErrorResponse(BaseModel):
    """The body of every 4xx and 5xx answer."""

    error: ErrorBody


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    hint: str | None = None,
    fields: list[str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(
        error=ErrorBody(
            code=code, message=message, hint=hint, fields=fields, request_id=request_id(request)
        )
    )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


async def _clientbase_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClientbaseError)
    if exc.http_status >= 500:
        log.error("request %s failed: %s", request_id(request), exc)
    return error_response(request, exc.http_status, exc.code, exc.message, exc.hint)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Only locations, never the values: they may be personal data.
    fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
    return error_response(request, 422, "invalid_input", "the request is not valid", fields=fields)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 401: "authentication"}.get(
        exc.status_code, "http_error"
    )
    return error_response(request, exc.status_code, code, str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("request %s: internal error %s", request_id(request), type(exc).__name__)
    return error_response(request, 500, "internal", "internal error; please report it")


def install_error_handling(app: FastAPI) -> None:
    """Map the exception tree to the error model and tag every request with an id."""
    app.add_exception_handler(ClientbaseError, _clientbase_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

    app.add_middleware(RequestIdMiddleware)


class RequestIdMiddleware:
    """Tag each request with an id and add it and the security headers to every answer.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``) runs
    the rest of the application in a task behind memory streams, which cost a noticeable
    share of a small API answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        extra = [(b"x-request-id", rid.encode("latin-1"))]

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += extra
                headers += [h for h in _SECURITY_RAW if h[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, tagged)


_SECURITY_RAW = [
    (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()
]
