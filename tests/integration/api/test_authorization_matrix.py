"""The authorization matrix: every OpenAPI operation × the four roles × ownership.

Each operation must have a row in :data:`POLICY` (a new endpoint without one fails the
suite). A request the policy denies must be refused (403/404/409) and leave every business
table exactly as it was; a request the policy allows must succeed. Audit entries of the
denial itself are the one permitted change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select

from clientbase.api.app import create_app
from clientbase.config import get_settings
from clientbase.storage.database import open_engine
from clientbase.storage.orm import Base
from tests.integration.api.conftest import ROLES, World

Rule = Callable[[str, str], bool]  # (role, ownership) -> allowed

#: A valid customers file of one row, for the import endpoints.
CUSTOMERS_CSV = b"external_id,name,email\nX-1,New Customer,new@example.test\n"


class Multipart(dict[str, Any]):
    """A multipart form body (fields) with the file ``file``, instead of JSON."""


def _send(world: World, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    if isinstance(body, Multipart):
        files = {"file": ("customers.csv", CUSTOMERS_CSV, "text/csv")}
        return world.client.request(method, url, headers=headers, data=body, files=files)
    return world.client.request(method, url, headers=headers, json=body)


def _upload_of(world: World, role: str) -> str:
    """An upload staged by ``role`` (only admins and managers can stage one; for the other
    roles a well-formed id that does not exist, since they are refused before the lookup)."""
    if role not in {"admin", "manager"}:
        return "0" * 32
    response = _send(
        world, "POST", "/api/v1/imports", Multipart(kind="customers"), world.headers(role)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["upload_id"])


def anyone(role: str, own: str) -> bool:
    return True


def roles(*names: str) -> Rule:
    return lambda role, own: role in names


def scoped(*writers: str, everywhere: tuple[str, ...] = ("admin",)) -> Rule:
    """Allowed on one's own record for ``writers``, on anyone's for ``everywhere``."""
    return lambda role, own: role in everywhere or (own == "own" and role in writers)


POLICY: dict[tuple[str, str], tuple[Rule, dict[str, Any] | None]] = {
    ("GET", "/api/v1/customers"): (anyone, None),
    ("GET", "/api/v1/customers/export"): (roles("admin", "manager", "analyst"), None),
    ("GET", "/api/v1/customers/{customer_id}"): (
        scoped(*ROLES, everywhere=("admin", "analyst")),
        None,
    ),
    ("POST", "/api/v1/customers"): (roles("admin", "manager", "representative"), {"name": "N"}),
    ("PATCH", "/api/v1/customers/{customer_id}"): (
        scoped("admin", "manager", "representative"),
        {"city": "Győr"},
    ),
    ("POST", "/api/v1/customers/{customer_id}/events"): (
        scoped("admin", "manager", "representative"),
        {"kind": "service_contact", "cost_minor": 300},
    ),
    ("GET", "/api/v1/events"): (anyone, None),
    ("GET", "/api/v1/me"): (anyone, None),
    ("GET", "/api/v1/users"): (anyone, None),
    ("POST", "/api/v1/users"): (
        roles("admin"),
        {"username": "newbie", "display_name": "N", "role": "analyst", "password": "x" * 12},
    ),
    ("GET", "/api/v1/users/{user_id}"): (scoped(*ROLES, everywhere=("admin", "analyst")), None),
    # Nobody may disable themselves (409); an admin may disable anyone else.
    ("POST", "/api/v1/users/{user_id}/disable"): (
        lambda role, own: role == "admin" and own == "other",
        None,
    ),
    ("GET", "/api/v1/score-runs"): (anyone, None),
    ("GET", "/api/v1/score-runs/{run_id}"): (anyone, None),
    ("GET", "/api/v1/overview"): (anyone, None),
    ("GET", "/api/v1/funnel"): (anyone, None),
    ("GET", "/api/v1/profitability"): (anyone, None),
    # A manager imports customers, orders and events of their team (the file's new
    # customer becomes the manager's); only the uploader commits or follows an upload.
    ("POST", "/api/v1/imports"): (roles("admin", "manager"), Multipart(kind="customers")),
    ("POST", "/api/v1/imports/{upload_id}/commit"): (
        lambda role, own: role in {"admin", "manager"} and own == "own",
        None,
    ),
    ("GET", "/api/v1/imports/{upload_id}"): (
        lambda role, own: role in {"admin", "manager"} and own == "own",
        None,
    ),
}


def _operations() -> list[tuple[str, str]]:
    engine = open_engine("sqlite://")
    spec = create_app(get_settings(), engine).openapi()
    engine.dispose()
    return sorted((method.upper(), path) for path, item in spec["paths"].items() for method in item)


def _cases() -> list[Any]:
    cases = []
    for method, path in _operations():
        ownerships = ("own", "other") if "{" in path else ("none",)
        for role in ROLES:
            for own in ownerships:
                cases.append(
                    pytest.param(method, path, role, own, id=f"{method} {path} {role} {own}")
                )
    return cases


def test_every_operation_has_a_policy_row() -> None:
    assert set(_operations()) == set(POLICY), "add a POLICY row for each new endpoint"


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every business table (the audit log is where denials are recorded)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            rows = conn.execute(select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def _url(world: World, path: str, role: str, own: str) -> str:
    owner = role if own == "own" else "outsider"
    upload_id = ""
    if "{upload_id}" in path:
        upload_id = _upload_of(
            world, role if own == "own" else "manager" if role == "admin" else "admin"
        )
    return path.format(
        customer_id=world.customers[owner],
        user_id=world.users[owner],
        run_id=world.run_id,
        upload_id=upload_id,
    )


@pytest.mark.parametrize(("method", "path", "role", "own"), _cases())
def test_matrix(world: World, method: str, path: str, role: str, own: str) -> None:
    rule, body = POLICY[(method, path)]
    expected = rule(role, own)
    url = _url(world, path, role, own)
    before = snapshot(world.engine)
    response = _send(world, method, url, body, world.headers(role))
    if expected:
        assert response.status_code < 300, response.text
    else:
        assert response.status_code in {403, 404, 409}, (
            f"unexpected allow or error: {response.status_code} {response.text}"
        )
        assert response.json()["error"]["request_id"]
        assert snapshot(world.engine) == before, "a denied request changed the database"


@pytest.mark.parametrize(("method", "path"), sorted(POLICY))
def test_without_a_token_every_operation_is_refused(world: World, method: str, path: str) -> None:
    before = snapshot(world.engine)
    url = _url(world, path, "admin", "other")
    response = _send(world, method, url, POLICY[(method, path)][1], {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication"
    assert snapshot(world.engine) == before
