"""The funnel, profitability, reasons and named lists cover only what the actor may see."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from clientbase.domain.vocabulary import Role
from clientbase.errors import InvalidInput, NotFound
from clientbase.security.actor import Actor
from clientbase.services.customers import CustomerFilter, list_customers
from clientbase.services.score_queries import customer_reasons, ladder_funnel, profitability
from tests.integration.api.conftest import build_world, score_world


@pytest.fixture
def facts(engine: Engine) -> dict[str, Any]:
    world = build_world(engine)
    score_world(engine, world["customers"])  # type: ignore[arg-type]
    return world


def _actor(facts: dict[str, Any], name: str, role: Role) -> Actor:
    return Actor(user_id=facts["users"][name], username=name, role=role)


def test_a_representative_funnel_counts_only_their_customers(
    engine: Engine, facts: dict[str, Any]
) -> None:
    admin = ladder_funnel(engine, _actor(facts, "admin", Role.ADMIN))
    rep = ladder_funnel(engine, _actor(facts, "representative", Role.REPRESENTATIVE))
    assert sum(r["customers"] for r in admin["rungs"]) == 5
    # The representative's one customer is a client (rung 4) who climbed from 3 meanwhile.
    assert [(r["rung"], r["customers"]) for r in rep["rungs"]] == [(4, 1)]
    climbs = {(m["from_rung"], m["to_rung"]): m["customers"] for m in admin["transitions"]}
    assert climbs[(4, 5)] == 1 and climbs[(3, 4)] == 1
    rep_moves = [(m["from_rung"], m["to_rung"], m["kind"]) for m in rep["transitions"]]
    assert rep_moves == [(3, 4, "climb")]
    manager = ladder_funnel(engine, _actor(facts, "manager", Role.MANAGER))
    assert sum(r["customers"] for r in manager["rungs"]) == 2


def test_profitability_totals_and_loss_makers_are_scoped(
    engine: Engine, facts: dict[str, Any]
) -> None:
    admin = profitability(engine, _actor(facts, "admin", Role.ADMIN))
    assert admin["whale"]["total_minor"] == 4 * 160_000 - 78_000
    [loser] = admin["loss_makers"]
    assert loser["customer_id"] == facts["customers"]["analyst"]
    assert loser["drivers"] == ["complaint_cost_minor"]
    rep = profitability(engine, _actor(facts, "representative", Role.REPRESENTATIVE))
    assert rep["whale"]["total_minor"] == 160_000
    assert rep["loss_makers"] == []
    assert sum(r["customers"] for r in rep["by_category"]) == 1


def test_reasons_are_sentences_in_the_users_language(engine: Engine, facts: dict[str, Any]) -> None:
    rep = _actor(facts, "representative", Role.REPRESENTATIVE)
    own = facts["customers"]["representative"]
    english = customer_reasons(engine, rep, own, language="en")
    assert [r.code for r in english] == [
        "rung.client",
        "next.not_regular",
        "category.average.below_member",
    ]
    assert english[0].text == "client: 2 purchase occasions"
    hungarian = customer_reasons(engine, rep, own, language="hu")
    polish = customer_reasons(engine, rep, own, language="pl")
    assert hungarian[0].text != english[0].text != polish[0].text
    assert "2" in hungarian[0].text and "2" in polish[0].text
    with pytest.raises(NotFound):
        customer_reasons(engine, rep, facts["customers"]["outsider"], language="en")


def test_named_lists(engine: Engine, facts: dict[str, Any]) -> None:
    admin = _actor(facts, "admin", Role.ADMIN)
    at_risk = list_customers(engine, admin, CustomerFilter(segment="at_risk"))
    # at_risk and cant_lose segments; the hibernating lost customer is not at risk.
    assert {c.id for c in at_risk.items} == {
        facts["customers"]["analyst"],
        facts["customers"]["representative"],
    }
    losers = list_customers(engine, admin, CustomerFilter(segment="loss_makers"))
    assert [c.id for c in losers.items] == [facts["customers"]["analyst"]]
    rep = _actor(facts, "representative", Role.REPRESENTATIVE)
    assert list_customers(engine, rep, CustomerFilter(segment="at_risk")).total == 1
    assert list_customers(engine, rep, CustomerFilter(segment="loss_makers")).total == 0
    with pytest.raises(InvalidInput):
        list_customers(engine, admin, CustomerFilter(segment="everyone"))
