"""The dashboard in headless Chromium: every role signs in, visits every page, sees charts
render without console errors, switches language; screenshots go to ``artifacts/``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from clientbase.cli.serve import build_app
from clientbase.config import get_settings
from clientbase.security.credentials import hash_password
from clientbase.storage.database import open_engine
from clientbase.storage.orm import User
from clientbase.storage.unit_of_work import UnitOfWork
from tests.integration.api.conftest import ROLES, build_world, score_world

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
ANALYTIC_PAGES = (
    "/analysis",
    "/funnel",
    "/categories",
    "/profitability",
    "/channels",
    "/lists/at-risk",
    "/lists/lost",
)


def _score(url: str, facts: dict[str, object]) -> None:
    """Passwords for everyone and two score runs (trends, funnel moves, a loss-maker)."""
    customers: dict[str, int] = facts["customers"]  # type: ignore[assignment]
    engine = open_engine(url)
    hashed = hash_password(PASSWORD)
    with UnitOfWork(engine) as uow:
        for user in uow.session.query(User):
            user.password_hash = hashed
        uow.commit()
    score_world(engine, customers)
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


def _first_customer(page: Page) -> str:
    page.goto(page.url.split("/profitability")[0] + "/customers")
    href = page.locator("tbody tr a").first.get_attribute("href") or ""
    return href.rsplit("/", 1)[-1]


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
    for path in ANALYTIC_PAGES:
        page.goto(f"{server}{path}")
        _charts_rendered(page)
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=ARTIFACTS / f"{role}-{name}.png", full_page=True)
    page.goto(f"{server}/users")
    if role == "admin":
        page.get_by_label("User name").fill("browser-rep")
        page.get_by_label("Display name").fill("Browser Rep")
        page.get_by_label("Password").fill("a-long-password")
        page.get_by_role("button", name="Add", exact=True).click()
        page.wait_for_selector("text=The user was added.")
        page.screenshot(path=ARTIFACTS / "admin-users.png", full_page=True)
    else:
        assert page.locator("h1").inner_text() == "Something went wrong"
        errors[:] = [e for e in errors if "403" not in e]
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
    assert page.locator("ul.reasons li").count() >= 2
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
    page.goto(f"{server}/profitability")
    _charts_rendered(page)
    # The axis of the whale curve is written with the Hungarian locale's grouping.
    ticks = page.locator("[data-chart=whale] svg text").all_text_contents()
    assert any("\u00a0" in t and "," not in t for t in ticks), ticks
    page.goto(f"{server}/customers/{_first_customer(page)}")
    assert "vásárlási alkalom" in page.locator("ul.reasons").inner_text()
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


def test_an_import_with_an_error_is_reported_fixed_and_committed(
    server: str, browser_context: object
) -> None:
    bad = b"external_id,name,email\nB-1,Browser One,one@example.test\nB-2,Browser Two,broken\n"
    good = bad.replace(b"broken", b"two@example.test")
    context = browser_context.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page: Page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, server, "admin")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("What the file holds").select_option("customers")
    files = {"name": "browser.csv", "mimeType": "text/csv"}
    page.get_by_label("File", exact=True).set_input_files({**files, "buffer": bad})
    page.get_by_role("button", name="Check the file").click()
    report = page.locator("#import-errors tbody tr")
    report.first.wait_for()
    assert report.count() == 1
    cells = report.first.locator("td").all_inner_texts()
    assert cells[:4] == ["browser.csv", "3", "email", "broken"]
    page.screenshot(path=ARTIFACTS / "admin-import-report.png", full_page=True)
    page.get_by_label("File", exact=True).set_input_files({**files, "buffer": good})
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Commit the import").click()
    summary = page.locator("#import-summary")
    summary.wait_for()
    assert summary.locator("[data-count=imported]").inner_text() == "2"
    page.screenshot(path=ARTIFACTS / "admin-import-done.png", full_page=True)
    assert errors == []
    context.close()
