"""The import page: only importers see it, forms need the CSRF token, report then commit."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.integration.api.test_imports import BAD, GOOD
from tests.integration.api.test_pages import sign_in, site

__all__ = ["site"]


def _upload(client: TestClient, csrf: str, data: bytes) -> str:
    response = client.post(
        "/imports",
        data={"kind": "customers", "csrf": csrf},
        files={"file": ("people.csv", data, "text/csv")},
    )
    return response.text


def test_representatives_are_not_offered_imports(site: tuple[TestClient, object]) -> None:
    client, _ = site
    sign_in(client, "representative")
    assert 'href="/imports"' not in client.get("/").text
    assert client.get("/imports").status_code == 403


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
    assert 'id="import-summary"' in done.text
    assert re.search(r'data-count="imported">3<', done.text)


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
