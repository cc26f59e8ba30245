"""Reading score runs: customer lists, one customer explained, the funnel, the whale curve.

Every function reads completed runs only (the latest, unless a run id is given) and covers
only what the actor may see, exactly as the dashboard and the API do
(:mod:`clientbase.security.rbac`): a representative their own customers, a manager their
team's, an analyst and an admin every customer. Lists, explanations, counts and totals are
built from score rows, which hold no personal data, so an analyst's (pseudonymised) view
shows none either. A customer out of scope is :class:`~clientbase.errors.NotFound`, as in
the customer 360, so its existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, func, select

from clientbase.analytics.engine import Engine as AnalyticsEngine
from clientbase.analytics.funnel import funnel, rung_counts, transitions
from clientbase.analytics.profitability import loss_makers, profit_by, whale_points
from clientbase.config import Settings
from clientbase.domain.policy import Policy, default_policy
from clientbase.domain.profitability import contribution_parts, loss_drivers
from clientbase.domain.reasons import Reason, build_reasons, render, render_reason
from clientbase.domain.vocabulary import Rung, ValueCategory
from clientbase.errors import InvalidInput, NotFound
from clientbase.security.actor import Actor
from clientbase.security.rbac import Permission, Scope, require
from clientbase.services.access import (
    audited_denials,
    customer_clause,
    load_scope,
    visible_customer,
    visible_customer_ids,
)
from clientbase.services.customers import latest_run as latest_finished_run
from clientbase.services.database import connect
from clientbase.storage.orm import CustomerScore, Event, Order, ScoreRun
from clientbase.storage.scores import latest_run, read_scores, run_by_id
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = [
    "Explanation",
    "ReasonText",
    "customer_reasons",
    "customers_table",
    "explain_customer",
    "funnel_report",
    "ladder_funnel",
    "parse_category",
    "parse_rung",
    "profitability",
    "whale_report",
]

LIST_COLUMNS = [
    "rung",
    "category",
    "rfm_segment",
    "occasions",
    "last_purchase",
    "revenue_minor",
    "net_contribution_minor",
    "rung_reason",
    "category_reason",
]


def parse_rung(value: str | None) -> int | None:
    """A rung given as a number (1-7) or a name (``member``, ``first_time_buyer`` …)."""
    if value is None:
        return None
    text = value.strip().lower().replace("-", "_")
    if text.isdigit() and int(text) in {r.value for r in Rung}:
        return int(text)
    try:
        return int(Rung[text.upper()])
    except KeyError:
        names = ", ".join(r.name.lower() for r in Rung)
        raise InvalidInput(f"unknown rung {value!r}: use 1-7 or one of {names}") from None


def parse_category(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return ValueCategory(value.strip().lower()).value
    except ValueError:
        names = ", ".join(c.value for c in ValueCategory)
        raise InvalidInput(f"unknown category {value!r}: use one of {names}") from None


def _policy(run: ScoreRun) -> Policy:
    """The policy a run was scored with (kept in its notes), else the default."""
    notes = run.notes or {}
    return Policy.from_dict(notes["policy"]) if "policy" in notes else default_policy()


def _run(engine: Engine, run_id: int | None) -> tuple[int, Any, Policy]:
    with UnitOfWork(engine, read_only=True) as uow:
        run = run_by_id(uow.session, run_id) if run_id else latest_run(uow.session)
        return run.id, run.as_of, _policy(run)


def _in_view(table: pa.Table, visible: list[int] | None) -> pa.Table:
    """Only the rows of customers in the actor's scope (``None``: all of them)."""
    if visible is None:
        return table
    keep = pc.is_in(table.column("customer_id"), value_set=pa.array(visible, pa.int64()))
    return table.filter(keep)


def _visible(engine: Engine, actor: Actor, action: str) -> list[int] | None:
    """Check that the actor may read analytics, and the ids of the customers they see."""
    with audited_denials(engine, actor, action), UnitOfWork(engine, read_only=True) as uow:
        require(actor, Permission.ANALYTICS_READ)
        return visible_customer_ids(uow.session, load_scope(uow.session, actor))


def _scope(engine: Engine, actor: Actor, action: str, permission: Permission) -> Scope:
    """Check that the actor may do ``permission`` (a denial is audited), and their scope."""
    with audited_denials(engine, actor, action), UnitOfWork(engine, read_only=True) as uow:
        require(actor, permission)
        return load_scope(uow.session, actor)


def _scoped_scores(
    engine: Engine,
    scope: Scope,
    run_id: int,
    columns: list[str],
    *,
    where: dict[str, Any],
    limit: int | None,
) -> pa.Table:
    """Score rows of one run for the customers in scope, by customer id.

    The scope is applied in SQL (a join to the customers' owners), so ``limit`` counts
    visible customers only.
    """
    clause = None if scope.everything else customer_clause(scope)
    return read_scores(engine, [run_id], columns, where=where, limit=limit, customers=clause)


