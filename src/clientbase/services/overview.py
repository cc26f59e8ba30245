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

from sqlalchemy import Engine, case, func, literal, or_, select
from sqlalchemy.orm import Session

from clientbase.security.actor import Actor
from clientbase.security.rbac import Permission, Scope, require
from clientbase.services.access import (
    FiguresCache,
    audited_denials,
    customer_clause,
    load_scope,
)
from clientbase.services.customers import RunRef, read_state
from clientbase.storage.orm import Customer, CustomerScore
from clientbase.storage.plain import plain_reader
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
    """The whale curve at about :data:`_WHALE_POINTS` points, cumulated in SQL.

    Profits ranked from most to least profitable, summed by a window function; only every
    ``n // _WHALE_POINTS``-th running total (and the last) leaves the database, instead of
    one row per customer.
    """
    net = CustomerScore.net_contribution_minor
    order = net.desc()
    ranked = (
        _scored(
            run_id,
            scope,
            func.row_number().over(order_by=order).label("i"),
            func.sum(net).over(order_by=order, rows=(None, 0)).label("total"),
            func.count().over().label("n"),
        )
        .where(net.is_not(None))
        .subquery()
    )
    step = case((ranked.c.n < _WHALE_POINTS, 1), else_=ranked.c.n // _WHALE_POINTS)
    rows = session.execute(
        select(ranked.c.i, ranked.c.total, ranked.c.n)
        .where(or_(ranked.c.i % step == 0, ranked.c.i == ranked.c.n))
        .order_by(ranked.c.i)
    ).all()
    if not rows:
        return []
    n = int(rows[0].n)
    return [WhalePoint(0.0, 0)] + [
        WhalePoint(round(int(i) / n, 4), int(total)) for i, total, _ in rows
    ]


def overview(engine: Engine, actor: Actor) -> Overview:
    """KPIs with the previous run's for trends, the ladder, categories, channels, whale, RFM."""
    with audited_denials(engine, actor, "overview"):
        require(actor, Permission.ANALYTICS_READ)
        with plain_reader(engine) as conn:
            scope = load_scope(conn, actor)
            state = read_state(conn)
        runs = state.runs
        if not runs:
            with UnitOfWork(engine, read_only=True) as uow:
                return Overview(None, None, None, _kpis(uow.session, scope, None), None)
        run, prev = runs[0], (runs[1] if len(runs) > 1 else None)
        newest = state.newest_customer_id
        key: _CacheKey = (run.id, prev.id if prev else None, scope.owner_ids, newest)
        return _cache.get(engine, key, lambda: _computed(engine, scope, run, prev))


def _computed(engine: Engine, scope: Scope, run: RunRef, prev: RunRef | None) -> Overview:
    """:func:`_compute` in a unit of work of its own (the cache may run it in the background)."""
    with UnitOfWork(engine, read_only=True) as uow:
        return _compute(uow.session, scope, run, prev)


def _compute(session: Session, scope: Scope, run: RunRef, prev: RunRef | None) -> Overview:
    """Every figure of the overview for one run (and the previous one) and scope.

    One grouped scan by (rung, category, channel, RFM cell) gives the KPIs, the ladder, the
    categories, the channels and the RFM grid; the whale curve and the previous run's KPIs
    take one scan each (there were eight scans).
    """
    revenue = _sum(_column("revenue_minor"))
    net = _sum(CustomerScore.net_contribution_minor)
    clv = _sum(CustomerScore.clv_minor)
    r_col, f_col = _column("rfm_r"), _column("rfm_f")
    rfm_cols = [r_col, f_col] if r_col is not None and f_col is not None else []
    keys = [CustomerScore.rung, CustomerScore.category, Customer.acquisition_channel, *rfm_cols]
    groups = session.execute(
        _scored(
            run.id,
            scope,
            *keys,
            func.count(),
            revenue,
            net,
            clv,
            _sum(_column("acquisition_cost_minor")),
        ).group_by(*keys)
    ).all()
    ladder: dict[int, int] = {}
    by_category: dict[str, list[int]] = {}
    by_channel: dict[str, list[int]] = {}
    by_rfm: dict[tuple[int, int], int] = {}
    totals = [0, 0, 0, 0, 0]  # scored, revenue, net, clv, lost
    for row in groups:
        rung, cat, ch = row[:3]
        n, rev, profit, value, cac = (int(v or 0) for v in row[-5:])
        ladder[int(rung)] = ladder.get(int(rung), 0) + n
        if cat is not None:
            c = by_category.setdefault(str(cat), [0, 0, 0])
            c[0], c[1], c[2] = c[0] + n, c[1] + rev, c[2] + profit
        h = by_channel.setdefault(str(ch), [0, 0, 0, 0, 0])
        for k, v in enumerate((n, rev, profit, value, cac)):
            h[k] += v
        for k, v in enumerate((n, rev, profit, value, n if cat == "lost" else 0)):
            totals[k] += v
        if rfm_cols and row[3] is not None and row[4] is not None:
            cell = (int(row[3]), int(row[4]))
            by_rfm[cell] = by_rfm.get(cell, 0) + n
    customers = session.scalar(select(func.count(Customer.id)).where(customer_clause(scope))) or 0
    rfm = [(r, f, n) for (r, f), n in sorted(by_rfm.items())]
    return Overview(
        as_of=run.as_of,
        run_id=run.id,
        previous_as_of=prev.as_of if prev else None,
        kpis=Kpis(int(customers), *totals),
        previous=_kpis(session, scope, prev.id) if prev else None,
        ladder=dict(sorted(ladder.items())),
        categories=[CategoryFigures(k, *v) for k, v in sorted(by_category.items())],
        channels=[ChannelFigures(k, *v) for k, v in sorted(by_channel.items())],
        whale=_whale(session, scope, run.id),
        rfm=rfm,
    )
