"""The import page: upload a file (kind, optional mapping), read the row-level report, commit.

Admins may import (``imports.run``, decided by the services); the page is not
offered to other roles. Every form carries the CSRF token. Problems with the file itself
(unreadable, wrong mapping, unknown kind) are shown above the form in the user's language
with the service's own detail beneath.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse

from clientbase.errors import InvalidInput, PermissionDenied
from clientbase.services.import_uploads import (
    IMPORT_KINDS,
    MAX_ISSUES_SHOWN,
    ImportOutcome,
    commit_import,
    upload_import,
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


def _page(
    page: Page,
    *,
    outcome: ImportOutcome | None = None,
    error: str | None = None,
    detail: str | None = None,
    kind: str = "customers",
    status: int = 200,
) -> HTMLResponse:
    if not page.may("imports.run"):
        raise PermissionDenied("only administrators import files")
    return render(
        page.request,
        "imports.html",
        page.lang,
        status=status,
        page=page,
        active="imports",
        kinds=[(k, KIND_NAMES.get(k, k)) for k in IMPORT_KINDS],
        kind=kind,
        kind_names=KIND_NAMES,
        outcome=outcome,
        error=error,
        detail=detail,
        shown_max=MAX_ISSUES_SHOWN,
    )


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
        outcome = upload_import(
            page.engine,
            page.settings,
            page.actor,
            kind,
            file.filename or "upload.csv",
            file.file,
            mapping=mapping_file,
            language=page.lang.code,
        )
    except InvalidInput as exc:
        message = _("The file cannot be imported as it is.")
        return _page(page, error=message, detail=exc.message, kind=kind, status=422)
    return _page(page, outcome=outcome, kind=outcome.kind)


@router.post("/imports/{upload_id}/commit")
def imports_commit(
    page: PageDep, upload_id: str, csrf: Annotated[str, Form()] = ""
) -> HTMLResponse:
    page.check_csrf(csrf)
    outcome = commit_import(
        page.engine, page.settings, page.actor, upload_id, language=page.lang.code
    )
    return _page(page, outcome=outcome, kind=outcome.kind, status=200 if outcome.committed else 422)
