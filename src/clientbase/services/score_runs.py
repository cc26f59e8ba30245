"""Reading score runs (written by ``clientbase score``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select

from clientbase.errors import NotFound
from clientbase.security.actor import Actor
from clientbase.security.rbac import Permission, require
from clientbase.services.access import audited_denials
from clientbase.storage.orm import ScoreRun
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = ["ScoreRunView", "get_score_run", "list_score_runs"]


@dataclass(frozen=True, slots=True)
class ScoreRunView:
    """A run's metadata. ``counts`` are whole-base figures, so only roles that see every
    customer get them; others see ``None``."""

    id: int
    as_of: date
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    customers_scored: int | None
    counts: dict[str, Any] | None


def _view(run: ScoreRun, whole_base: bool) -> ScoreRunView:
    return ScoreRunView(
        id=run.id,
        as_of=run.as_of,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_s=run.duration_s,
        customers_scored=run.customers_scored if whole_base else None,
        counts=run.counts if whole_base else None,
    )


def _whole_base(actor: Actor) -> bool:
    return actor.role in {"admin", "analyst"}


def list_score_runs(engine: Engine, actor: Actor, limit: int = 50) -> list[ScoreRunView]:
    """The newest runs first."""
    with (
        audited_denials(engine, actor, "score_runs.list"),
        UnitOfWork(engine, read_only=True) as uow,
    ):
        require(actor, Permission.ANALYTICS_READ)
        runs = uow.session.scalars(
            select(ScoreRun).order_by(ScoreRun.id.desc()).limit(max(1, min(limit, 500)))
        )
        return [_view(r, _whole_base(actor)) for r in runs]


def get_score_run(engine: Engine, actor: Actor, run_id: int) -> ScoreRunView:
    with (
        audited_denials(engine, actor, "score_run.read"),
        UnitOfWork(engine, read_only=True) as uow,
    ):
        require(actor, Permission.ANALYTICS_READ)
        run = uow.session.get(ScoreRun, run_id)
        if run is None:
            raise NotFound(f"no score run {run_id}")
        return _view(run, _whole_base(actor))
