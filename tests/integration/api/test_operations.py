"""What each API operation answers, for the roles that may call it."""

from __future__ import annotations

import csv
import io

from clientbase.security.actor import Actor
from clientbase.services.users import disable_user
from tests.integration.api.conftest import World


def test_lists_and_totals_cover_only_the_callers_scope(world: World) -> None:
    seen = {}
    for role in ("admin", "manager", "analyst", "representative"):
        body = world.client.get("/api/v1/customers", headers=world.headers(role)).json()
        seen[role] = ({c["id"] for c in body["items"]}, body["total"])
    c = world.customers
    assert seen["admin"] == (set(c.values()), 5)
    assert seen["analyst"] == (set(c.values()), 5)
    assert seen["manager"] == ({c["manager"], c["representative"]}, 2)
    assert seen["representative"] == ({c["representative"]}, 1)


def test_analyst_sees_no_personal_data_anywhere(world: World) -> None:
    h = world.headers("analyst")
    items = world.client.get("/api/v1/customers", headers=h).json()["items"]
    assert all(i["name"] is None and i["email"] is None and i["phone"] is None for i in items)
    detail = world.client.get(f"/api/v1/customers/{world.customers['admin']}", headers=h).json()
    assert all(detail["profile"][f] is None for f in ("name", "email", "phone", "address"))
    found = world.client.get("/api/v1/customers", params={"q": "admin@example.test"}, headers=h)
    assert found.json()["total"] == 0
    export = world.client.get("/api/v1/customers/export", headers=h)
    assert "example.test" not in export.text


def test_lookup_by_email_and_phone_is_scoped(world: World) -> None:
    h = world.headers("representative")
    mine = world.client.get(
        "/api/v1/customers", params={"q": "representative@example.test"}, headers=h
    ).json()
    assert [i["id"] for i in mine["items"]] == [world.customers["representative"]]
    theirs = world.client.get(
        "/api/v1/customers", params={"q": "outsider@example.test"}, headers=h
    ).json()
    assert theirs["total"] == 0
    by_phone = world.client.get(
        "/api/v1/customers", params={"q": "+36 30 123 4503"}, headers=h
    ).json()
    assert [i["id"] for i in by_phone["items"]] == [world.customers["representative"]]


def test_keyset_pagination_walks_every_customer_once(world: World) -> None:
    h, ids, after = world.headers("admin"), [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = world.client.get("/api/v1/customers", params=params, headers=h).json()
        ids += [i["id"] for i in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert ids == sorted(world.customers.values())


def test_detail_has_timeline_owner_and_no_score_without_a_scored_customer(world: World) -> None:
    cid = world.customers["representative"]
    body = world.client.get(f"/api/v1/customers/{cid}", headers=world.headers("manager")).json()
    assert body["owner_name"] == "Representative"
    assert [t["kind"] for t in body["timeline"]] == ["complaint", "order"]
    assert body["score"] is None


def test_create_owns_the_customer_and_read_only_fields_are_refused(world: World) -> None:
    h = world.headers("representative")
    made = world.client.post("/api/v1/customers", json={"name": "Ada", "city": "Pécs"}, headers=h)
    assert made.status_code == 201
    assert made.json()["owner_id"] == world.users["representative"]
    for field, value in (("owner_id", 1), ("id", 99), ("rung", 7), ("created_at", "2020-01-01")):
        refused = world.client.patch(
            f"/api/v1/customers/{made.json()['id']}", json={field: value}, headers=h
        )
        assert refused.status_code == 422
        assert field in refused.json()["error"]["fields"][0]
    changed = world.client.patch(
        f"/api/v1/customers/{made.json()['id']}", json={"city": "Győr"}, headers=h
    )
    assert changed.json()["profile"]["city"] == "Győr"


def test_export_csv_is_spreadsheet_safe_and_xlsx_is_a_workbook(world: World) -> None:
    h = world.headers("admin")
    world.client.patch(
        f"/api/v1/customers/{world.customers['admin']}", json={"city": "=HYPERLINK(1)"}, headers=h
    )
    text = world.client.get("/api/v1/customers/export", headers=h).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5
    assert {r["city"] for r in rows} == {"Budapest", "'=HYPERLINK(1)"}
    xlsx = world.client.get("/api/v1/customers/export", params={"format": "xlsx"}, headers=h)
    assert xlsx.content[:2] == b"PK"


def test_events_users_runs_and_overview(world: World) -> None:
    h = world.headers("representative")
    events = world.client.get("/api/v1/events", headers=h).json()["items"]
    assert {e["customer_id"] for e in events} == {world.customers["representative"]}
    users = world.client.get("/api/v1/users", headers=world.headers("manager")).json()
    assert {u["username"] for u in users} == {"manager", "representative"}
    assert world.client.get("/api/v1/me", headers=h).json()["username"] == "representative"
    runs = world.client.get("/api/v1/score-runs", headers=h).json()
    assert [r["id"] for r in runs] == [world.run_id]
    assert runs[0]["counts"] is None  # whole-base figures are not for a representative
    overview = world.client.get("/api/v1/overview", headers=h).json()
    assert overview["kpis"]["customers"] == 1


def test_disabled_users_token_stops_working_on_the_next_request(world: World) -> None:
    h = world.headers("representative")
    assert world.client.get("/api/v1/me", headers=h).status_code == 200
    disable_user(world.engine, Actor.local_operator(), "representative")
    refused = world.client.get("/api/v1/me", headers=h)
    assert refused.status_code == 401
    assert refused.headers["x-request-id"] == refused.json()["error"]["request_id"]


def test_request_id_is_echoed_when_sane(world: World) -> None:
    r = world.client.get(
        "/api/v1/me", headers={**world.headers("admin"), "X-Request-ID": "abc12345"}
    )
    assert r.headers["x-request-id"] == "abc12345"
    spec = world.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/customers" in spec["paths"]
