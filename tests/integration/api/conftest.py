"""A small business with one user per role, customers owned by them, and API tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Boolean, Engine

from clientbase.api.app import create_app
from clientbase.config import get_settings
from clientbase.domain.vocabulary import Role
from clientbase.security.actor import Actor
from clientbase.services.sign_in import create_token
from clientbase.services.users import add_user
from clientbase.storage.orm import Customer, CustomerScore, Event, Order, ScoreRun
from clientbase.storage.unit_of_work import UnitOfWork

ROLES = ("admin", "manager", "analyst", "representative")


@dataclass
class World:
    engine: Engine
    client: TestClient
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    run_id: int = 0

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def build_world(engine: Engine) -> dict[str, object]:
    """Users admin, manager, analyst, representative (in the manager's team) and outsider
    (another representative); each owns one customer named after them."""
    op = Actor.local_operator()
    users: dict[str, int] = {}
    for name, role, manager in (
        ("admin", Role.ADMIN, None),
        ("manager", Role.MANAGER, None),
        ("analyst", Role.ANALYST, None),
        ("representative", Role.REPRESENTATIVE, "manager"),
        ("outsider", Role.REPRESENTATIVE, None),
    ):
        users[name] = add_user(
            engine, op, username=name, display_name=name.title(), role=role, manager=manager
        ).id
    customers: dict[str, int] = {}
    with UnitOfWork(engine) as uow:
        for i, (name, owner) in enumerate(users.items()):
            c = Customer(
                name=f"Customer of {name}",
                email=f"{name}@example.test",
                phone=f"+36 30 123 45{i:02d}",
                address=f"{i} Main Street",
                city="Budapest",
                country="HU",
                owner_id=owner,
            )
            uow.session.add(c)
            uow.session.flush()
            customers[name] = c.id
            uow.session.add(
                Order(
                    external_id=f"o{i}",
                    customer_id=c.id,
                    ordered_at=datetime(2026, 1, 1 + i),
                    total_minor=10_000 * (i + 1),
                )
            )
            uow.session.add(
                Event(
                    external_id=f"e{i}",
                    customer_id=c.id,
                    occurred_at=datetime(2026, 2, 1 + i),
                    kind="complaint",
                    cost_minor=500,
                )
            )
        run = ScoreRun(as_of=date(2026, 3, 1), policy_hash="0" * 64, status="completed")
        uow.session.add(run)
        uow.session.flush()
        run_id = run.id
        uow.commit()
    tokens = {role: create_token(engine, op, role, "tests") for role in (*ROLES, "outsider")}
    return {"users": users, "customers": customers, "tokens": tokens, "run_id": run_id}


#: Per customer of :func:`build_world` (admin, manager, analyst, representative, outsider):
#: rung, its reason code, what blocks the next rung, category and its reason, RFM segment.
_STANDING = (
    (4, "client", "not_regular", "average.below_member", "need_attention"),
    (5, "member.regular", "no_advocacy", "loyal", "loyal"),
    (3, "first_time_buyer", "one_occasion", "demanding.complaints", "at_risk"),
    (4, "client", "not_regular", "average.below_member", "cant_lose"),
    (6, "advocate", "no_converted_referral", "lost.inactive", "hibernating"),
)


def score_world(engine: Engine, customers: dict[str, int]) -> list[int]:
    """Two completed score runs of the world's customers (in the first, some stood a rung
    lower, so the funnel has climbs); the customer of ``analyst`` loses money."""
    columns = CustomerScore.__table__.columns
    defaults = {
        c.name: False if isinstance(c.type, Boolean) else 0
        for c in columns
        if not c.nullable and c.name != "run_id"
    }
    runs = []
    with UnitOfWork(engine) as uow:
        for k, as_of in enumerate((date(2025, 3, 1), date(2026, 3, 1))):
            run = ScoreRun(as_of=as_of, policy_hash="0" * 64, status="completed")
            uow.session.add(run)
            uow.session.flush()
            runs.append(run.id)
            for i, cid in enumerate(customers.values()):
                rung, reason, blocker, cat_reason, segment = _STANDING[i]
                if k == 0 and rung > 3 and i % 2 == 1:
                    rung, reason, blocker = rung - 1, "client", "not_regular"
                loss = i == 2
                values = {
                    **defaults,
                    "customer_id": cid,
                    "rung": rung,
                    "rung_reason": reason,
                    "rung_blocker": blocker,
                    "category": cat_reason.split(".")[0],
                    "category_reason": cat_reason,
                    "rfm_segment": segment,
                    "occasions": rung - 2,
                    "occasions_trailing": rung - 3,
                    "complaints_trailing": 4 * loss,
                    "days_since_last": 400 if i == 4 else 20,
                    "allowed_days": 180,
                    "revenue_minor": 200_000 + 50_000 * i,
                    "cogs_minor": 200_000 + 50_000 * i - 80_000 * (k + 1),
                    "gross_margin_minor": 80_000 * (k + 1),
                    "complaint_cost_minor": 110_000 * loss * (k + 1),
                    "service_cost_minor": 9_000 * loss * (k + 1),
                    "net_contribution_minor": (-39_000 if loss else 80_000) * (k + 1),
                    "clv_minor": 120_000 + 10_000 * i,
                    "p_alive": 0.9 - 0.15 * i,
                    "rfm_r": 1 + i % 5,
                    "rfm_f": 1 + (i * 2) % 5,
                }
                uow.session.add(CustomerScore(run_id=run.id, **values))
        uow.commit()
    return runs


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    facts = build_world(engine)
    app = create_app(get_settings(), engine)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield World(engine=engine, client=client, **facts)  # type: ignore[arg-type]
