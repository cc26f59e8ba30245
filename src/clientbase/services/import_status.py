"""Where a staged import stands: the check or commit running on it, its progress, its outcome.

The progress comes from the work itself: :func:`clientbase.services.imports.import_file`
and the upload check call a :class:`ProgressRecorder` as the file is read, each field is
checked, the rows are matched with the store and written in chunks. The recorder keeps the
status in ``status.json`` beside the staged file (written whole and renamed into place, so a
reader never sees half of it), so that any server process can answer a status request,
whichever process runs the work.

Reasons are kept as codes and figures and written in the reader's language when the status
is read (:func:`load_status`). A status left ``running`` by a server that died is reported
as ``failed`` once it has not moved for :data:`STALLED_SECONDS`; the import itself was never
committed (all or nothing).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from clientbase.ingest.issue_texts import render_issue

__all__ = [
    "STALLED_SECONDS",
    "ImportOutcome",
    "ImportStatus",
    "Issue",
    "ProgressRecorder",
    "load_status",
]

#: A running check or commit that has not reported progress for this long has stopped.
STALLED_SECONDS = 300.0
_STATUS = "status.json"


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
    ``errors`` holds at most a thousand rows; ``error_count`` counts all.
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


@dataclass(frozen=True, slots=True)
class ImportStatus:
    """The check or commit of one upload, as far as it has gone.

    Attributes
    ----------
    action
        ``check`` (reading and validating the uploaded file) or ``commit`` (the import).
    state
        ``running``, ``done`` (``outcome`` says what happened: checked, committed or
        rejected with nothing written) or ``failed`` (``error`` says why; nothing written).
    stage
        ``queued``, ``read``, ``check``, ``match``, ``write`` or ``finished``.
    rows
        Records in the file, once it has been read.
    fields_checked, fields
        Fields of the file checked on every row so far, of all its fields.
    rows_checked
        Rows validated (all of them once every field is checked) and, in a commit, matched
        with the store.
    rows_to_write, rows_written
        In a commit: rows to insert or update, and those sent to the database so far.
    """

    upload_id: str
    kind: str
    file: str
    action: str
    state: str = "running"
    stage: str = "queued"
    rows: int | None = None
    fields_checked: int = 0
    fields: int = 0
    rows_checked: int = 0
    rows_to_write: int | None = None
    rows_written: int = 0
    error: str | None = None
    outcome: ImportOutcome | None = None
    updated_at: float = 0.0

    @property
    def finished(self) -> bool:
        return self.state != "running"

    @property
    def percent(self) -> int:
        """How far the work has gone, 0 to 100, weighted by stage (reading 10, checking
        30, matching 10, writing 50 in a commit; reading 25 and checking 75 in a check)."""
        if self.finished:
            return 100
        read = 1.0 if self.rows is not None else 0.0
        checked = self.fields_checked / self.fields if self.fields else 0.0
        if self.action == "check":
            return int(25 * read + 75 * checked)
        matched = 1.0 if self.rows_to_write is not None else 0.0
        written = self.rows_written / self.rows_to_write if self.rows_to_write else matched
        return int(10 * read + 30 * checked + 10 * matched + 50 * written)


class ProgressRecorder:
    """Keeps the status of one check or commit in its upload folder as the work advances.

    Call it as the ``progress(stage, done, total)`` callback of the import service; end
    with :meth:`done` or :meth:`failed`. Writes are throttled to one per ``interval``
    seconds, except when the stage changes or the work ends.
    """

    def __init__(self, folder: Path, status: ImportStatus, *, interval: float = 0.2) -> None:
        self._folder = folder
        self._status = status
        self._interval = interval
        self._written_at = 0.0
        self._lock = threading.Lock()
        self._save(force=True)

    @property
    def status(self) -> ImportStatus:
        return self._status

    def __call__(self, stage: str, done: int, total: int) -> None:
        s = self._status
        changes: dict[str, Any] = {"stage": stage}
        if stage == "read" and total:
            changes["rows"] = total
        elif stage == "check":
            changes.update(fields_checked=done, fields=total)
            if total and done >= total and s.rows is not None and s.action == "check":
                changes["rows_checked"] = s.rows
        elif stage == "match":
            changes.update(fields_checked=max(s.fields_checked, s.fields))
            if total and done >= total:
                changes["rows_checked"] = done
        elif stage == "write":
            changes.update(rows_to_write=total, rows_written=done)
        self._update(force=stage != s.stage, **changes)

    def done(self, outcome: ImportOutcome) -> None:
        self._update(force=True, state="done", stage="finished", outcome=outcome)

    def failed(self, message: str) -> None:
        self._update(force=True, state="failed", stage="finished", error=message)

    def _update(self, *, force: bool, **changes: Any) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)
            self._save(force=force)

    def _save(self, *, force: bool) -> None:
        now = time.time()
        if not force and now - self._written_at < self._interval:
            return
        self._written_at = now
        self._status = replace(self._status, updated_at=now)
        target = self._folder / _STATUS
        temporary = self._folder / f".{_STATUS}.{threading.get_ident()}"
        temporary.write_text(json.dumps(asdict(self._status)), encoding="utf-8")
        temporary.replace(target)


def load_status(folder: Path, language: str = "en") -> ImportStatus | None:
    """The status kept in ``folder`` (``None`` if no check or commit was started there),
    its reasons written in ``language``."""
    path = folder / _STATUS
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    outcome = data.pop("outcome", None)
    status = ImportStatus(**data)
    if outcome is not None:
        errors = [_issue(i, language) for i in outcome.pop("errors", [])]
        warnings = [_issue(i, language) for i in outcome.pop("warnings", [])]
        status = replace(status, outcome=ImportOutcome(**outcome, errors=errors, warnings=warnings))
    if not status.finished and time.time() - status.updated_at > STALLED_SECONDS:
        status = replace(
            status,
            state="failed",
            stage="finished",
            error="the work stopped (the server was restarted?); nothing was written",
        )
    return status


def _issue(data: dict[str, Any], language: str) -> Issue:
    figures = data.get("figures") or {}
    reason = render_issue(data["code"], figures, language) if data.get("code") else ""
    return Issue(**{**data, "figures": figures, "reason": reason or data.get("reason", "")})
