"""Imports through the dashboard and the API: upload and check, then commit.

1. :func:`upload_import` stages the uploaded file (and an optional TOML mapping) under
   ``<home>/uploads/<id>/`` and checks it without touching the store: the file is read and
   every row validated (types, required fields, allowed values, duplicates within the file).
   The answer is the row-level report (file, row, column, value, reason): each reason is
   a stable code with its figures and a sentence in the caller's language (en, hu, pl).
2. :func:`commit_import` imports the staged file with :func:`clientbase.services.imports.
   import_file`, all or nothing: references to records in the store are resolved there, so
   a commit can still be rejected, with its own report and nothing written.

Only roles with ``imports.run`` (admins) may do either, and an upload can be
committed only by the user who uploaded it. Staged files live on disk, so a deployment with
several server processes finds them from any of them; they are removed once committed and
after a day otherwise. Nothing here logs a cell value.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl
from sqlalchemy import Engine

from clientbase.config import Settings
from clientbase.errors import ImportRejected, InvalidInput, NotFound
from clientbase.ingest.issue_texts import LANGUAGES
from clientbase.ingest.kinds import KINDS, kind_spec
from clientbase.ingest.mapping import load_mapping
from clientbase.ingest.readers import read_table
from clientbase.ingest.report import ImportReport, with_reasons
from clientbase.ingest.validate import validate
from clientbase.security.actor import Actor
from clientbase.security.rbac import Permission, require
from clientbase.services.access import audited_denials
from clientbase.services.imports import import_file

__all__ = [
    "IMPORT_KINDS",
    "MAX_UPLOAD_BYTES",
    "ImportOutcome",
    "Issue",
    "commit_import",
    "upload_import",
]

#: The kinds a file may hold, in the order a business usually loads them.
IMPORT_KINDS: tuple[str, ...] = tuple(KINDS)
#: Largest accepted upload (data file); a mapping file may have 1 MB.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
_MAX_MAPPING_BYTES = 1024 * 1024
#: Row-level issues handed to a page or an API answer (the counts cover all of them).
MAX_ISSUES_SHOWN = 1000
_STALE_SECONDS = 24 * 3600
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".ods", ".parquet"}


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem of one row: the file, the row as a spreadsheet numbers it, the column,
    the value given, and the reason: its code (:mod:`clientbase.ingest.issue_texts`), its
    figures, and the sentence in the language asked for."""

    file: str
    row: int
    column: str | None
    value: str | None
    reason: str
    code: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """A checked or committed upload: the counts and the rows' issues.

    ``committed`` is false after the check and after a rejected commit (nothing written).
    ``errors`` holds at most :data:`MAX_ISSUES_SHOWN` rows; ``error_count`` counts all.
    """

    upload_id: str
    kind: str
    file: str
    rows: int
    imported: int
    updated: int
    unchanged: int
    rejected: int
    committed: bool
    error_count: int
    errors: list[Issue] = field(default_factory=list)
    warning_count: int = 0
    warnings: list[Issue] = field(default_factory=list)


def _uploads(settings: Settings) -> Path:
    return settings.home / "uploads"


def _safe_name(name: str) -> str:
    """The base name of an uploaded file, with characters unsafe in paths replaced."""
    base = Path(name.replace("\\", "/")).name.strip() or "upload.csv"
    clean = re.sub(r"[^\w.\- ]", "_", base)[:200].lstrip(".") or "upload.csv"
    if Path(clean).suffix.lower() not in _SUFFIXES:
        raise InvalidInput(
            f"cannot import a {Path(clean).suffix or 'nameless'} file: use CSV, XLSX or Parquet"
        )
    return clean


def _copy(source: BinaryIO, target: Path, limit: int) -> None:
    written = 0
    with target.open("wb") as out:
        while block := source.read(1 << 20):
            written += len(block)
            if written > limit:
                raise InvalidInput(f"the file is larger than {limit // (1024 * 1024)} MB")
            out.write(block)
    if written == 0:
        raise InvalidInput("the file is empty")


def _remove_stale(root: Path) -> None:
    if not root.is_dir():
        return
    cutoff = time.time() - _STALE_SECONDS
    for entry in root.iterdir():
        if entry.is_dir() and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)


def _issues(file: str, frame: pl.DataFrame, language: str) -> list[Issue]:
    shown = with_reasons(frame.head(MAX_ISSUES_SHOWN), language)
    return [
        Issue(file, int(row), column, value, reason, code, json.loads(figures or "{}"))
        for row, column, value, reason, code, figures in shown.select(
            "row", "column", "value", "reason", "code", "figures"
        ).iter_rows()
    ]


