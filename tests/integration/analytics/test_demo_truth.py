"""The planted truths of the demo business come out of the analytics (issue #3)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from clientbase.config import get_settings
from clientbase.domain.policy import default_policy
from clientbase.services.demo import build_demo
from clientbase.services.scoring import compute_scores
from clientbase.storage.database import open_engine


@pytest.mark.slow
def test_planted_rungs_and_categories_agree(sqlite_url: str) -> None:
    demo = build_demo(get_settings(db=sqlite_url), customers=3_000, seed=7, replace=True)
    scores = compute_scores(sqlite_url, demo.as_of, default_policy())
    got = {
        r["customer_id"]: (r["rung"], r["category"])
        for r in scores.select(["customer_id", "rung", "category"]).to_pylist()
    }
    engine = open_engine(sqlite_url)
    with engine.connect() as conn:
        truth = conn.execute(text("SELECT customer_id, rung, category FROM demo_truths")).all()
    engine.dispose()
    assert len(truth) >= 2_900
    rung_rate = sum(got[c][0] == rung for c, rung, _ in truth) / len(truth)
    category_rate = sum(got[c][1] == cat for c, _, cat in truth) / len(truth)
    print(f"planted-truth agreement: rung {rung_rate:.2%}, category {category_rate:.2%}")
    assert rung_rate >= 0.95
    assert category_rate >= 0.95