def _reasons(row: dict[str, Any], policy: Policy) -> list[Reason]:
    """The reasons of one score row (the same for the CLI's ``explain`` and the pages)."""
    if not row.get("rung_reason"):
        return []
    return build_reasons(row, policy)


@dataclass(frozen=True, slots=True)
class ReasonText:
    """One reason of a customer's standing: its code and its sentence in a language."""

    code: str
    text: str


def customer_reasons(
    engine: Engine, actor: Actor, customer_id: int, *, language: str = "en"
) -> list[ReasonText]:
    """Why the customer stands where they do in the latest run, in ``language``.

    Scoped like the customer 360: a customer the actor may not see is :class:`NotFound`.
    Empty before the customer's first score.
    """
    denials = audited_denials(engine, actor, "customer.reasons", customer_id=customer_id)
    with denials, UnitOfWork(engine, read_only=True) as uow:
        require(actor, Permission.CUSTOMERS_READ)
        visible_customer(uow.session, load_scope(uow.session, actor), customer_id)
        run = latest_finished_run(uow.session)
        score = uow.session.get(CustomerScore, (run.id, customer_id)) if run else None
        if run is None or score is None:
            return []
        row = {c.name: getattr(score, c.name) for c in CustomerScore.__table__.columns}
        policy = _policy(run)
    return [ReasonText(r.code, render_reason(r, language)) for r in _reasons(row, policy)]


def customers_table(
    settings: Settings,
    actor: Actor,
    *,
    rung: int | None = None,
    category: str | None = None,
    run_id: int | None = None,
    limit: int | None = 1000,
) -> pa.Table:
    """Scored customers of a run that the actor may see, filtered by rung and/or category."""
    engine = connect(settings)
    try:
        scope = _scope(engine, actor, "scores.list", Permission.CUSTOMERS_READ)
        rid, _, _ = _run(engine, run_id)
        where: dict[str, Any] = {}
        if rung is not None:
            where["rung"] = rung
        if category is not None:
            where["category"] = category
        table = _scoped_scores(engine, scope, rid, LIST_COLUMNS, where=where, limit=limit)
    finally:
        engine.dispose()
    return table.drop_columns(["run_id"])


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything about one scored customer."""

    customer_id: int
    run_id: int
    as_of: Any
    rung: int
    category: str | None
    reasons: list[dict[str, Any]]
    sentence: str
    features: dict[str, Any]
    statement: dict[str, int]
    loss_drivers: list[tuple[str, int]]
    timeline: dict[str, Any] = field(default_factory=dict)


def _timeline(engine: Engine, customer_id: int, as_of: Any) -> dict[str, Any]:
    with engine.connect() as conn:
        orders = conn.execute(
            select(
                Order.status, func.count(), func.min(Order.ordered_at), func.max(Order.ordered_at)
            )
            .where(Order.customer_id == customer_id)
            .group_by(Order.status)
        ).all()
        events = conn.execute(
            select(Event.kind, func.count(), func.max(Event.occurred_at))
            .where(Event.customer_id == customer_id)
            .group_by(Event.kind)
        ).all()
    return {
        "orders": {
            s: {"count": n, "first": str(a)[:10], "last": str(b)[:10]} for s, n, a, b in orders
        },
        "events": {k: {"count": n, "last": str(b)[:10]} for k, n, b in events},
        "note": f"scores describe the customer as of {as_of}; the timeline shows all records",
    }


def explain_customer(
    settings: Settings,
    actor: Actor,
    customer_id: int,
    *,
    run_id: int | None = None,
    language: str = "en",
) -> Explanation:
    """Features, rung, category, reasons (structured and in words) and timeline of one
    customer in a run (default: the latest).

    Scoped like the customer 360: a customer the actor may not see is :class:`NotFound`
    (and the denial is audited).
    """
    engine = connect(settings)
    try:
        denials = audited_denials(engine, actor, "customer.explain", customer_id=customer_id)
        with denials, UnitOfWork(engine, read_only=True) as uow:
            require(actor, Permission.CUSTOMERS_READ)
            visible_customer(uow.session, load_scope(uow.session, actor), customer_id)
        rid, as_of, policy = _run(engine, run_id)
        table = read_scores(engine, [rid], where={"customer_id": customer_id})
        if table.num_rows == 0:
            raise NotFound(f"customer {customer_id} is not in score run {rid}")
        row = {k: v[0] for k, v in table.to_pydict().items()}
        timeline = _timeline(engine, customer_id, as_of)
    finally:
        engine.dispose()
    reasons = _reasons(row, policy)
    parts = contribution_parts(row)
    statement = {
        "gross_sales_minor": parts.gross_sales_minor,
        "discount_minor": parts.discount_minor,
        "revenue_minor": parts.revenue_minor,
        "cogs_minor": parts.cogs_minor,
        "gross_margin_minor": parts.gross_margin_minor,
        **parts.costs,
        "net_contribution_minor": parts.net_contribution_minor,
    }
    features = {k: v for k, v in row.items() if k not in {"run_id", "customer_id"}}
    return Explanation(
        customer_id=customer_id,
        run_id=rid,
        as_of=as_of,
        rung=int(row["rung"]),
        category=row["category"],
        reasons=[r.to_dict() for r in reasons],
        sentence=render(reasons, language),
        features=features,
        statement=statement,
        loss_drivers=loss_drivers(parts),
        timeline=timeline,
    )


def _history(engine: Engine, visible: list[int] | None) -> tuple[pa.Table, Any]:
    """Rungs and categories of every visible customer in every as-of day's latest run,
    and the last as-of day."""
    with engine.connect() as conn:
        runs = conn.execute(
            select(ScoreRun.id, ScoreRun.as_of).where(ScoreRun.status == "completed")
        ).all()
    if not runs:
        raise NotFound("there is no completed score run yet", hint="run `clientbase score`")
    # One run per day: the latest run of each as-of day.
    per_day: dict[Any, int] = {}
    for rid, day in sorted(runs):
        per_day[day] = rid
    scores = _in_view(read_scores(engine, list(per_day.values()), ["rung", "category"]), visible)
    day_of = {rid: day for day, rid in per_day.items()}
    days = pa.array([day_of[r] for r in scores.column("run_id").to_pylist()], pa.date32())
    history = pa.table(
        {
            "customer_id": scores.column("customer_id").cast(pa.int64()),
            "as_of": days,
            "rung": scores.column("rung").cast(pa.int64()),
            "category": scores.column("category"),
        }
    )
    return history, max(per_day)


def _funnel(history: pa.Table, last: Any, window_days: int) -> dict[str, Any]:
    with AnalyticsEngine() as eng:
        h = eng.table(history)
        counts = eng.to_arrow(rung_counts(h, last)).to_pylist()
        conv = eng.to_arrow(funnel(h, window_days)).to_pylist() if history.num_rows else []
        moves = eng.to_arrow(transitions(h)).to_pylist()
    runs = len(set(history.column("as_of").to_pylist()))
    return {
        "as_of": str(last),
        "runs": runs,
        "window_days": window_days,
        "rungs": counts,
        "conversion": conv,
        "transitions": moves,
    }


def ladder_funnel(engine: Engine, actor: Actor, *, window_days: int = 365) -> dict[str, Any]:
    """The funnel of :func:`funnel_report` over the customers the actor may see only, so a
    representative's counts and rates cover their own customers."""
    visible = _visible(engine, actor, "funnel")
    history, last = _history(engine, visible)
    return _funnel(history, last, window_days)


