"""``/score-runs``, ``/overview``, ``/funnel`` and ``/profitability``.

Every figure is computed over the customers the caller may see.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from clientbase.api.deps import ActorDep, EngineDep
from clientbase.api.encoding import json_response
from clientbase.services.overview import Overview, overview
from clientbase.services.score_queries import ladder_funnel, profitability
from clientbase.services.score_runs import ScoreRunView, get_score_run, list_score_runs

router = APIRouter(tags=["analytics"])


@router.get("/score-runs", summary="List score runs")
def score_runs_list(
    engine: EngineDep, actor: ActorDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[ScoreRunView]:
    return list_score_runs(engine, actor, limit)


@router.get("/score-runs/{run_id}", summary="One score run")
def score_runs_detail(engine: EngineDep, actor: ActorDep, run_id: int) -> ScoreRunView:
    return get_score_run(engine, actor, run_id)


@router.get(
    "/overview",
    summary="KPIs, ladder funnel, categories, channels, whale curve, RFM",
    response_model=Overview,
)
def overview_read(engine: EngineDep, actor: ActorDep) -> Response:
    """Computed over the customers the caller may see, from the latest score run."""
    return json_response(overview(engine, actor))


@router.get("/funnel", summary="Ladder funnel: customers per rung, conversion, time to climb")
def funnel_read(
    engine: EngineDep,
    actor: ActorDep,
    window_days: Annotated[int, Query(ge=1, le=3650)] = 365,
) -> dict[str, Any]:
    """Across completed score runs; conversion counts climbs within ``window_days``."""
    return ladder_funnel(engine, actor, window_days=window_days)


@router.get("/profitability", summary="Whale curve, profit by rung and category, loss-makers")
def profitability_read(
    engine: EngineDep,
    actor: ActorDep,
    top_losses: Annotated[int, Query(ge=1, le=500)] = 20,
) -> dict[str, Any]:
    """The latest completed run; each loss-maker lists the cost lines that sink them."""
    return profitability(engine, actor, top_losses=top_losses)
