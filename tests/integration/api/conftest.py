"""A small business with one user per role, customers owned by them, and API tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from clientbase.api.app import create_app
from clientbase.config import get_settings
from clientbase.domain.vocabulary import Role
from clientbase.security.actor import Actor
from clientbase.services.sign_in import create_token
from clientbase.services.users import add_user
from clientbase.storage.orm import Customer, Event, Order, ScoreRun
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
        run = ScoreRun(as_of=date(2026, 3, 1), policy_hash="0" * 64, status="finished")
        uow.session.add(run)
        uow.session.flush()
        run_id = run.id
        uow.commit()
    tokens = {role: create_token(engine, op, role, "tests") for role in (*ROLES, "outsider")}
    return {"users": users, "customers": customers, "tokens": tokens, "run_id": run_id}


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    facts = build_world(engine)
    app = create_app(get_settings(), engine)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield World(engine=engine, client=client, **facts)  # type: ignore[arg-type]
