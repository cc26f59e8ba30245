"""``/imports``: upload a file and get its row-level report, then commit it (all or nothing)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status

from clientbase.api.deps import ActorDep, EngineDep, SettingsDep
from clientbase.services.import_uploads import (
    IMPORT_KINDS,
    ImportOutcome,
    ImportStatus,
    commit_import,
    import_status,
    upload_import,
)

router = APIRouter(prefix="/imports", tags=["imports"])

#: The language of the reasons' sentences; every issue also carries its code and figures.
LanguageDep = Annotated[
    str, Query(pattern="^(en|hu|pl)$", description="Language of the reasons: en, hu or pl.")
]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Upload and check an import")
def imports_upload(
    engine: EngineDep,
    settings: SettingsDep,
    actor: ActorDep,
    kind: Annotated[str, Form(max_length=20, description=f"One of {', '.join(IMPORT_KINDS)}.")],
    file: Annotated[UploadFile, File(description="CSV, XLSX or Parquet.")],
    mapping: Annotated[UploadFile | None, File(description="A TOML column mapping.")] = None,
    lang: LanguageDep = "en",
) -> ImportOutcome:
    """Stage the file and validate every row; nothing is written to the store yet.

    Commit with ``POST /imports/{upload_id}/commit`` (admins and managers only).
    """
    return upload_import(
        engine,
        settings,
        actor,
        kind,
        file.filename or "upload.csv",
        file.file,
        mapping=mapping.file if mapping is not None else None,
        language=lang,
    )


@router.post("/{upload_id}/commit", summary="Commit a checked import")
def imports_commit(
    engine: EngineDep,
    settings: SettingsDep,
    actor: ActorDep,
    upload_id: str,
    lang: LanguageDep = "en",
) -> ImportOutcome:
    """Import the staged file, all or nothing. ``committed`` is false when rows were
    rejected (e.g. unknown references in the store): the report lists them, nothing changed.
    """
    return commit_import(engine, settings, actor, upload_id, language=lang)


@router.get("/{upload_id}", summary="Where an import stands")
def imports_status(
    engine: EngineDep,
    settings: SettingsDep,
    actor: ActorDep,
    upload_id: str,
    lang: LanguageDep = "en",
) -> ImportStatus:
    """The check or commit of one of your uploads: ``state`` (``running``, ``done``,
    ``failed``), ``stage``, rows read, fields checked, rows checked and written out of the
    total while it runs (recorded by the work itself), then its ``outcome``. A commit started
    on the dashboard, or by another request, can be followed here.
    """
    return import_status(engine, settings, actor, upload_id, language=lang)
