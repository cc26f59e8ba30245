"""The analytic pages: ladder funnel, value categories, profitability, channels, and the
at-risk and lost lists. Every figure comes from a service that scopes it to the user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from clientbase.errors import NotFound
from clientbase.services.customers import CustomerFilter, list_customers
from clientbase.services.overview import overview
from clientbase.services.score_queries import ladder_funnel, profitability
from clientbase.web import charts
from clientbase.web.context import PageDep, WebRoute, render

__all__ = ["router"]

router = APIRouter(route_class=WebRoute, include_in_schema=False)

#: The named lists: the filter behind each, its title and its explanation.
LISTS: dict[str, tuple[CustomerFilter, str, str]] = {
    "at-risk": (
        CustomerFilter(segment="at_risk"),
        "At-risk customers",
        "Good customers who have not bought for a while (RFM: at risk, can't lose, "
        "about to sleep) and are not lost yet.",
    ),
    "lost": (
        CustomerFilter(category="lost"),
        "Lost customers",
        "No longer buying: long past their own rhythm, unlikely to be alive, or cancelled.",
    ),
    "loss-makers": (
        CustomerFilter(segment="loss_makers"),
        "Loss-makers",
        "Customers whose net contribution is negative.",
    ),
}


@router.get("/funnel")
def funnel_page(page: PageDep, window: Annotated[int, Query(ge=30, le=1095)] = 365) -> HTMLResponse:
    try:
        report: dict[str, Any] | None = ladder_funnel(page.engine, page.actor, window_days=window)
    except NotFound:
        report = None
    conversion = report["conversion"] if report else []
    return render(
        page.request,
        "funnel.html",
        page.lang,
        page=page,
        active="funnel",
        report=report,
        window=window,
        rungs=charts.RUNG_NAMES,
        counts={int(r["rung"]): int(r["customers"]) for r in (report or {}).get("rungs", [])},
        conversion_spec=charts.conversion_chart(conversion, page.lang),
        climb_spec=charts.climb_chart(conversion, page.lang),
    )


@router.get("/categories")
def categories_page(page: PageDep) -> HTMLResponse:
    data = overview(page.engine, page.actor)
    try:
        report: dict[str, Any] | None = profitability(page.engine, page.actor, top_losses=1)
    except NotFound:
        report = None
    return render(
        page.request,
        "categories.html",
        page.lang,
        page=page,
        active="categories",
        report=report,
        rungs=charts.RUNG_NAMES,
        lines=charts.COST_LINE_NAMES,
        chart=charts.category_chart(data, page.lang),
    )


@router.get("/profitability")
def profitability_page(page: PageDep) -> HTMLResponse:
    try:
        report: dict[str, Any] | None = profitability(page.engine, page.actor, top_losses=25)
    except NotFound:
        report = None
    data = overview(page.engine, page.actor)
    losers = report["loss_makers"] if report else []
    return render(
        page.request,
        "profitability.html",
        page.lang,
        page=page,
        active="profitability",
        report=report,
        rungs=charts.RUNG_NAMES,
        lines=charts.COST_LINE_NAMES,
        whale=charts.whale_chart(data, page.lang),
        drivers=charts.driver_chart(losers, page.lang),
    )


@router.get("/channels")
def channels_page(page: PageDep) -> HTMLResponse:
    data = overview(page.engine, page.actor)
    return render(
        page.request,
        "channels.html",
        page.lang,
        page=page,
        active="channels",
        data=data,
        chart=charts.channel_chart(data, page.lang),
    )


@router.get("/lists/{name}")
def list_page(page: PageDep, name: str, after: int | None = None) -> HTMLResponse:
    if name not in LISTS:
        raise NotFound(f"no list {name!r}")
    flt, title, note = LISTS[name]
    result = list_customers(page.engine, page.actor, flt, after=after, limit=50)
    return render(
        page.request,
        "list.html",
        page.lang,
        page=page,
        active=name,
        title=title,
        note=note,
        result=result,
        filters=flt,
        base=f"/lists/{name}",
        rungs=charts.RUNG_NAMES,
    )
