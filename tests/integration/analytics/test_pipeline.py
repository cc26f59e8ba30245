"""The feature pipeline and the rules on a hand-built store, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from clientbase.domain.policy import default_policy
from clientbase.services.scoring import compute_scores, read_store
from tests.integration.analytics.handbuilt import AS_OF, build


def _by_id(table: pa.Table) -> dict[int, dict[str, Any]]:
    return {row["customer_id"]: row for row in table.to_pylist()}


@pytest.fixture
def scored(store_url: str) -> dict[int, dict[str, Any]]:
    build(store_url)
    return _by_id(compute_scores(store_url, AS_OF, default_policy()))


def test_rungs_and_categories(scored: dict[int, dict[str, Any]]) -> None:
    got = {cid: (row["rung"], row["category"]) for cid, row in scored.items()}
    assert got == {
        1: (3, "average"),
        2: (3, "average"),
        3: (7, "loyal"),
        4: (5, "loyal"),
        5: (6, "loyal"),
        6: (5, "demanding"),
        7: (4, "lost"),
        8: (2, None),
        9: (3, "demanding"),
        10: (1, None),
        11: (1, None),
        12: (2, None),
        13: (5, "lost"),
        14: (3, "average"),
    }


def test_occasions_and_as_of(scored: dict[int, dict[str, Any]]) -> None:
    one = scored[1]
    assert one["occasions"] == 1 and one["revenue_minor"] == 10_000
    assert one["discount_minor"] == 500 and one["cogs_minor"] == 1_000
    assert str(one["last_purchase"]) == "2025-05-01" and one["days_since_last"] == 60
    assert scored[2]["occasions"] == 1 and scored[2]["orders_returned"] == 1
    assert scored[2]["revenue_minor"] == 10_000
    assert 15 not in scored  # acquired after the as-of day
    assert scored[11]["interest_signals"] == 0


def test_member_features(scored: dict[int, dict[str, Any]]) -> None:
    three = scored[3]
    assert three["occasions"] == 6 and three["occasions_trailing"] == 6
    assert three["median_gap_days"] == pytest.approx(61.0)
    assert three["referrals_made"] == 1 and three["referrals_converted"] == 1
    assert three["promoter_answers"] == 1 and three["nps_latest"] == 10
    assert scored[4]["nps_latest"] == 4 and scored[4]["rung_blocker"] == "detractor"
    assert scored[5]["referrals_made"] == 1 and scored[5]["referrals_converted"] == 0
    assert scored[7]["rung_blocker"] == "inactive"
    assert scored[7]["category_reason"] == "lost.inactive"
    assert scored[13]["category_reason"] == "lost.cancelled"
    assert scored[12]["interest_signals"] == 1


def test_money_to_the_cent(scored: dict[int, dict[str, Any]]) -> None:
    shares = [scored[c]["acquisition_cost_minor"] for c in (3, 4, 5)]
    assert shares == [334, 333, 333]
    assert scored[14]["acquisition_cost_minor"] == 0
    six = scored[6]
    assert six["revenue_minor"] == 3_000_000 and six["cogs_minor"] == 36_000
    assert six["returns_minor"] == 7_500 and six["bonuses_minor"] == 3_000
    assert six["complaints"] == 3 and six["complaint_cost_minor"] == 6_000
    assert six["service_contacts"] == 1 and six["service_cost_minor"] == 800
    assert six["cost_to_serve_minor"] == 17_300
    assert six["net_contribution_minor"] == 3_000_000 - 36_000 - 17_300
    assert six["complaints_trailing"] == 3
    assert six["category_reason"] == "demanding.complaints"


def test_nothing_after_the_as_of_day_leaks_in(store_url: str) -> None:
    build(store_url)
    inputs = read_store(store_url, AS_OF)
    for name in ("orders", "events", "responses"):
        days = inputs[name].column("day").to_pylist()
        assert days and max(days) <= AS_OF
    assert 9_999 not in inputs["campaigns"].column("cost_minor").to_pylist()


@pytest.mark.postgres
def test_sqlite_and_postgresql_agree_to_the_cent(sqlite_url: str, pg_url: str) -> None:
    build(sqlite_url)
    build(pg_url)
    lite = compute_scores(sqlite_url, AS_OF, default_policy())
    pg = compute_scores(pg_url, AS_OF, default_policy())
    assert lite.schema == pg.schema
    assert lite.to_pylist() == pg.to_pylist()
