"""The dashboard in headless Chromium: every role signs in, visits every page, sees charts
render without console errors, switches language; screenshots go to ``artifacts/``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from clientbase.cli.serve import build_app
from clientbase.config import get_settings
from clientbase.security.credentials import hash_password
from clientbase.storage.database import open_engine
from clientbase.storage.orm import CustomerScore, ScoreRun, User
from clientbase.storage.unit_of_work import UnitOfWork
from tests.integration.api.conftest import ROLES, build_world

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "browser"
PASSWORD = "browser-test-password"


def _score(url: str, facts: dict[str, object]) -> None:
    """Two score runs, so that the overview shows trends, categories and curves."""
    customers: dict[str, int] = facts["customers"]  # type: ignore[assignment]
    engine = open_engine(url)
    hashed = hash_password(PASSWORD)
    with UnitOfWork(engine) as uow:
        for user in uow.session.query(User):
            user.password_hash = hashed
        for k, as_of in enumerate((date(2026, 2, 1), date(2026, 3, 1))):
            run = ScoreRun(as_of=as_of, policy_hash="0" * 64, status="finished")
            uow.session.add(run)
            uow.session.flush()
            for i, cid in enumerate(customers.values()):
                columns = {c.name for c in CustomerScore.__table__.columns}
                defaults = {
                    c.name: 0
                    for c in CustomerScore.__table__.columns
                    if not c.nullable and c.name not in {"run_id", "customer_id"}
                }
                values = {
                    **defaults,
                    "rung": 3 + i % 4,
                    "category": ("loyal", "average", "demanding", "lost", "loyal")[i],
                    "net_contribution_minor": (50_000 - 30_000 * (i == 2)) * (k + 1),
                    "clv_minor": 120_000 + 10_000 * i,
                    "p_alive": 0.9 - 0.15 * i,
                    "rfm_r": 1 + i % 5,
                    "rfm_f": 1 + (i * 2) % 5,
                    "revenue_minor": 200_000 + 50_000 * i,
                }
                values = {k2: v for k2, v in values.items() if k2 in columns}
                uow.session.add(CustomerScore(run_id=run.id, customer_id=cid, **values))
        uow.commit()
    engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make chromium` (apt-get install -y chromium)")
    path = tmp_path_factory.mktemp("web") / "store.sqlite"
    url = f"sqlite:///{path}"
    from clientbase.storage.schema import upgrade

    engine = open_engine(url)
    upgrade(engine)
    facts = build_world(engine)
    engine.dispose()
    _score(url, facts)
    app = build_app(get_settings(db=url, demo=True))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser_context() -> Iterator[object]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _charts_rendered(page: Page) -> None:
    charts = page.locator("[data-chart]")
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.locator("svg").first.wait_for(timeout=10_000)
        assert chart.get_attribute("data-rendered") == "done"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_visits_every_page(server: str, browser_context: object, role: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser_context.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page: Page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, server, role)
    _charts_rendered(page)
    page.screenshot(path=ARTIFACTS / f"{role}-overview.png", full_page=True)
    page.goto(f"{server}/analysis")
    _charts_rendered(page)
    page.screenshot(path=ARTIFACTS / f"{role}-analysis.png", full_page=True)
    page.goto(f"{server}/customers")
    rows = page.locator("tbody tr")
    expected = {"admin": 5, "analyst": 5, "manager": 2, "representative": 1}[role]
    assert rows.count() == expected
    if role == "analyst":
        assert "example.test" not in page.content()
        assert "Customer of" not in page.content()
    assert (page.get_by_text("Export CSV").count() > 0) == (role != "representative")
    page.screenshot(path=ARTIFACTS / f"{role}-customers.png", full_page=True)
    page.locator("tbody tr a").first.click()
    page.wait_for_selector("text=Timeline")
    page.screenshot(path=ARTIFACTS / f"{role}-customer.png", full_page=True)
    assert errors == []
    context.close()


def test_language_switch_is_remembered(server: str, browser_context: object) -> None:
    context = browser_context.new_context()  # type: ignore[attr-defined]
    page: Page = context.new_page()
    _sign_in(page, server, "manager")
    page.select_option("#lang-select", "hu")
    page.get_by_role("button", name="Change").click()
    page.wait_for_selector("text=Áttekintés")
    assert "Ft" in page.content()
    page.screenshot(path=ARTIFACTS / "manager-overview-hu.png", full_page=True)
    page.select_option("#lang-select", "pl")
    page.get_by_role("button", name="Váltás").click()
    page.wait_for_selector("text=Przegląd")
    context.close()
    again = browser_context.new_context()  # type: ignore[attr-defined]
    page = again.new_page()
    page.goto(f"{server}/login")
    page.fill("#username", "manager")
    page.fill("#password", PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_selector("text=Przegląd")
    page.screenshot(path=ARTIFACTS / "manager-overview-pl.png", full_page=True)
    page.select_option("#lang-select", "en")
    page.get_by_role("button", name="Zmień").click()
    page.wait_for_selector("text=Overview")
    again.close()
