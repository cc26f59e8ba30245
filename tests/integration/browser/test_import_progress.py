"""The import page in headless Chromium: a large file's check and commit show their progress,
polled with htmx, until the report and the summary replace it; reasons in the user's
language. Screenshots go to ``artifacts/browser``."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from playwright.sync_api import Page

from clientbase.services import import_uploads
from clientbase.web import import_pages
from tests.integration.browser.test_dashboard import (
    ARTIFACTS,
    _sign_in,
    browser_context,
    server,
)

__all__ = ["browser_context", "server"]

pytestmark = pytest.mark.browser

ROWS = 30_000


def _customers(rows: int, bad_row: int | None = None) -> bytes:
    lines = ["external_id,name,email,birth_year"]
    for i in range(rows):
        year = "17xx" if i == bad_row else str(1950 + i % 50)
        lines.append(f"P-{i:06d},Progress {i},p{i}@example.test,{year}")
    return ("\n".join(lines) + "\n").encode()


def test_a_large_import_shows_its_progress_then_its_report_and_summary(
    server: str, browser_context: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Answer at once, so that even this file is followed through the progress fragment.
    monkeypatch.setattr(import_pages, "WAIT_SECONDS", 0.0)
    writing, release = threading.Event(), threading.Event()
    real = import_uploads.import_file

    def held(*args: Any, progress: Any, **kwargs: Any) -> Any:
        # The real import, held once at its first write so the page can be seen mid-way.
        def step(stage: str, done: int, total: int) -> None:
            progress(stage, done, total)
            if stage == "write" and done == 0:
                writing.set()
                assert release.wait(60)

        return real(*args, progress=step, **kwargs)

    monkeypatch.setattr(import_uploads, "import_file", held)
    context = browser_context.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page: Page = context.new_page()
    errors: list[str] = []
    polls: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith("/status") else None)
    _sign_in(page, server, "admin")
    page.goto(f"{server}/imports")
    files = {"name": "large.csv", "mimeType": "text/csv"}
    # A file with one bad row: the progress, then the report in Polish.
    page.select_option("#lang-select", "pl")
    page.get_by_role("button", name="Change").click()
    page.wait_for_selector("text=Sprawdź plik")
    page.locator("#import-kind").select_option("customers")
    page.locator("#import-file").set_input_files({**files, "buffer": _customers(ROWS, 7)})
    page.locator("#import-form button[type=submit]").click()
    page.locator("#import-errors tbody tr").first.wait_for(timeout=60_000)
    cells = page.locator("#import-errors tbody tr").first.locator("td").all_inner_texts()
    assert cells == ["large.csv", "9", "birth_year", "17xx", "to nie jest liczba całkowita"]
    page.select_option("#lang-select", "en")
    page.get_by_role("button", name="Zmień").click()
    page.wait_for_selector("text=Check the file")
    # The clean file: checked, then committed while the page follows the writing.
    page.goto(f"{server}/imports")
    page.locator("#import-file").set_input_files({**files, "buffer": _customers(ROWS)})
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Commit the import").wait_for(timeout=60_000)
    assert "large.csv: 30,000 rows, 0 rejected" in page.locator("#import-report").inner_text()
    page.get_by_role("button", name="Commit the import").click()
    assert writing.wait(60)
    status = page.locator("#import-status[data-stage=write]")
    status.wait_for(timeout=30_000)
    assert status.locator("[data-progress=rows]").inner_text() == "30,000"
    assert status.locator("[data-progress=written]").inner_text() == "0 / 30,000"
    assert int(status.locator("progress").get_attribute("value") or 0) >= 50
    page.screenshot(path=ARTIFACTS / "admin-import-progress.png", full_page=True)
    release.set()
    summary = page.locator("#import-summary")
    summary.wait_for(timeout=60_000)  # swapped in by htmx, without a reload
    assert summary.locator("[data-count=imported]").inner_text() == "30,000"
    assert len(polls) >= 2
    page.screenshot(path=ARTIFACTS / "admin-import-progress-done.png", full_page=True)
    assert errors == []
    context.close()
