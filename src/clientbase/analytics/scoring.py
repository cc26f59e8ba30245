"""From the store's activity to scored customers: features, then the domain's rules.

:func:`score_inputs` runs the feature expression on the engine and applies
:func:`clientbase.domain.ladder.classify` and :func:`clientbase.domain.rfm.rfm_scores` to the
resulting columns (numpy over whole columns), returning one Arrow table with every feature,
the RFM scores and segment, the rung, the category and the reason codes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clientbase.analytics.engine import Engine
from clientbase.analytics.features import FeatureInputs, customer_features
from clientbase.domain.ladder import RULE_FEATURES, classify
from clientbase.domain.policy import Policy
from clientbase.domain.rfm import rfm_scores

__all__ = ["SCORE_TYPES", "classify_features", "score_inputs"]

#: Columns that scoring adds to the features, with their Arrow types.
SCORE_TYPES: dict[str, pa.DataType] = {
    "active": pa.bool_(),
    "allowed_days": pa.int32(),
    "p_alive": pa.float64(),
    "rfm_r": pa.int16(),
    "rfm_f": pa.int16(),
    "rfm_m": pa.int16(),
    "rfm_segment": pa.string(),
    "rung": pa.int16(),
    "rung_reason": pa.string(),
    "rung_blocker": pa.string(),
    "category": pa.string(),
    "category_reason": pa.string(),
}

_FILL = {"median_gap_days": float("nan"), "nps_latest": -1}


def _numpy(table: pa.Table, name: str) -> np.ndarray[Any, Any]:
    col = table.column(name)
    fill: Any = _FILL.get(name, False if pa.types.is_boolean(col.type) else 0)
    if pa.types.is_floating(col.type):
        fill = _FILL.get(name, 0.0)
    return np.asarray(pc.fill_null(col, fill).to_numpy())


def classify_features(
    features: pa.Table, policy: Policy, p_alive: pa.Array | None = None
) -> pa.Table:
    """Append rung, category, reason codes and RFM to a table of features.

    ``p_alive`` (one value per row, null where unknown) feeds the activity rule when given.
    """
    arrays = {name: _numpy(features, name) for name in RULE_FEATURES}
    p = None
    if p_alive is not None:
        p = np.asarray(pc.fill_null(pc.cast(p_alive, pa.float64()), float("nan")).to_numpy())
    result = classify(arrays, policy, p)
    rfm = rfm_scores(
        arrays["days_since_last"], arrays["occasions"], _numpy(features, "revenue_minor"), policy
    )
    allowed = np.where(arrays["occasions"] >= 1, np.floor(result.allowed_days), 0)
    added: dict[str, Any] = {
        "active": result.active,
        "allowed_days": allowed.astype(np.int32),
        "p_alive": p if p is not None else np.full(features.num_rows, None, dtype=object),
        "rfm_r": rfm.r,
        "rfm_f": rfm.f,
        "rfm_m": rfm.m,
        "rfm_segment": rfm.segment,
        "rung": result.rung,
        "rung_reason": result.rung_reason,
        "rung_blocker": result.rung_blocker,
        "category": result.category,
        "category_reason": result.category_reason,
    }
    out = features
    for name, kind in SCORE_TYPES.items():
        values = added[name]
        if kind == pa.float64() and values.dtype == object:
            arr = pa.nulls(features.num_rows, kind)
        elif pa.types.is_string(kind) and values.dtype.kind == "U":
            arr = pa.array(values.astype(object), type=kind)
        else:
            arr = pa.array(values, type=kind, from_pandas=True)
        out = out.append_column(name, arr)
    return out


def score_inputs(
    inputs: dict[str, pa.Table],
    as_of: date,
    policy: Policy,
    *,
    engine: Engine | None = None,
    p_alive: pa.Table | None = None,
) -> pa.Table:
    """Features, RFM, rungs, categories and reason codes of every customer, as Arrow.

    Parameters
    ----------
    inputs
        Normalised Arrow tables (``orders``, ``events``, ``customers``, ``campaigns``,
        ``responses``), e.g. from :func:`clientbase.analytics.sources.read_store`.
    p_alive
        Optional ``customer_id, p_alive`` table from a fitted model (issue #4).
    """
    own = engine is None
    eng = engine or Engine()
    try:
        tables = FeatureInputs(
            **{
                name: eng.table(inputs[name])
                for name in ("orders", "events", "customers", "campaigns", "responses")
            }
        )
        features = eng.to_arrow(customer_features(tables, as_of, policy))
    finally:
        if own:
            eng.close()
    column = None
    if p_alive is not None:
        index = pc.index_in(features.column("customer_id"), value_set=p_alive.column("customer_id"))
        column = pc.take(p_alive.column("p_alive"), index)
    return classify_features(features, policy, column)
