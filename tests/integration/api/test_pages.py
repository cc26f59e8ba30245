"""The dashboard's pages over HTTP: every page per role, user administration with CSRF,
the named lists and their exports, reasons in words."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from clientbase.cli.serve import build_app
from clientbase.config import get_settings
from clientbase.security.credentials import hash_password
from clientbase.storage.orm import User
from clientbase.storage.unit_of_work import UnitOfWork
from tests.integration.api.conftest import ROLES, build_world, score_world

PASSWORD = "pages-test-password"
PAGES = (
    "/",
    "/customers",
    "/funnel",
    "/categories",
    "/profitability",
    "/channels",
    "/lists/at-risk",
    "/lists/lost",
    "/lists/loss-makers",
    "/analysis",
)


@pytest.fixture
def site(engine: Engine, store_url: str) -> Iterator[tuple[TestClient, dict[str, object]]]:
    facts = build_world(engine)
    score_world(engine, facts["customers"])  # type: ignore[arg-type]
    with UnitOfWork(engine) as uow:
        for user in uow.session.scalars(select(User)):
            user.password_hash = hash_password(PASSWORD)
        uow.commit()
    app = build_app(get_settings(db=store_url, demo=True))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client, facts
    app.state.engine.dispose()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through the form; return the CSRF token of the signed-in pages."""
    token = _csrf(client.get("/login").text)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf": token}
    )
    assert response.status_code == 200, response.text
    return _csrf(response.text)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_per_role(site: tuple[TestClient, dict[str, object]], role: str) -> None:
    client, _facts = site
    sign_in(client, role)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert 'id="vega-locale"' in response.text
    users = client.get("/users")
    assert users.status_code == (200 if role == "admin" else 403)
    assert ('href="/users"' in client.get("/").text) == (role == "admin")


def test_representative_sees_only_their_figures(site: tuple[TestClient, dict[str, object]]) -> None:
    client, facts = site
    customers: dict[str, int] = facts["customers"]  # type: ignore[assignment]
    sign_in(client, "representative")
    losses = client.get("/profitability").text
    assert f"/customers/{customers['analyst']}" not in losses
    assert "No customer loses money." in losses
    at_risk = client.get("/lists/at-risk").text
    assert f'/customers/{customers["representative"]}"' in at_risk
    assert f'/customers/{customers["analyst"]}"' not in at_risk
    assert "Export CSV" not in at_risk
    assert client.get("/customers/export?segment=at_risk").status_code == 403


def test_lists_export_for_roles_that_may(site: tuple[TestClient, dict[str, object]]) -> None:
    client, facts = site
    customers: dict[str, int] = facts["customers"]  # type: ignore[assignment]
    sign_in(client, "analyst")
    response = client.get("/customers/export?format=csv&segment=loss_makers")
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"{customers['analyst']},")
    xlsx = client.get("/customers/export?format=xlsx&category=lost")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_customer_page_shows_reasons_in_the_language(
    site: tuple[TestClient, dict[str, object]],
) -> None:
    client, facts = site
    customers: dict[str, int] = facts["customers"]  # type: ignore[assignment]
    csrf = sign_in(client, "manager")
    page = client.get(f"/customers/{customers['manager']}").text
    assert 'data-code="rung.member.regular"' in page
    assert "member: 2 purchase occasions in the last 365 days" in page
    client.post("/language", data={"lang": "pl", "csrf": csrf, "back": "/"})
    polish = client.get(f"/customers/{customers['manager']}").text
    assert 'data-code="rung.member.regular"' in polish
    assert "member: 2 purchase occasions" not in polish


def _count_users(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(User)) or 0)


def test_admin_adds_and_disables_users_with_csrf(
    site: tuple[TestClient, dict[str, object]], engine: Engine
) -> None:
    client, _facts = site
    csrf = sign_in(client, "admin")
    form = {
        "username": "newrep",
        "display_name": "New Rep",
        "role": "representative",
        "password": "a-long-password",
        "manager": "manager",
        "locale": "hu",
    }
    before = _count_users(engine)
    refused = client.post("/users", data={**form, "csrf": "forged"})
    assert refused.status_code == 403 and _count_users(engine) == before
    added = client.post("/users", data={**form, "csrf": csrf})
    assert added.status_code == 200 and "newrep" in added.text
    assert _count_users(engine) == before + 1
    duplicate = client.post("/users", data={**form, "csrf": csrf})
    assert duplicate.status_code == 409
    short = client.post("/users", data={**form, "username": "x y", "csrf": csrf})
    assert short.status_code == 422
    assert client.post("/users/newrep/disable", data={"csrf": "forged"}).status_code == 403
    disabled = client.post("/users/newrep/disable", data={"csrf": csrf})
    assert disabled.status_code == 200
    with engine.connect() as conn:
        active = conn.scalar(select(User.active).where(User.username == "newrep"))
    assert active is False


def test_only_admins_manage_users(site: tuple[TestClient, dict[str, object]]) -> None:
    client, _facts = site
    csrf = sign_in(client, "manager")
    response = client.post(
        "/users",
        data={
            "username": "sneaky",
            "display_name": "S",
            "role": "admin",
            "password": "a-long-password",
            "csrf": csrf,
        },
    )
    assert response.status_code == 403
    assert client.post("/users/outsider/disable", data={"csrf": csrf}).status_code == 403