def funnel_report(settings: Settings, actor: Actor, *, window_days: int = 365) -> dict[str, Any]:
    """Customers per rung (latest run), conversion to a higher rung within ``window_days``,
    median days to climb, and the moves between consecutive runs, over the customers the
    actor may see."""
    engine = connect(settings)
    try:
        return ladder_funnel(engine, actor, window_days=window_days)
    finally:
        engine.dispose()


_PROFIT_COLUMNS = [
    "rung",
    "category",
    "revenue_minor",
    "discount_minor",
    "cogs_minor",
    "gross_margin_minor",
    "returns_minor",
    "bonuses_minor",
    "complaint_cost_minor",
    "service_cost_minor",
    "acquisition_cost_minor",
    "net_contribution_minor",
]


def profitability(
    engine: Engine,
    actor: Actor,
    *,
    run_id: int | None = None,
    points: int = 20,
    top_losses: int = 10,
) -> dict[str, Any]:
    """The whale curve, profit by rung and category and the worst loss-makers (with the
    cost lines that put each under water), over the customers the actor may see only."""
    visible = _visible(engine, actor, "profitability")
    rid, as_of, _ = _run(engine, run_id)
    scores = _in_view(read_scores(engine, [rid], _PROFIT_COLUMNS), visible)
    with AnalyticsEngine() as eng:
        t = eng.table(scores)
        by_rung = eng.to_arrow(profit_by(t, "rung")).to_pylist()
        by_category = eng.to_arrow(profit_by(t, "category")).to_pylist()
        losers = eng.to_arrow(loss_makers(t, top_losses)).to_pylist()
    for row in losers:
        row["drivers"] = [name for name, _ in loss_drivers(contribution_parts(row))]
    curve = whale_points(scores.column("net_contribution_minor").to_numpy(), points)
    return {
        "run_id": rid,
        "as_of": str(as_of),
        "whale": curve,
        "by_rung": by_rung,
        "by_category": by_category,
        "loss_makers": losers,
    }


def whale_report(
    settings: Settings,
    actor: Actor,
    *,
    run_id: int | None = None,
    points: int = 20,
    top_losses: int = 10,
) -> dict[str, Any]:
    """The whale curve of a run, profit by rung and category, and the worst loss-makers
    with the cost lines that put each under water, over the customers the actor may see."""
    engine = connect(settings)
    try:
        return profitability(engine, actor, run_id=run_id, points=points, top_losses=top_losses)
    finally:
        engine.dispose()