def _outcome(upload_id: str, report: ImportReport, language: str) -> ImportOutcome:
    counts = report.counts
    return ImportOutcome(
        upload_id=upload_id,
        kind=report.kind,
        file=report.file,
        rows=counts.rows,
        imported=counts.imported,
        updated=counts.updated,
        unchanged=counts.unchanged,
        rejected=counts.rejected,
        committed=report.committed,
        error_count=report.errors.height,
        errors=_issues(report.file, report.sorted_errors(), language),
        warning_count=report.warnings.height,
        warnings=_issues(report.file, report.warnings, language),
    )


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput(f"no import texts in {language!r}: use one of {', '.join(LANGUAGES)}")


def _check(kind: str, path: Path, mapping_path: Path | None) -> ImportReport:
    """Read and validate the file as the import will, without the store."""
    spec = kind_spec(kind)
    mapping = load_mapping(mapping_path)
    raw = read_table(path, mapping.file)
    batch = validate(raw, spec, mapping)
    report = ImportReport(file=path.name, kind=spec.name, source=mapping.source, rows=raw.rows)
    report.add_errors(batch.errors)
    report.add_warnings(batch.warnings)
    return report


def upload_import(
    engine: Engine,
    settings: Settings,
    actor: Actor,
    kind: str,
    file_name: str,
    data: BinaryIO,
    *,
    mapping: BinaryIO | None = None,
    language: str = "en",
) -> ImportOutcome:
    """Stage an uploaded file for ``kind`` and report every row-level problem found in it,
    the reasons written in ``language`` (en, hu or pl).

    Raises
    ------
    PermissionDenied
        The actor's role may not import (audited).
    InvalidInput
        Unknown kind, unsupported, empty or too large file, unreadable file.
    MappingError
        The mapping cannot be used.
    """
    with audited_denials(engine, actor, "import.upload"):
        require(actor, Permission.IMPORTS_RUN)
    _check_language(language)
    spec = kind_spec(kind)
    name = _safe_name(file_name)
    root = _uploads(settings)
    _remove_stale(root)
    upload_id = secrets.token_hex(16)
    folder = root / upload_id
    folder.mkdir(parents=True, mode=0o700)
    try:
        path = folder / name
        _copy(data, path, MAX_UPLOAD_BYTES)
        mapping_path = None
        if mapping is not None:
            mapping_path = folder / "mapping.toml"
            _copy(mapping, mapping_path, _MAX_MAPPING_BYTES)
        report = _check(spec.name, path, mapping_path)
        meta = {"kind": spec.name, "file": name, "user_id": actor.user_id}
        (folder / "upload.json").write_text(json.dumps(meta), encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return _outcome(upload_id, report, language)


def commit_import(
    engine: Engine,
    settings: Settings,
    actor: Actor,
    upload_id: str,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    language: str = "en",
) -> ImportOutcome:
    """Import a staged upload, all or nothing; ``committed`` says whether it was written.
    Reasons are written in ``language`` (en, hu or pl).

    A rejected import (rows that refer to records the store does not have, for example)
    comes back with ``committed`` false and its report; the upload stays staged.

    Raises
    ------
    PermissionDenied
        The actor's role may not import (audited).
    NotFound
        No such upload, or it was uploaded by someone else (audited as a denial).
    """
    _check_language(language)
    with audited_denials(engine, actor, "import.commit"):
        require(actor, Permission.IMPORTS_RUN)
        folder = _uploads(settings) / upload_id
        meta_path = folder / "upload.json"
        if not _UPLOAD_ID.match(upload_id) or not meta_path.is_file():
            raise NotFound("no such upload (uploads are kept for a day)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("user_id") != actor.user_id:
            raise NotFound("no such upload (uploads are kept for a day)")
    mapping_path = folder / "mapping.toml"
    try:
        report = import_file(
            engine,
            actor,
            str(meta["kind"]),
            folder / str(meta["file"]),
            mapping_path=mapping_path if mapping_path.is_file() else None,
            progress=progress,
        )
    except ImportRejected as exc:
        assert isinstance(exc.report, ImportReport)
        return _outcome(upload_id, exc.report, language)
    shutil.rmtree(folder, ignore_errors=True)
    return _outcome(upload_id, report, language)
