"""The dashboard's pages. Each handler calls one service and renders one template."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from clientbase.config import Settings
from clientbase.errors import AuthenticationFailed, PermissionDenied
from clientbase.security.credentials import csrf_valid
from clientbase.services.customers import CustomerFilter, get_customer, list_customers
from clientbase.services.exports import ExportFormat, export_customers
from clientbase.services.overview import overview
from clientbase.services.score_queries import customer_reasons
from clientbase.services.sign_in import sign_in, sign_out
from clientbase.services.users import set_locale
from clientbase.web import charts
from clientbase.web.context import (
    PRE_COOKIE,
    SESSION_COOKIE,
    PageDep,
    WebRoute,
    pre_sign_in_csrf,
    render,
)
from clientbase.web.i18n import language

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _login_page(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    settings = _settings(request)
    lang = language(
        request.query_params.get("lang") or request.cookies.get("cb_lang"), settings.currency
    )
    binding, csrf = pre_sign_in_csrf(request, settings)
    response = render(request, "login.html", lang, status=status, csrf=csrf, error=error)
    secure = request.url.scheme == "https"
    response.set_cookie(PRE_COOKIE, binding, httponly=True, samesite="strict", secure=secure)
    response.set_cookie("cb_lang", lang.code, samesite="lax", secure=secure)
    return response


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login", response_model=None)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    settings = _settings(request)
    binding = request.cookies.get(PRE_COOKIE, "")
    if not csrf_valid(settings.require_secret_key(), binding, csrf):
        return _login_page(request, "The form has expired; please try again.", 403)
    remote = request.client.host if request.client else None
    try:
        signed = sign_in(request.app.state.engine, settings, username, password, remote)
    except AuthenticationFailed as exc:
        return _login_page(request, exc.message, 401)
    response = RedirectResponse("/", status_code=303)
    secure = request.url.scheme == "https"
    max_age = int(settings.session_hours * 3600)
    response.set_cookie(
        SESSION_COOKIE, signed.token, max_age=max_age, httponly=True, samesite="lax", secure=secure
    )
    response.set_cookie("cb_lang", signed.user.locale, samesite="lax", secure=secure)
    response.delete_cookie(PRE_COOKIE)
    return response


@router.post("/logout")
def logout(page: PageDep, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    page.check_csrf(csrf)
    sign_out(page.engine, page.request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/language")
def change_language(
    page: PageDep,
    lang: Annotated[str, Form(max_length=5)],
    csrf: Annotated[str, Form()] = "",
    back: Annotated[str, Form(max_length=300)] = "/",
) -> RedirectResponse:
    page.check_csrf(csrf)
    set_locale(page.engine, page.actor, lang)
    target = back if back.startswith("/") and not back.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie("cb_lang", lang, samesite="lax")
    return response


@router.get("/")
def overview_page(page: PageDep) -> HTMLResponse:
    data = overview(page.engine, page.actor)
    return render(
        page.request,
        "overview.html",
        page.lang,
        page=page,
        data=data,
        ladder=charts.ladder_chart(data, page.lang),
        categories=charts.category_chart(data, page.lang),
    )


@router.get("/analysis")
def analysis_page(page: PageDep) -> HTMLResponse:
    data = overview(page.engine, page.actor)
    return render(
        page.request,
        "analysis.html",
        page.lang,
        page=page,
        active="analysis",
        data=data,
        whale=charts.whale_chart(data, page.lang),
        rfm=charts.rfm_chart(data, page.lang),
        channels=charts.channel_chart(data, page.lang),
    )


class ListQuery:
    def __init__(
        self,
        q: Annotated[str | None, Query(max_length=200)] = None,
        channel: Annotated[str | None, Query(max_length=20)] = None,
        city: Annotated[str | None, Query(max_length=120)] = None,
        rung: Annotated[int | None, Query(ge=1, le=7)] = None,
        category: Annotated[str | None, Query(max_length=12)] = None,
        segment: Annotated[str | None, Query(max_length=12)] = None,
        after: int | None = None,
    ) -> None:
        self.filters = CustomerFilter(
            q=q or None,
            channel=channel or None,
            city=city or None,
            rung=rung,
            category=category or None,
            segment=segment or None,
        )
        self.after = after


@router.get("/customers")
def customers_page(page: PageDep, query: Annotated[ListQuery, Depends()]) -> HTMLResponse:
    result = list_customers(page.engine, page.actor, query.filters, after=query.after, limit=50)
    partial = page.request.headers.get("hx-request") == "true"
    return render(
        page.request,
        "customers_rows.html" if partial else "customers.html",
        page.lang,
        page=page,
        active="customers",
        result=result,
        filters=query.filters,
        rungs=charts.RUNG_NAMES,
    )


@router.get("/customers/export")
def customers_export(
    page: PageDep,
    query: Annotated[ListQuery, Depends()],
    format: ExportFormat = ExportFormat.CSV,
) -> Response:
    if not page.may("customers.export"):
        raise PermissionDenied("your role may not export customers")
    file = export_customers(page.engine, page.settings, page.actor, query.filters, format)
    return Response(
        file.content,
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )


@router.get("/customers/{customer_id}")
def customer_page(page: PageDep, customer_id: int) -> HTMLResponse:
    detail = get_customer(page.engine, page.actor, customer_id)
    reasons = customer_reasons(page.engine, page.actor, customer_id, language=page.lang.code)
    return render(
        page.request,
        "customer.html",
        page.lang,
        page=page,
        c=detail,
        reasons=reasons,
        rungs=charts.RUNG_NAMES,
    )
