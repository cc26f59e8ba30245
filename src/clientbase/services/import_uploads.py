"""Imports through the dashboard and the API: upload and check, then commit.

1. :func:`upload_import` stages the uploaded file (and an optional TOML mapping) under
   ``<home>/uploads/<id>/`` and checks it without touching the store: the file is read and
   every row validated (types, required fields, allowed values, duplicates within the file).
   The answer is the row-level report (file, row, column, value, reason): each reason is
   a stable code with its figures and a sentence in the caller's language (en, hu, pl).
2. :func:`commit_import` imports the staged file with :func:`clientbase.services.imports.
   import_file`, all or nothing: references to records in the store are resolved there, so
   a commit can still be rejected, with its own report and nothing written.

Both record their progress as the work advances (rows read, fields checked on every row,
rows matched and written; :mod:`clientbase.services.import_status`), readable with
:func:`import_status` from any server process. :func:`start_upload` and
:func:`start_commit` do the same work in a background thread of the server, so that a page
can show the progress of a large file while it is processed; the commit stays one
transaction, all or nothing, and audited.

Administrators may import any kind; a manager customers, orders and events, scoped row by
row to their team (:func:`clientbase.services.imports.import_file`). An upload can be checked,
followed and committed only by the user who uploaded it. Staged files live on disk, so a
deployment with several server processes finds them from any of them; the data is removed
once committed (the status stays) and everything after a day. Nothing here logs a cell
value.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl
from sqlalchemy import Engine

from clientbase.config import Settings
from clientbase.errors import ClientbaseError, Conflict, ImportRejected, InvalidInput, NotFound
from clientbase.ingest.issue_texts import LANGUAGES
from clientbase.ingest.kinds import KINDS, kind_spec
from clientbase.ingest.mapping import load_mapping
from clientbase.ingest.readers import read_table
from clientbase.ingest.report import ImportReport, with_reasons
from clientbase.ingest.validate import validate
from clientbase.security.actor import Actor
from clientbase.security.rbac import Permission, require, require_import
from clientbase.services.access import audited_denials
from clientbase.services.import_status import (
    ImportOutcome,
    ImportStatus,
    Issue,
    ProgressRecorder,
    load_status,
)
from clientbase.services.imports import Progress, import_file

__all__ = [
    "IMPORT_KINDS",
    "MAX_UPLOAD_BYTES",
    "ImportOutcome",
    "ImportStatus",
    "Issue",
    "commit_import",
    "import_status",
    "start_commit",
    "start_upload",
    "upload_import",
]

_log = logging.getLogger(__name__)
#: Present in an upload's folder while a commit of it runs (or after it succeeded).
_CLAIM = "commit.claim"

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


def _check(kind: str, path: Path, mapping_path: Path | None, progress: Progress) -> ImportReport:
    """Read and validate the file as the import will, without the store."""
    spec = kind_spec(kind)
    mapping = load_mapping(mapping_path)
    progress("read", 0, 0)
    raw = read_table(path, mapping.file)
    progress("read", raw.rows, raw.rows)
    batch = validate(raw, spec, mapping, lambda done, total: progress("check", done, total))
    report = ImportReport(file=path.name, kind=spec.name, source=mapping.source, rows=raw.rows)
    report.add_errors(batch.errors)
    report.add_warnings(batch.warnings)
    return report


@dataclass(frozen=True, slots=True)
class _Staged:
    upload_id: str
    folder: Path
    kind: str
    file: str

    @property
    def path(self) -> Path:
        return self.folder / self.file

    @property
    def mapping(self) -> Path | None:
        mapping = self.folder / "mapping.toml"
        return mapping if mapping.is_file() else None

    def recorder(self, action: str) -> ProgressRecorder:
        status = ImportStatus(self.upload_id, self.kind, self.file, action)
        return ProgressRecorder(self.folder, status)

    def drop_files(self) -> None:
        """Remove the data and the mapping, keeping the upload's record and its status."""
        for path in (self.path, self.folder / "mapping.toml"):
            path.unlink(missing_ok=True)


