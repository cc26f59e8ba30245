"""Progress of an import comes from the work itself, and a background import stays all or
nothing and audited."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from clientbase.config import Settings, get_settings
from clientbase.domain.vocabulary import Role
from clientbase.errors import Conflict, NotFound
from clientbase.security.actor import Actor
from clientbase.services import import_uploads
from clientbase.services.import_status import ImportStatus
from clientbase.services.import_uploads import (
    import_status,
    start_commit,
    start_upload,
    upload_import,
)
from clientbase.services.imports import import_file
from clientbase.storage.bulk import CHUNK_ROWS
from clientbase.storage.orm import AuditEntry, Customer

ADMIN = Actor(user_id=None, username="boss", role=Role.ADMIN)


def _customers_csv(rows: int) -> bytes:
    lines = ["external_id,name,birth_year"]
    lines += [f"C{i:07d},Customer {i},{1950 + i % 50}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _until(
    engine: Engine,
    settings: Settings,
    upload_id: str,
    done: Callable[[ImportStatus], bool],
    language: str = "en",
) -> ImportStatus:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = import_status(engine, settings, ADMIN, upload_id, language=language)
        if done(status):
            return status
        time.sleep(0.02)
    raise AssertionError(f"upload {upload_id} did not get there in time")


def test_progress_reports_rows_read_fields_checked_and_rows_written(
    engine: Engine, tmp_path: Path
) -> None:
    rows = CHUNK_ROWS + 7  # two write chunks
    path = tmp_path / "customers.csv"
    path.write_bytes(_customers_csv(rows))
    calls: list[tuple[str, int, int]] = []
    report = import_file(engine, ADMIN, "customers", path, progress=lambda *c: calls.append(c))
    assert report.imported == rows
    stages = [stage for stage, _, _ in calls]
    assert stages == sorted(stages, key=["read", "check", "match", "write"].index)
    assert ("read", rows, rows) in calls
    checks = [(done, total) for stage, done, total in calls if stage == "check"]
    assert checks[0] == (0, 3) and checks[-1] == (3, 3)
    assert [d for d, _ in checks] == sorted(d for d, _ in checks)
    assert ("match", rows, rows) in calls
    writes = [done for stage, done, total in calls if stage == "write" and total == rows]
    assert writes[0] == 0 and writes[-1] == rows
    assert any(0 < w < rows for w in writes), "the write reports its chunks as they go"


def test_a_background_commit_shows_progress_writes_nothing_until_the_end_and_is_audited(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings(home=tmp_path / "home")
    rows = 1200
    checked = upload_import(
        engine, settings, ADMIN, "customers", "people.csv", io.BytesIO(_customers_csv(rows))
    )
    assert checked.rejected == 0
    upload_id = checked.upload_id
    # Hold the real import once it starts writing, to look at it from outside.
    writing, release = threading.Event(), threading.Event()
    real = import_uploads.import_file

    def held(*args: Any, progress: Any, **kwargs: Any) -> Any:
        def step(stage: str, done: int, total: int) -> None:
            progress(stage, done, total)
            if stage == "write" and done == 0:
                writing.set()
                assert release.wait(60)

        return real(*args, progress=step, **kwargs)

    monkeypatch.setattr(import_uploads, "import_file", held)
    before = _count(engine, Customer)
    started = start_commit(engine, settings, ADMIN, upload_id)
    assert started.action == "commit"
    assert writing.wait(60)
    running = _until(engine, settings, upload_id, lambda s: s.stage == "write")
    assert running.state == "running" and not running.finished
    assert running.rows == rows and running.rows_checked == rows
    assert running.fields_checked == running.fields == 3
    assert running.rows_to_write == rows and running.rows_written == 0
    assert 0 < running.percent < 100
    with pytest.raises(Conflict):
        start_commit(engine, settings, ADMIN, upload_id)  # one commit at a time
    assert _count(engine, Customer) == before, "nothing is visible before the commit"
    release.set()
    done = _until(engine, settings, upload_id, lambda s: s.finished)
    assert done.state == "done" and done.outcome is not None
    assert done.outcome.committed and done.outcome.imported == rows
    assert done.rows_written == rows and done.percent == 100
    assert _count(engine, Customer) == before + rows
    with engine.connect() as conn:
        actions = conn.execute(select(AuditEntry.action)).scalars().all()
    assert "import" in actions
    with pytest.raises(NotFound):
        start_commit(engine, settings, ADMIN, upload_id)  # imported already


def test_a_rejected_background_commit_writes_nothing_and_keeps_the_report(
    engine: Engine, tmp_path: Path
) -> None:
    settings = get_settings(home=tmp_path / "home")
    data = b"external_id,name,referred_by\nC-1,Anna,NOBODY\nC-2,Bela,\n"
    checked = upload_import(engine, settings, ADMIN, "customers", "c.csv", io.BytesIO(data))
    assert checked.rejected == 0  # references are resolved at commit
    start_commit(engine, settings, ADMIN, checked.upload_id, language="pl")
    done = _until(engine, settings, checked.upload_id, lambda s: s.finished, language="pl")
    assert done.state == "done" and done.outcome is not None
    assert not done.outcome.committed and done.outcome.rejected == 1
    issue = done.outcome.errors[0]
    assert (issue.row, issue.column, issue.code) == (2, "referred_by", "reference_unknown")
    assert issue.reason.startswith("nieznany klient")
    assert _count(engine, Customer) == 0


def test_a_background_check_reports_its_rows_then_an_unreadable_file_fails(
    engine: Engine, tmp_path: Path
) -> None:
    settings = get_settings(home=tmp_path / "home")
    data = _customers_csv(500) + b"C-bad,Someone,17xx\n"
    started = start_upload(
        engine, settings, ADMIN, "customers", "people.csv", io.BytesIO(data), language="hu"
    )
    done = _until(engine, settings, started.upload_id, lambda s: s.finished, language="hu")
    assert done.action == "check" and done.state == "done"
    assert done.rows == 501 and done.rows_checked == 501
    assert done.outcome is not None and done.outcome.rejected == 1
    assert done.outcome.errors[0].reason == "nem egész szám"
    broken = start_upload(
        engine,
        settings,
        ADMIN,
        "customers",
        "people.csv",
        io.BytesIO(b"name,city\nAnna,Pecs\n"),  # no external_id column
        wait=30,
    )
    assert broken.state == "failed" and broken.error and "external_id" in broken.error
    assert _count(engine, Customer) == 0
