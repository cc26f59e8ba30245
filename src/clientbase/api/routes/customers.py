"""``/customers``: list with filters, search and keyset pages; export; detail; create; update."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from starlette.concurrency import run_in_threadpool

from clientbase.api.deps import ActorDep, EngineDep, SettingsDep
from clientbase.api.encoding import json_response
from clientbase.services.customer_fields import CustomerFields, CustomerPatch
from clientbase.services.customers import (
    CustomerDetail,
    CustomerFilter,
    CustomerPage,
    create_customer,
    list_customers,
    read_customer,
    update_customer,
)
from clientbase.services.events import EventFields, EventView, add_event
from clientbase.services.exports import ExportFormat, export_customers

router = APIRouter(prefix="/customers", tags=["customers"])


async def _filters(
    q: Annotated[str | None, Query(max_length=200, description="Search text.")] = None,
    kind: Annotated[str | None, Query(max_length=10)] = None,
    channel: Annotated[str | None, Query(max_length=20)] = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    city: Annotated[str | None, Query(max_length=120)] = None,
    owner_id: int | None = None,
    rung: Annotated[int | None, Query(ge=1, le=7)] = None,
    category: Annotated[str | None, Query(max_length=12)] = None,
    segment: Annotated[
        str | None,
        Query(max_length=12, description="A named list: `at_risk` or `loss_makers`."),
    ] = None,
) -> CustomerFilter:
    """The list's query parameters, shared by the list and the export (``async``: no
    worker-thread hop for building a value)."""
    return CustomerFilter(
        q=q,
        kind=kind,
        channel=channel,
        country=country,
        city=city,
        owner_id=owner_id,
        rung=rung,
        category=category,
        segment=segment,
    )


FiltersDep = Annotated[CustomerFilter, Depends(_filters)]


@router.get("", summary="List and search customers", response_model=CustomerPage)
def customers_list(
    engine: EngineDep,
    actor: ActorDep,
    filters: FiltersDep,
    after: Annotated[int | None, Query(description="Keyset cursor: `next_after`.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """Customers visible to the caller, by id. ``total`` counts all matches, not the page."""
    return json_response(list_customers(engine, actor, filters, after=after, limit=limit))


@router.get(
    "/export",
    summary="Export customers as CSV or XLSX",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/vnd.ms-excel": {}}}},
)
def customers_export(
    engine: EngineDep,
    settings: SettingsDep,
    actor: ActorDep,
    filters: FiltersDep,
    format: ExportFormat = ExportFormat.CSV,
) -> Response:
    file = export_customers(engine, settings, actor, filters, format)
    return Response(
        file.content,
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )


@router.get("/{customer_id}", summary="Customer 360", response_model=CustomerDetail)
async def customers_detail(engine: EngineDep, actor: ActorDep, customer_id: int) -> Response:
    """The read runs on a worker thread; the wait for its audit entry holds none."""
    read = await run_in_threadpool(read_customer, engine, actor, customer_id)
    return json_response(await read.audited_async())


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a customer")
def customers_create(engine: EngineDep, actor: ActorDep, body: CustomerFields) -> CustomerDetail:
    """The new customer is owned by the caller; read-only fields are refused (422)."""
    return create_customer(engine, actor, body)


@router.patch("/{customer_id}", summary="Change a customer")
def customers_update(
    engine: EngineDep, actor: ActorDep, customer_id: int, body: CustomerPatch
) -> CustomerDetail:
    """Only the fields given change; read-only fields are refused (422)."""
    return update_customer(engine, actor, customer_id, body)


@router.post(
    "/{customer_id}/events", status_code=status.HTTP_201_CREATED, summary="Record an event"
)
def customers_add_event(
    engine: EngineDep, actor: ActorDep, customer_id: int, body: EventFields
) -> EventView:
    return add_event(engine, actor, customer_id, body)
