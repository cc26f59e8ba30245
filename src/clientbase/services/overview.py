"""Aggregates of the dashboard, computed in SQL over the actor's scope only.

Everything here reads the latest finished score run (and the one before it, for trends), so
a representative's totals, funnel and curves cover their own customers and nothing else.
Columns that a score run may not have (RFM scores, revenue) are looked up by name, so the
figures appear as soon as the scoring writes them.

The figures of a score run do not change once it is finished, so they are kept in a small
per-process cache keyed by (latest run, previous run, the actor's scope, the newest customer
id) for :data:`CACHE_SECONDS` at most: a new score run or a new customer is seen at once,
a change of owners within a minute. The scope is part of the key, so one user's totals are
never served to another whose scope differs; the permission check runs on every request.
The figures are computed once per key even when many requests ask at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, case, func, literal, select
from sqlalchemy.orm import Session

from clientbase.security.actor import Actor
from clientbase.security.rbac import Permission, Scope, require
from clientbase.services.access import (
    FiguresCache,
    audited_denials,
    customer_clause,
    load_scope,
)
from clientbase.services.customers import latest_run
from clientbase.storage.orm import Customer, CustomerScore, ScoreRun
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = [
    "CategoryFigures",
    "ChannelFigures",
    "Kpis",
    "Overview",
    "WhalePoint",
    "overview",
]

_WHALE_POINTS = 200
#: How long cached figures are served at most.
CACHE_SECONDS = 60.0
_CacheKey = tuple[int, int | None, frozenset[int] | None, int | None]
_cache = FiguresCache(CACHE_SECONDS)


@dataclass(frozen=True, slots=True)
class Kpis:
    customers: int
    scored: int
    revenue_minor: int
    net_contribution_minor: int
    clv_minor: int
    lost: int


@dataclass(frozen=True, slots=True)
class CategoryFigures:
    category: str
    customers: int
    revenue_minor: int
    net_contribution_minor: int


@dataclass(frozen=True, slots=True)
class ChannelFigures:
    channel: str
    customers: int
    revenue_minor: int
    net_contribution_minor: int
    clv_minor: int
    acquisition_cost_minor: int = 0


@dataclass(frozen=True, slots=True)
class WhalePoint:
    customer_share: float
    cumulative_profit_minor: int


@dataclass(frozen=True, slots=True)
class Overview:
    as_of: date | None
    run_id: int | None
    previous_as_of: date | None
    kpis: Kpis
    previous: Kpis | None
    ladder: dict[int, int] = field(default_factory=dict)
    categories: list[CategoryFigures] = field(default_factory=list)
    channels: list[ChannelFigures] = field(default_factory=list)
    whale: list[WhalePoint] = field(default_factory=list)
    rfm: list[tuple[int, int, int]] = field(default_factory=list)


def _column(name: str) -> Any:
    """A score column by name, or ``None`` when the schema does not have it."""
    return CustomerScore.__table__.c.get(name)


def _sum(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0) if column is not None else literal(0)


def _scored(run_id: int, scope: Scope, *columns: Any) -> Any:
    return (
        select(*columns)
        .select_from(CustomerScore)
        .join(Customer, Customer.id == CustomerScore.customer_id)
        .where(CustomerScore.run_id == run_id, customer_clause(scope))
    )


def _kpis(session: Session, scope: Scope, run_id: int | None) -> Kpis:
    customers = session.scalar(select(func.count(Customer.id)).where(customer_clause(scope))) or 0
    if run_id is None:
        return Kpis(int(customers), 0, 0, 0, 0, 0)
    row = session.execute(
        _scored(
            run_id,
            scope,
            func.count(),
            _sum(_column("revenue_minor")),
            _sum(CustomerScore.net_contribution_minor),
            _sum(CustomerScore.clv_minor),
            func.coalesce(func.sum(case((CustomerScore.category == "lost", 1), else_=0)), 0),
        )
    ).one()
    return Kpis(int(customers), *(int(v or 0) for v in row))


def _whale(session: Session, scope: Scope, run_id: int) -> list[WhalePoint]:
    profits = [
        int(v or 0)
        for v in session.scalars(
            _scored(run_id, scope, CustomerScore.net_contribution_minor)
            .where(CustomerScore.net_contribution_minor.is_not(None))
            .order_by(CustomerScore.net_contribution_minor.desc())
        )
    ]
    n = len(profits)
    if n == 0:
        return []
    step = max(1, n // _WHALE_POINTS)
    points = [WhalePoint(0.0, 0)]
    total = 0
    for i, value in enumerate(profits, start=1):
        total += value
        if i % step == 0 or i == n:
            points.append(WhalePoint(round(i / n, 4), total))
    return points


def overview(engine: Engine, actor: Actor) -> Overview:
    """KPIs with the previous run's for trends, the ladder, categories, channels, whale, RFM."""
    with audited_denials(engine, actor, "overview"), UnitOfWork(engine) as uow:
        require(actor, Permission.ANALYTICS_READ)
        session = uow.session
        scope = load_scope(session, actor)
        run = latest_run(session)
        if run is None:
            return Overview(None, None, None, _kpis(session, scope, None), None)
        prev = session.scalars(
            select(ScoreRun)
            .where(ScoreRun.id < run.id, ScoreRun.status.not_in(("running", "failed")))
            .order_by(ScoreRun.id.desc())
            .limit(1)
        ).first()
        newest = session.scalar(select(func.max(Customer.id)))
        key: _CacheKey = (run.id, prev.id if prev else None, scope.owner_ids, newest)
        return _cache.get(engine, key, lambda: _compute(session, scope, run, prev))


