"""Imports through the API and the dashboard: upload -> row-level report -> commit."""

from __future__ import annotations

import httpx2
from sqlalchemy import func, select

from clientbase.storage.orm import AuditEntry, Customer, Order
from clientbase.storage.unit_of_work import UnitOfWork
from tests.integration.api.conftest import World

BAD = (
    b"external_id,name,email,birth_year\n"
    b"C-1,Anna Kiss,anna@example.test,1980\n"
    b"C-2,Bela Nagy,not-an-email,1975\n"
    b"C-3,Cecil Toth,cecil@example.test,1700\n"
)
GOOD = BAD.replace(b"not-an-email", b"bela@example.test").replace(b"1700", b"1970")


def _customers(world: World) -> int:
    with UnitOfWork(world.engine) as uow:
        return int(uow.session.scalar(select(func.count(Customer.id))) or 0)


def _upload(world: World, role: str, data: bytes, name: str = "people.csv") -> dict[str, object]:
    response = world.client.post(
        "/api/v1/imports",
        headers=world.headers(role),
        data={"kind": "customers"},
        files={"file": (name, data, "text/csv")},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_upload_reports_row_level_errors_and_writes_nothing(world: World) -> None:
    before = _customers(world)
    report = _upload(world, "admin", BAD)
    assert report["committed"] is False
    assert (report["rows"], report["rejected"]) == (3, 2)
    errors = report["errors"]
    assert isinstance(errors, list)
    where = {(e["file"], e["row"], e["column"], e["value"]) for e in errors}
    assert ("people.csv", 3, "email", "not-an-email") in where
    assert ("people.csv", 4, "birth_year", "1700") in where
    assert all(e["reason"] for e in errors)
    assert _customers(world) == before


def test_issues_carry_code_figures_and_a_sentence_in_the_language_asked_for(
    world: World,
) -> None:
    response = world.client.post(
        "/api/v1/imports?lang=hu",
        headers=world.headers("admin"),
        data={"kind": "customers"},
        files={"file": ("people.csv", BAD, "text/csv")},
    )
    assert response.status_code == 201, response.text
    errors = {e["column"]: e for e in response.json()["errors"]}
    assert errors["email"]["code"] == "email_invalid"
    assert errors["email"]["reason"] == "nem e-mail-cím"
    assert errors["birth_year"]["code"] == "int_too_small"
    assert errors["birth_year"]["figures"] == {"minimum": 1900}
    assert errors["birth_year"]["reason"] == "kisebb, mint 1900"
    english = _upload(world, "admin", BAD)["errors"]
    assert isinstance(english, list)
    assert {e["reason"] for e in english} == {"not an e-mail address", "less than 1900"}
    wrong = world.client.post(
        "/api/v1/imports?lang=de",
        headers=world.headers("admin"),
        data={"kind": "customers"},
        files={"file": ("people.csv", BAD, "text/csv")},
    )
    assert wrong.status_code == 422


def test_a_clean_upload_is_committed_once(world: World) -> None:
    before = _customers(world)
    report = _upload(world, "admin", GOOD)
    assert report["rejected"] == 0 and report["committed"] is False
    assert _customers(world) == before
    url = f"/api/v1/imports/{report['upload_id']}/commit"
    done = world.client.post(url, headers=world.headers("admin"))
    assert done.status_code == 200, done.text
    assert done.json()["committed"] is True
    assert (done.json()["imported"], done.json()["rejected"]) == (3, 0)
    assert _customers(world) == before + 3
    with UnitOfWork(world.engine) as uow:
        actions = list(uow.session.scalars(select(AuditEntry.action)))
    assert "import" in actions
    again = world.client.post(url, headers=world.headers("admin"))
    assert again.status_code == 404


def test_the_imports_resource_gives_the_status_of_an_upload(world: World) -> None:
    report = _upload(world, "admin", GOOD)
    upload_id = report["upload_id"]
    checked = world.client.get(f"/api/v1/imports/{upload_id}", headers=world.headers("admin"))
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert (body["action"], body["state"], body["stage"]) == ("check", "done", "finished")
    assert (body["rows"], body["rows_checked"], body["fields"]) == (3, 3, 4)
    assert body["outcome"]["rejected"] == 0
    done = world.client.post(f"/api/v1/imports/{upload_id}/commit", headers=world.headers("admin"))
    assert done.json()["committed"] is True
    after = world.client.get(f"/api/v1/imports/{upload_id}", headers=world.headers("admin"))
    body = after.json()
    assert (body["action"], body["state"]) == ("commit", "done")
    assert (body["rows_to_write"], body["rows_written"]) == (3, 3)
    assert body["outcome"]["committed"] is True and body["outcome"]["imported"] == 3
    hidden = world.client.get(f"/api/v1/imports/{upload_id}", headers=world.headers("analyst"))
    assert hidden.status_code == 403


def test_a_rejected_commit_reports_store_references_and_writes_nothing(world: World) -> None:
    data = b"external_id,name,referred_by\nR-1,Referred,NOBODY-KNOWN\n"
    report = _upload(world, "admin", data)
    assert report["rejected"] == 0
    before = _customers(world)
    done = world.client.post(
        f"/api/v1/imports/{report['upload_id']}/commit", headers=world.headers("admin")
    )
    assert done.status_code == 200
    body = done.json()
    assert body["committed"] is False and body["rejected"] == 1
    assert body["errors"][0]["column"] == "referred_by"
    assert _customers(world) == before


def test_unsupported_files_and_kinds_are_refused(world: World) -> None:
    headers = world.headers("admin")
    exe = world.client.post(
        "/api/v1/imports",
        headers=headers,
        data={"kind": "customers"},
        files={"file": ("run.exe", b"MZ", "application/octet-stream")},
    )
    assert exe.status_code == 422
    kind = world.client.post(
        "/api/v1/imports",
        headers=headers,
        data={"kind": "spaceships"},
        files={"file": ("a.csv", GOOD, "text/csv")},
    )
    assert kind.status_code == 422
    traversal = world.client.post("/api/v1/imports/..%2F..%2Fetc/commit", headers=headers)
    assert traversal.status_code == 404


def _commit(world: World, role: str, upload_id: object, lang: str = "en") -> dict[str, object]:
    response = world.client.post(
        f"/api/v1/imports/{upload_id}/commit?lang={lang}", headers=world.headers(role)
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _upload_kind(world: World, role: str, kind: str, data: bytes) -> httpx2.Response:
    response = world.client.post(
        "/api/v1/imports",
        headers=world.headers(role),
        data={"kind": kind},
        files={"file": (f"{kind}.csv", data, "text/csv")},
    )
    return response


def test_a_managers_import_touching_another_teams_customer_is_refused_with_the_row(
    world: World,
) -> None:
    customers = b"external_id,name,owner\nT-M,Team Mine,representative\nT-O,Theirs,outsider\n"
    staged = _upload_kind(world, "admin", "customers", customers)
    assert _commit(world, "admin", staged.json()["upload_id"])["committed"] is True
    before = _customers(world)
    with UnitOfWork(world.engine) as uow:
        orders_before = int(uow.session.scalar(select(func.count(Order.id))) or 0)
    orders = (
        b"external_id,customer,ordered_at,total\nTO-1,T-M,2026-03-01,100\nTO-2,T-O,2026-03-02,200\n"
    )
    checked = _upload_kind(world, "manager", "orders", orders)
    assert checked.status_code == 201, checked.text
    body = _commit(world, "manager", checked.json()["upload_id"], lang="hu")
    assert body["committed"] is False and body["rejected"] == 1
    errors = body["errors"]
    assert isinstance(errors, list) and len(errors) == 1
    assert (errors[0]["row"], errors[0]["column"], errors[0]["value"]) == (3, "customer", "T-O")
    assert errors[0]["code"] == "customer_outside_team"
    assert errors[0]["reason"].startswith("az ügyfél a csapatán kívüli munkatársé")
    assert _customers(world) == before
    with UnitOfWork(world.engine) as uow:
        assert int(uow.session.scalar(select(func.count(Order.id))) or 0) == orders_before
    fixed = _upload_kind(world, "manager", "orders", orders.replace(b"T-O", b"T-M"))
    done = _commit(world, "manager", fixed.json()["upload_id"])
    assert done["committed"] is True and done["imported"] == 2


def test_a_manager_may_not_upload_staff_files_and_the_denial_is_audited(world: World) -> None:
    refused = _upload_kind(world, "manager", "users", b"username,display_name,role\nx,X,admin\n")
    assert refused.status_code == 403
    with UnitOfWork(world.engine) as uow:
        denials = uow.session.scalars(
            select(AuditEntry.entity).where(AuditEntry.action == "denied")
        ).all()
    assert "import.upload" in denials
