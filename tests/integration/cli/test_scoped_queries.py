"""``customers``, ``explain``, ``funnel`` and ``whale`` see what the asking user may see.

The world of the API tests: users admin, manager, analyst, representative (in the manager's
team) and outsider, each owning one customer, scored twice. Without a token the CLI is the
local administrator; with ``--token`` or CLIENTBASE_TOKEN it is the token's user.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, select

from clientbase.cli.app import main
from clientbase.config import _env_settings
from clientbase.security.actor import Actor
from clientbase.services.users import disable_user
from clientbase.storage.orm import AuditEntry
from tests.integration.api.conftest import build_world, score_world


@pytest.fixture
def facts(engine: Engine) -> dict[str, Any]:
    world = build_world(engine)
    score_world(engine, world["customers"])  # type: ignore[arg-type]
    return world


def cli(capsys: pytest.CaptureFixture[str], store_url: str, *args: str) -> tuple[int, str, str]:
    """Run ``clientbase --db STORE ARGS`` in this process: exit code, stdout, stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["--db", store_url, *args])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def listed(capsys: pytest.CaptureFixture[str], store_url: str, *args: str) -> list[int]:
    code, out, err = cli(capsys, store_url, "customers", "-f", "json", *args)
    assert code == 0, err
    return [row["customer_id"] for row in json.loads(out)]


def _personal_data(facts: dict[str, Any]) -> list[str]:
    values = []
    for i, name in enumerate(facts["users"]):
        values += [f"Customer of {name}", f"{name}@example.test", f"123 45{i:02d}"]
        values.append(f"{i} Main Street")
    return values


def test_a_representative_sees_only_their_own_customers(
    capsys: pytest.CaptureFixture[str], store_url: str, facts: dict[str, Any]
) -> None:
    customers, tokens = facts["customers"], facts["tokens"]
    assert listed(capsys, store_url) == sorted(customers.values())  # the local admin
    rep = ["--token", tokens["representative"]]
    assert listed(capsys, store_url, *rep) == [customers["representative"]]
    # The scope is applied before the limit: their one customer is not cut off by others.
    assert listed(capsys, store_url, *rep, "--limit", "1") == [customers["representative"]]
    assert listed(capsys, store_url, *rep, "--rung", "5") == []
    assert listed(capsys, store_url, "--token", tokens["manager"]) == sorted(
        [customers["manager"], customers["representative"]]
    )
    assert listed(capsys, store_url, "--token", tokens["analyst"]) == sorted(customers.values())
    _, _, err = cli(capsys, store_url, "customers", *rep)
    assert "acting as representative (representative)" in err


def test_a_representative_may_explain_their_customer_only(
    capsys: pytest.CaptureFixture[str], store_url: str, engine: Engine, facts: dict[str, Any]
) -> None:
    own, other = facts["customers"]["representative"], facts["customers"]["outsider"]
    token = facts["tokens"]["representative"]
    code, out, err = cli(capsys, store_url, "explain", str(own), "-f", "json", "--token", token)
    assert code == 0, err
    assert json.loads(out)["customer_id"] == own
    code, out, err = cli(capsys, store_url, "explain", str(other), "--token", token)
    assert code == 66
    assert f"no customer {other}" in err
    assert out == ""
    with engine.connect() as conn:
        denials = conn.execute(
            select(AuditEntry.actor, AuditEntry.entity, AuditEntry.detail).where(
                AuditEntry.action == "denied"
            )
        ).all()
    assert (
        "representative",
        "customer.explain",
        {"customer_id": other, "reason": "not_found"},
    ) in [tuple(d) for d in denials]
    # The manager explains their team's customer; the admin anyone's.
    code, _, err = cli(
        capsys, store_url, "explain", str(own), "--token", facts["tokens"]["manager"]
    )
    assert code == 0, err
    code, _, err = cli(capsys, store_url, "explain", str(other))
    assert code == 0, err


def test_funnel_and_whale_cover_the_representatives_customers(
    capsys: pytest.CaptureFixture[str], store_url: str, facts: dict[str, Any]
) -> None:
    token = facts["tokens"]["representative"]
    code, out, err = cli(capsys, store_url, "funnel", "-f", "json", "--token", token)
    assert code == 0, err
    funnel = json.loads(out)
    own = listed(capsys, store_url, "--token", token)
    assert sum(r["customers"] for r in funnel["rungs"]) == len(own) == 1
    assert [(r["rung"], r["customers"]) for r in funnel["rungs"]] == [(4, 1)]
    code, out, err = cli(capsys, store_url, "funnel", "-f", "json")
    assert sum(r["customers"] for r in json.loads(out)["rungs"]) == 5

    code, out, err = cli(capsys, store_url, "whale", "-f", "json", "--token", token)
    assert code == 0, err
    whale = json.loads(out)
    assert whale["whale"]["total_minor"] == 160_000
    assert whale["loss_makers"] == []
    code, out, err = cli(capsys, store_url, "whale", "-f", "json")
    assert json.loads(out)["whale"]["total_minor"] == 4 * 160_000 - 78_000


def test_an_analyst_sees_every_customer_and_no_personal_data(
    capsys: pytest.CaptureFixture[str], store_url: str, facts: dict[str, Any]
) -> None:
    token = facts["tokens"]["analyst"]
    outputs = []
    for args in (
        ["customers", "-f", "json"],
        ["customers", "-f", "csv"],
        ["customers"],
        ["explain", str(facts["customers"]["outsider"]), "-f", "json"],
        ["explain", str(facts["customers"]["outsider"])],
        ["funnel", "-f", "json"],
        ["whale", "-f", "json"],
    ):
        code, out, err = cli(capsys, store_url, *args, "--token", token)
        assert code == 0, err
        outputs.append(out + err)
    text = "\n".join(outputs)
    assert str(facts["customers"]["outsider"]) in text
    for value in _personal_data(facts):
        assert value not in text


def test_bad_and_disabled_tokens_are_refused_clearly(
    capsys: pytest.CaptureFixture[str],
    store_url: str,
    engine: Engine,
    facts: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = cli(capsys, store_url, "customers", "--token", "cbt_not-a-token")
    assert (code, out) == (77, "")
    assert "the token is not valid: no such token" in err
    assert "Traceback" not in err

    disable_user(engine, Actor.local_operator(), "outsider")
    code, out, err = cli(capsys, store_url, "funnel", "--token", facts["tokens"]["outsider"])
    assert (code, out) == (77, "")
    assert "the token's user is disabled" in err
    with engine.connect() as conn:
        failures = conn.execute(
            select(AuditEntry.detail).where(AuditEntry.action == "login.failed")
        ).scalars()
        reasons = [d["reason"] for d in failures]
    assert reasons == ["unknown", "user_disabled"]

    # CLIENTBASE_TOKEN works like --token, and --token wins over it.
    monkeypatch.setenv("CLIENTBASE_TOKEN", facts["tokens"]["representative"])
    _env_settings.cache_clear()
    assert listed(capsys, store_url) == [facts["customers"]["representative"]]
    manager = listed(capsys, store_url, "--token", facts["tokens"]["manager"])
    assert len(manager) == 2
