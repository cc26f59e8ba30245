"""The overview's cache: per scope, and a new customer or score run is seen at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from clientbase.domain.vocabulary import Role
from clientbase.errors import PermissionDenied
from clientbase.security.actor import Actor
from clientbase.services.customer_fields import CustomerFields
from clientbase.services.customers import create_customer
from clientbase.services.overview import overview
from tests.integration.api.conftest import build_world, score_world


@pytest.fixture
def facts(engine: Engine) -> dict[str, Any]:
    world = build_world(engine)
    world["runs"] = score_world(engine, world["customers"])  # type: ignore[arg-type]
    return world


def _actor(facts: dict[str, Any], name: str, role: Role) -> Actor:
    return Actor(user_id=facts["users"][name], username=name, role=role)


def test_cached_figures_stay_per_scope_and_follow_new_data(
    engine: Engine, facts: dict[str, Any]
) -> None:
    admin = _actor(facts, "admin", Role.ADMIN)
    rep = _actor(facts, "representative", Role.REPRESENTATIVE)
    first = overview(engine, admin)
    assert overview(engine, admin) is first  # served from the cache
    assert first.kpis.scored == 5
    mine = overview(engine, rep)
    assert (mine.kpis.customers, mine.kpis.scored) == (1, 1)
    assert overview(engine, admin).kpis.scored == 5
    create_customer(engine, admin, CustomerFields(name="Newcomer"))
    assert overview(engine, admin).kpis.customers == first.kpis.customers + 1
    assert overview(engine, rep).kpis.customers == 1
    newer = score_world(engine, facts["customers"])
    assert overview(engine, admin).run_id == newer[-1]


def test_the_permission_is_checked_even_when_cached(
    engine: Engine, facts: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = _actor(facts, "admin", Role.ADMIN)
    overview(engine, admin)
    from clientbase.security import rbac

    monkeypatch.setitem(rbac._POLICY, Role.ADMIN, frozenset())
    with pytest.raises(PermissionDenied):
        overview(engine, admin)


def test_one_scan_figures_add_up(engine: Engine, facts: dict[str, Any]) -> None:
    """Ladder, categories, channels and RFM come from one grouped scan, the whale curve from
    a window sum: they must agree with the KPIs and with a plain sort of the profits."""
    for name, role in (("admin", Role.ADMIN), ("representative", Role.REPRESENTATIVE)):
        o = overview(engine, _actor(facts, name, role))
        k = o.kpis
        assert sum(o.ladder.values()) == k.scored
        assert list(o.ladder) == sorted(o.ladder)
        assert sum(c.customers for c in o.channels) == k.scored
        assert sum(c.revenue_minor for c in o.channels) == k.revenue_minor
        assert sum(c.net_contribution_minor for c in o.channels) == k.net_contribution_minor
        assert sum(c.clv_minor for c in o.channels) == k.clv_minor
        lost = [c.customers for c in o.categories if c.category == "lost"]
        assert k.lost == sum(lost)
        assert sum(n for _, _, n in o.rfm) <= k.scored
        assert o.whale[0].customer_share == 0.0 and o.whale[-1].customer_share == 1.0
        assert o.whale[-1].cumulative_profit_minor == k.net_contribution_minor
        shares = [p.customer_share for p in o.whale]
        assert shares == sorted(shares)