def _stage(
    engine: Engine,
    settings: Settings,
    actor: Actor,
    kind: str,
    file_name: str,
    data: BinaryIO,
    mapping: BinaryIO | None,
) -> _Staged:
    with audited_denials(engine, actor, "import.upload"):
        require(actor, Permission.IMPORTS_RUN)
        spec = kind_spec(kind)
        require_import(actor, spec.name)
    name = _safe_name(file_name)
    root = _uploads(settings)
    _remove_stale(root)
    upload_id = secrets.token_hex(16)
    folder = root / upload_id
    folder.mkdir(parents=True, mode=0o700)
    try:
        _copy(data, folder / name, MAX_UPLOAD_BYTES)
        if mapping is not None:
            _copy(mapping, folder / "mapping.toml", _MAX_MAPPING_BYTES)
        meta = {"kind": spec.name, "file": name, "user_id": actor.user_id}
        (folder / "upload.json").write_text(json.dumps(meta), encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return _Staged(upload_id, folder, spec.name, name)


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
    the reasons written in ``language`` (en, hu or pl). The check's progress is recorded
    (:func:`import_status`) while it runs.

    Raises
    ------
    PermissionDenied
        The actor's role may not import (audited).
    InvalidInput
        Unknown kind, unsupported, empty or too large file, unreadable file.
    MappingError
        The mapping cannot be used.
    """
    _check_language(language)
    staged = _stage(engine, settings, actor, kind, file_name, data, mapping)
    recorder = staged.recorder("check")
    try:
        report = _check(staged.kind, staged.path, staged.mapping, recorder)
    except BaseException:
        shutil.rmtree(staged.folder, ignore_errors=True)
        raise
    outcome = _outcome(staged.upload_id, report, language)
    recorder.done(outcome)
    return outcome


def start_upload(
    engine: Engine,
    settings: Settings,
    actor: Actor,
    kind: str,
    file_name: str,
    data: BinaryIO,
    *,
    mapping: BinaryIO | None = None,
    language: str = "en",
    wait: float = 0.0,
) -> ImportStatus:
    """Stage an uploaded file and check it in a background thread of this process.

    The answer is the check's status after at most ``wait`` seconds: finished (with the
    report) for a small file, else running; follow it with :func:`import_status`. Problems
    with the file's content (unreadable, wrong mapping) end the check as ``failed``.

    Raises
    ------
    PermissionDenied
        The actor's role may not import (audited).
    InvalidInput
        Unknown kind or language; unsupported, empty or too large file.
    """
    _check_language(language)
    staged = _stage(engine, settings, actor, kind, file_name, data, mapping)
    recorder = staged.recorder("check")

    def work() -> None:
        report = _check(staged.kind, staged.path, staged.mapping, recorder)
        recorder.done(_outcome(staged.upload_id, report, "en"))

    return _run(staged, recorder, work, language, wait)


def _run(
    staged: _Staged,
    recorder: ProgressRecorder,
    work: Callable[[], None],
    language: str,
    wait: float,
) -> ImportStatus:
    def guarded() -> None:
        try:
            work()
        except ClientbaseError as exc:
            if recorder.status.action == "check":
                staged.drop_files()  # a file that cannot be read cannot be committed
            recorder.failed(exc.message)
        except Exception:
            _log.exception(
                "import %s of upload %s failed", recorder.status.action, staged.upload_id
            )
            recorder.failed("internal error; nothing was written")
        finally:
            if recorder.status.action == "commit":
                (staged.folder / _CLAIM).unlink(missing_ok=True)

    thread = threading.Thread(target=guarded, name=f"import-{staged.upload_id[:8]}", daemon=True)
    thread.start()
    if wait > 0:
        thread.join(wait)
    return load_status(staged.folder, language) or recorder.status


def _staged(
    engine: Engine, settings: Settings, actor: Actor, upload_id: str, action: str
) -> _Staged:
    """The actor's own staged upload (audited denial otherwise)."""
    with audited_denials(engine, actor, action):
        require(actor, Permission.IMPORTS_RUN)
        folder = _uploads(settings) / upload_id
        meta_path = folder / "upload.json"
        if not _UPLOAD_ID.match(upload_id) or not meta_path.is_file():
            raise NotFound("no such upload (uploads are kept for a day)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("user_id") != actor.user_id:
            raise NotFound("no such upload (uploads are kept for a day)")
        require_import(actor, str(meta["kind"]))
    return _Staged(upload_id, folder, str(meta["kind"]), str(meta["file"]))


def _claim(staged: _Staged) -> None:
    """Take the right to commit ``staged`` (one commit at a time; none after success)."""
    if not staged.path.is_file():
        raise NotFound("no such upload (it was imported already, or kept past a day)")
    status = load_status(staged.folder)
    if status is not None and status.action == "check" and not status.finished:
        raise Conflict("the file is still being checked; commit it when the check is done")
    try:
        os.close(os.open(staged.folder / _CLAIM, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise Conflict("this upload is being imported already") from None


def _commit(
    engine: Engine, actor: Actor, staged: _Staged, recorder: ProgressRecorder
) -> ImportOutcome:
    """Import ``staged`` (claimed), record the end, and drop its files once written."""
    try:
        report = import_file(
            engine, actor, staged.kind, staged.path, mapping_path=staged.mapping, progress=recorder
        )
    except ImportRejected as exc:
        assert isinstance(exc.report, ImportReport)
        outcome = _outcome(staged.upload_id, exc.report, "en")
    else:
        outcome = _outcome(staged.upload_id, report, "en")
        staged.drop_files()
    recorder.done(outcome)
    return outcome


def commit_import(
    engine: Engine,
    settings: Settings,
    actor: Actor,
    upload_id: str,
    *,
    language: str = "en",
) -> ImportOutcome:
    """Import a staged upload, all or nothing; ``committed`` says whether it was written.
    Reasons are written in ``language`` (en, hu or pl); the progress is recorded
    (:func:`import_status`) while it runs.

    A rejected import (rows that refer to records the store does not have, for example)
    comes back with ``committed`` false and its report; the upload stays staged.

    Raises
    ------
    PermissionDenied
        The actor's role may not import (audited).
    NotFound
        No such upload, or it was uploaded by someone else (audited as a denial), or it was
        imported already.
    Conflict
        The upload is being checked or committed right now.
    """
    _check_language(language)
    staged = _staged(engine, settings, actor, upload_id, "import.commit")
    _claim(staged)
    recorder = staged.recorder("commit")
    try:
        outcome = _commit(engine, actor, staged, recorder)
    except ClientbaseError as exc:
        recorder.failed(exc.message)
        raise
    except BaseException:
        recorder.failed("internal error; nothing was written")
        raise
    finally:
        (staged.folder / _CLAIM).unlink(missing_ok=True)
    status = load_status(staged.folder, language)
    return status.outcome if status is not None and status.outcome is not None else outcome


def start_commit(
    engine: Engine,
    settings: Settings,
    actor: Actor,
    upload_id: str,
    *,
    language: str = "en",
    wait: float = 0.0,
) -> ImportStatus:
    """Import a staged upload in a background thread of this process, all or nothing.

    The answer is the commit's status after at most ``wait`` seconds; follow it with
    :func:`import_status`. The import is audited as by :func:`commit_import`.

    Raises
    ------
    PermissionDenied, NotFound, Conflict
        As :func:`commit_import`.
    """
    _check_language(language)
    staged = _staged(engine, settings, actor, upload_id, "import.commit")
    _claim(staged)
    recorder = staged.recorder("commit")

    def work() -> None:
        _commit(engine, actor, staged, recorder)

    return _run(staged, recorder, work, language, wait)


def import_status(
    engine: Engine, settings: Settings, actor: Actor, upload_id: str, *, language: str = "en"
) -> ImportStatus:
    """Where the check or commit of the actor's upload stands, reasons in ``language``.

    Raises
    ------
    PermissionDenied
        The actor's role may not import (audited).
    NotFound
        No such upload, or someone else's (audited as a denial).
    """
    _check_language(language)
    staged = _staged(engine, settings, actor, upload_id, "import.status")
    status = load_status(staged.folder, language)
    if status is None:  # staged before progress was recorded: nothing will ever run
        return ImportStatus(
            upload_id,
            staged.kind,
            staged.file,
            "check",
            state="failed",
            stage="finished",
            error="this upload has no recorded check; upload the file again",
        )
    return status
