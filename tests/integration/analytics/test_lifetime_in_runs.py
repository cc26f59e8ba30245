"""Score runs fit the lifetime models, use P(alive), and fall back with a reason (issue #4)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from clientbase.config import get_settings
from clientbase.security.actor import Actor
from clientbase.services.demo import build_demo
from clientbase.services.score_queries import explain_customer
from clientbase.services.scoring import run_score
from clientbase.storage.database import open_engine
from clientbase.storage.orm import Customer, CustomerScore, Order, ScoreRun
from clientbase.storage.unit_of_work import UnitOfWork


@pytest.mark.slow
def test_a_demo_run_records_p_alive_expected_purchases_and_clv(sqlite_url: str) -> None:
    settings = get_settings(db=sqlite_url)
    demo = build_demo(settings, customers=2_000, seed=11, replace=True)
    summary = run_score(settings, Actor.local_operator(), as_of=demo.as_of)
    engine = open_engine(sqlite_url)
    try:
        with UnitOfWork(engine) as uow:
            run = uow.session.get(ScoreRun, summary.run_id)
            assert run is not None and run.notes is not None
            note = run.notes["lifetime"]
            assert note["fitted"] is True, note
            assert "bgnbd" in note["params"]["purchase"]
            rows = uow.session.execute(
                select(CustomerScore).where(CustomerScore.run_id == summary.run_id)
            ).scalars()
            buyers = [
                (r.customer_id, r.rung, r.p_alive, r.expected_purchases_12m, r.clv_minor)
                for r in rows
                if r.rung >= 3
            ]
        assert buyers
        assert all(p is not None and 0 < p <= 1 for _, _, p, _, _ in buyers)
        assert all(e is not None for _, _, _, e, _ in buyers)
        assert all(v is not None and v >= 0 for _, _, _, _, v in buyers)
        # The activity rule used P(alive): no member is below the policy's minimum.
        members = [p for _, rung, p, _, _ in buyers if rung >= 5]
        assert members and all((p or 0) >= 0.2 for p in members)
        explained = explain_customer(settings, Actor.local_operator(), buyers[0][0])
        shown = str(explained)
        assert "p_alive" in shown and "clv_minor" in shown
    finally:
        engine.dispose()


def test_a_store_too_small_for_a_model_falls_back_and_says_why(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    with UnitOfWork(engine) as uow:
        for i in range(5):
            customer = Customer(name=f"c{i}")
            uow.session.add(customer)
            uow.session.flush()
            for k in range(i + 1):
                uow.session.add(
                    Order(
                        external_id=f"O{i}-{k}",
                        customer_id=customer.id,
                        ordered_at=datetime(2025, 1 + k, 1),
                        total_minor=10_000,
                        cost_minor=6_000,
                    )
                )
        uow.commit()
    summary = run_score(
        get_settings(db=sqlite_url), Actor.local_operator(), as_of=date(2025, 12, 31)
    )
    with UnitOfWork(engine) as uow:
        run = uow.session.get(ScoreRun, summary.run_id)
        assert run is not None and run.status == "completed" and run.notes is not None
        note = run.notes["lifetime"]
        assert note["fitted"] is False
        assert note["reason"] == "5 buyers, at least 100 needed"
        assert note["params"] == {"margin": 0.4}
        scores = uow.session.execute(select(CustomerScore)).scalars().all()
        assert len(scores) == 5
        assert all(s.p_alive is None and s.clv_minor is None for s in scores)
    engine.dispose()
