"""The import page: only importers see it, forms need the CSRF token, report then commit."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clientbase.services import import_uploads
from clientbase.web import import_pages
from tests.integration.api.test_imports import BAD, GOOD
from tests.integration.api.test_pages import sign_in, site

__all__ = ["site"]


def _finished(client: TestClient, html: str) -> str:
    """The page's outcome: its own when the work was done within the request, else the
    status fragment it polls, followed until the work is done."""
    deadline = time.monotonic() + 60
    while 'data-state="running"' in html:
        assert time.monotonic() < deadline, "the import did not finish"
        found = re.search(r'hx-get="(/imports/[0-9a-f]{32}/status)"', html)
        assert found
        time.sleep(0.1)
        html = client.get(found.group(1)).text
    return html


def _upload(client: TestClient, csrf: str, data: bytes) -> str:
    response = client.post(
        "/imports",
        data={"kind": "customers", "csrf": csrf},
        files={"file": ("people.csv", data, "text/csv")},
    )
    return _finished(client, response.text)


def test_representatives_are_not_offered_imports(site: tuple[TestClient, object]) -> None:
    client, _ = site
    sign_in(client, "representative")
    assert 'href="/imports"' not in client.get("/").text
    assert client.get("/imports").status_code == 403


def test_a_manager_is_offered_the_team_kinds_and_imports_customers(
    site: tuple[TestClient, object],
) -> None:
    client, _ = site
    csrf = sign_in(client, "manager")
    assert 'href="/imports"' in client.get("/").text
    page = client.get("/imports").text
    offered = re.findall(r'<option value="([a-z-]+)"', page.split('id="import-kind"')[1])
    assert offered == ["customers", "orders", "events"]
    html = _upload(client, csrf, GOOD)
    found = re.search(r'action="/imports/([0-9a-f]{32})/commit"', html)
    assert found
    done = client.post(f"/imports/{found.group(1)}/commit", data={"csrf": csrf})
    html = _finished(client, done.text)
    assert re.search(r'data-count="imported">3<', html)
    refused = client.post(
        "/imports",
        data={"kind": "users", "csrf": csrf},
        files={"file": ("u.csv", b"username,display_name,role\nx,X,admin\n", "text/csv")},
    )
    assert refused.status_code == 403


def test_an_admin_checks_fixes_and_commits(site: tuple[TestClient, object]) -> None:
    client, _ = site
    csrf = sign_in(client, "admin")
    assert 'href="/imports"' in client.get("/").text
    refused = client.post(
        "/imports",
        data={"kind": "customers", "csrf": "forged"},
        files={"file": ("people.csv", GOOD, "text/csv")},
    )
    assert refused.status_code == 403
    html = _upload(client, csrf, BAD)
    assert 'id="import-errors"' in html and "not-an-email" in html
    assert "import-commit" not in html
    html = _upload(client, csrf, GOOD)
    found = re.search(r'action="/imports/([0-9a-f]{32})/commit"', html)
    assert found
    done = client.post(f"/imports/{found.group(1)}/commit", data={"csrf": csrf})
    assert done.status_code == 200
    html = _finished(client, done.text)
    assert 'id="import-summary"' in html
    assert re.search(r'data-count="imported">3<', html)
    again = client.get(f"/imports/{found.group(1)}")  # a reload shows the summary again
    assert 'id="import-summary"' in again.text


def test_a_large_file_shows_its_progress_until_the_report(
    site: tuple[TestClient, object],
) -> None:
    client, _ = site
    csrf = sign_in(client, "admin")
    rows = b"".join(b"X-%d,Customer %d,c%d@example.test,1970\n" % (i, i, i) for i in range(3000))
    html = _upload(client, csrf, b"external_id,name,email,birth_year\n" + rows)
    assert 'id="import-report"' in html and "people.csv: 3,000 rows, 0 rejected" in html
    found = re.search(r'action="/imports/([0-9a-f]{32})/commit"', html)
    assert found
    status = client.get(f"/imports/{found.group(1)}/status")
    assert status.status_code == 200 and 'id="import-report"' in status.text
    other = client.get("/imports/" + "0" * 32 + "/status")
    assert other.status_code == 404


def test_the_page_speaks_hungarian(site: tuple[TestClient, object]) -> None:
    client, _ = site
    csrf = sign_in(client, "admin")
    client.post("/language", data={"lang": "hu", "csrf": csrf, "back": "/imports"})
    assert "Fájl ellenőrzése" in client.get("/imports").text


def test_the_report_gives_reasons_in_the_users_language(
    site: tuple[TestClient, object],
) -> None:
    client, _ = site
    csrf = sign_in(client, "admin")
    client.post("/language", data={"lang": "pl", "csrf": csrf, "back": "/imports"})
    html = _upload(client, csrf, BAD)
    assert "to nie jest adres e-mail" in html
    assert "mniej niż 1900" in html
    assert "not an e-mail address" not in html
    client.post("/language", data={"lang": "hu", "csrf": csrf, "back": "/imports"})
    html = _upload(client, csrf, BAD)
    assert "nem e-mail-cím" in html and "kisebb, mint 1900" in html


def test_the_commit_page_follows_the_rows_being_written(
    site: tuple[TestClient, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = site
    csrf = sign_in(client, "admin")
    html = _upload(client, csrf, GOOD)
    found = re.search(r'action="/imports/([0-9a-f]{32})/commit"', html)
    assert found
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
    monkeypatch.setattr(import_pages, "WAIT_SECONDS", 0.0)
    started = client.post(f"/imports/{found.group(1)}/commit", data={"csrf": csrf})
    assert started.status_code == 200
    assert writing.wait(60)
    fragment = _finished_stage(client, found.group(1), "write")
    assert 'data-state="running"' in fragment and "<progress" in fragment
    assert re.search(r'data-progress="rows">3<', fragment)
    assert re.search(r'data-progress="written">0 / 3<', fragment)
    assert 'hx-get="/imports/' in fragment and 'hx-trigger="load delay:500ms"' in fragment
    release.set()
    html = _finished(client, fragment)
    assert 'id="import-summary"' in html and "hx-get" not in html
    assert re.search(r'data-count="imported">3<', html)


def _finished_stage(client: TestClient, upload_id: str, stage: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        html = client.get(f"/imports/{upload_id}/status").text
        if f'data-stage="{stage}"' in html:
            return html
        assert time.monotonic() < deadline, f"stage {stage} never shown"
        time.sleep(0.05)
