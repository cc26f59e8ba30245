"""The import page: upload a file (kind, optional mapping), read the row-level report, commit.

The check and the commit run in a background thread of the server
(:func:`clientbase.services.import_uploads.start_upload` / ``start_commit``); a request
waits :data:`WAIT_SECONDS` for them, so that a small file's answer comes at once, and
otherwise the page shows the progress recorded by the work (rows read, fields checked,
rows written) and polls ``/imports/{id}/status`` with htmx until the report or the summary
replaces it. ``/imports/{id}`` shows the same after a reload.

Admins may import any kind, managers customers, orders and events of their team
(``imports.run`` and the team scope, decided by the services); the page offers a user only
the kinds they may import and is not offered to other roles. Every form carries the CSRF
token. Problems with the file itself (unreadable, wrong mapping, unknown kind) are shown
above the form in the user's language with the service's own detail beneath.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse

from clientbase.errors import InvalidInput, PermissionDenied
from clientbase.security.rbac import may_import
from clientbase.services.import_uploads import (
    IMPORT_KINDS,
    MAX_ISSUES_SHOWN,
    ImportStatus,
    import_status,
    start_commit,
    start_upload,
)
from clientbase.web.context import Page, PageDep, WebRoute, render

__all__ = ["KIND_NAMES", "router"]

router = APIRouter(route_class=WebRoute, include_in_schema=False)

#: What each import kind is called on the page (translated in the catalogues).
KIND_NAMES: dict[str, str] = {
    "customers": "Customers",
    "users": "Users",
    "partners": "Partners",
    "products": "Products",
    "campaigns": "Campaigns",
    "orders": "Orders",
    "order-lines": "Order lines",
    "events": "Events",
    "campaign-members": "Campaign members",
}


#: How long a request waits for the check or commit it started before answering with
#: the progress (a small file's report comes at once; a large one's page follows the work).
WAIT_SECONDS = 1.5


def _context(page: Page, **context: Any) -> dict[str, Any]:
    if not page.may("imports.run"):
        raise PermissionDenied("only administrators and managers import files")
    return {"page": page, "kind_names": KIND_NAMES, **context}


def _page(
    page: Page,
    *,
    status: ImportStatus | None = None,
    error: str | None = None,
    detail: str | None = None,
    kind: str = "customers",
    code: int = 200,
) -> HTMLResponse:
    context = _context(page, job=status, outcome=status.outcome if status else None)
    return render(
        page.request,
        "imports.html",
        page.lang,
        status=code,
        active="imports",
        kinds=[(k, KIND_NAMES.get(k, k)) for k in IMPORT_KINDS if may_import(page.actor, k)],
        kind=status.kind if status else kind,
        error=error,
        detail=detail,
        shown_max=MAX_ISSUES_SHOWN,
        **context,
    )


def _code(status: ImportStatus) -> int:
    """422 when the file could not be checked, or the commit was refused or failed."""
    if status.state == "failed":
        return 422
    if status.action == "commit" and status.outcome is not None and not status.outcome.committed:
        return 422
    return 200


@router.get("/imports")
def imports_page(page: PageDep) -> HTMLResponse:
    return _page(page)


@router.post("/imports")
def imports_upload(
    page: PageDep,
    kind: Annotated[str, Form(max_length=20)],
    file: Annotated[UploadFile, File()],
    mapping: Annotated[UploadFile | None, File()] = None,
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse:
    page.check_csrf(csrf)
    _ = page.lang.gettext
    # Browsers send an empty part when no mapping file was chosen.
    mapping_file = mapping.file if mapping is not None and mapping.filename else None
    try:
        status = start_upload(
            page.engine,
            page.settings,
            page.actor,
            kind,
            file.filename or "upload.csv",
            file.file,
            mapping=mapping_file,
            language=page.lang.code,
            wait=WAIT_SECONDS,
        )
    except InvalidInput as exc:
        message = _("The file cannot be imported as it is.")
        return _page(page, error=message, detail=exc.message, kind=kind, code=422)
    return _page(page, status=status, code=_code(status))


@router.get("/imports/{upload_id}")
def imports_upload_page(page: PageDep, upload_id: str) -> HTMLResponse:
    """The page of one upload: its check's report, or its commit's progress or summary."""
    status = import_status(
        page.engine, page.settings, page.actor, upload_id, language=page.lang.code
    )
    return _page(page, status=status)


@router.get("/imports/{upload_id}/status")
def imports_status(page: PageDep, upload_id: str) -> HTMLResponse:
    """The status fragment the page polls while the check or commit runs."""
    status = import_status(
        page.engine, page.settings, page.actor, upload_id, language=page.lang.code
    )
    context = _context(page, job=status, outcome=status.outcome)
    return render(page.request, "imports_status.html", page.lang, **context)


@router.post("/imports/{upload_id}/commit")
def imports_commit(
    page: PageDep, upload_id: str, csrf: Annotated[str, Form()] = ""
) -> HTMLResponse:
    page.check_csrf(csrf)
    status = start_commit(
        page.engine,
        page.settings,
        page.actor,
        upload_id,
        language=page.lang.code,
        wait=WAIT_SECONDS,
    )
    return _page(page, status=status, code=_code(status))