def _compute(session: Session, scope: Scope, run: ScoreRun, prev: ScoreRun | None) -> Overview:
    """Every figure of the overview for one run (and the previous one) and scope."""
    kpis = _kpis(session, scope, run.id)
    ladder = {
        int(rung): int(n)
        for rung, n in session.execute(
            _scored(run.id, scope, CustomerScore.rung, func.count()).group_by(CustomerScore.rung)
        )
    }
    revenue = _sum(_column("revenue_minor"))
    net = _sum(CustomerScore.net_contribution_minor)
    categories = [
        CategoryFigures(str(cat), int(n), int(rev), int(profit))
        for cat, n, rev, profit in session.execute(
            _scored(run.id, scope, CustomerScore.category, func.count(), revenue, net)
            .where(CustomerScore.category.is_not(None))
            .group_by(CustomerScore.category)
            .order_by(CustomerScore.category)
        )
    ]
    channels = [
        ChannelFigures(str(ch), int(n), int(rev), int(profit), int(clv), int(cac))
        for ch, n, rev, profit, clv, cac in session.execute(
            _scored(
                run.id,
                scope,
                Customer.acquisition_channel,
                func.count(),
                revenue,
                net,
                _sum(CustomerScore.clv_minor),
                _sum(_column("acquisition_cost_minor")),
            )
            .group_by(Customer.acquisition_channel)
            .order_by(Customer.acquisition_channel)
        )
    ]
    rfm: list[tuple[int, int, int]] = []
    r_col, f_col = _column("rfm_r"), _column("rfm_f")
    if r_col is not None and f_col is not None:
        rfm = [
            (int(r), int(f), int(n))
            for r, f, n in session.execute(
                _scored(run.id, scope, r_col, f_col, func.count()).group_by(r_col, f_col)
            )
            if r is not None and f is not None
        ]
    return Overview(
        as_of=run.as_of,
        run_id=run.id,
        previous_as_of=prev.as_of if prev else None,
        kpis=kpis,
        previous=_kpis(session, scope, prev.id) if prev else None,
        ladder=ladder,
        categories=categories,
        channels=channels,
        whale=_whale(session, scope, run.id),
        rfm=rfm,
    )
