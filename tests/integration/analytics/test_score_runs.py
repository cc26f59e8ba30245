"""Score runs persisted, read back, explained; the funnel across runs; the whale curve."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clientbase.config import get_settings
from clientbase.domain.vocabulary import Role
from clientbase.errors import NotFound, PermissionDenied
from clientbase.security.actor import Actor
from clientbase.services.score_queries import (
    customers_table,
    explain_customer,
    funnel_report,
    whale_report,
)
from clientbase.services.scoring import run_score
from clientbase.storage.database import open_engine
from clientbase.storage.orm import AuditEntry, CustomerScore, ScoreRun
from tests.integration.analytics.handbuilt import AS_OF, build

ADMIN = Actor.local_operator()


def test_a_run_is_persisted_with_every_customer(store_url: str) -> None:
    build(store_url)
    settings = get_settings(db=store_url)
    summary = run_score(settings, ADMIN, as_of=AS_OF)
    assert summary.customers_scored == 14
    assert summary.counts["rung"] == {"1": 2, "2": 2, "3": 4, "4": 1, "5": 3, "6": 1, "7": 1}
    engine = open_engine(store_url)
    with engine.connect() as conn:
        run = conn.execute(select(ScoreRun)).one()
        assert (run.status, run.as_of, run.customers_scored) == ("completed", AS_OF, 14)
        assert run.policy_hash == summary.policy_hash and run.duration_s > 0
        rows = conn.execute(
            select(
                CustomerScore.rung,
                CustomerScore.category,
                CustomerScore.rung_reason,
                CustomerScore.net_contribution_minor,
                CustomerScore.last_purchase,
            ).where(CustomerScore.customer_id == 3)
        ).one()
        assert rows == (
            7,
            "loyal",
            "partner",
            3 * 4_000 * 2 - 334 - 12_000 + 12_000,
            date(2025, 6, 15),
        )
        assert conn.execute(select(func.count()).select_from(AuditEntry)).scalar() == 1
    engine.dispose()

    lost = customers_table(settings, ADMIN, category="lost")
    assert sorted(lost.column("customer_id").to_pylist()) == [7, 13]
    members = customers_table(settings, ADMIN, rung=5)
    assert sorted(members.column("customer_id").to_pylist()) == [4, 6, 13]

    e = explain_customer(settings, ADMIN, 6)
    assert e.category == "demanding"
    assert e.sentence.startswith("member: 6 purchase occasions in the last 365 days; ")
    assert "demanding: 3 complaints and claims in the last 365 days (3 or more)" in e.sentence
    assert e.timeline["events"]["complaint"]["count"] == 3
    assert e.statement["net_contribution_minor"] == e.features["net_contribution_minor"]
    with pytest.raises(NotFound):
        explain_customer(settings, ADMIN, 999)


def test_funnel_and_whale_across_runs(store_url: str) -> None:
    build(store_url)
    settings = get_settings(db=store_url)
    run_score(settings, ADMIN, as_of=date(2024, 9, 30))
    run_score(settings, ADMIN, as_of=AS_OF)
    report = funnel_report(settings, ADMIN, window_days=365)
    assert report["runs"] == 2
    now = {r["rung"]: r["customers"] for r in report["rungs"]}
    assert now[5] == 3
    conversion = {r["rung"]: r for r in report["conversion"]}
    # Customer 3 was a first-time buyer on 2024-09-30 ... and a partner on 2025-06-30.
    assert conversion[3]["entered"] >= 1 and conversion[3]["median_days_to_climb"] == 273.0
    kinds = {m["kind"] for m in report["transitions"]}
    assert "climb" in kinds
    whale = whale_report(settings, ADMIN)
    curve = whale["whale"]
    assert curve["customers"] == 14
    assert curve["peak_minor"] >= curve["total_minor"]
    assert sum(r["net_contribution_minor"] for r in whale["by_rung"]) == curve["total_minor"]
    losers = {r["customer_id"]: r for r in whale["loss_makers"]}
    assert losers[9]["net_contribution_minor"] == 4_000 - 20_000
    assert losers[9]["drivers"] == ["complaint_cost_minor"]


def test_representatives_may_not_score(sqlite_url: str) -> None:
    rep = Actor(user_id=None, username="rep", role=Role.REPRESENTATIVE)
    with pytest.raises(PermissionDenied):
        run_score(get_settings(db=sqlite_url), rep)


def test_a_policy_file_is_used_and_hashed(sqlite_url: str, tmp_path: Path) -> None:
    build(sqlite_url)
    strict = tmp_path / "strict.toml"
    strict.write_text("[rungs]\nmember_min_occasions = 7\n", "utf-8")
    settings = get_settings(db=sqlite_url)
    default = run_score(settings, ADMIN, as_of=AS_OF)
    custom = run_score(settings, ADMIN, as_of=AS_OF, policy_path=strict)
    assert custom.policy_hash != default.policy_hash
    assert custom.counts["rung"].get("5", 0) < default.counts["rung"]["5"]
    with pytest.raises(NotFound):
        run_score(settings, ADMIN, as_of=AS_OF, policy_path=tmp_path / "missing.toml")
