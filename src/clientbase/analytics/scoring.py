"""From the store's activity to scored customers: features, then the domain's rules.

:func:`score_inputs` computes the features in process
(:mod:`clientbase.analytics.columnar`, equal to the Ibis expression) and applies
:func:`clientbase.domain.ladder.classify` and :func:`clientbase.domain.rfm.rfm_scores` to the
resulting columns (numpy over whole columns), returning one Arrow table with every feature,
the RFM scores and segment, the rung, the category and the reason codes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clientbase.domain.ladder import (
    CATEGORIES,
    CATEGORY_REASONS,
    RULE_FEATURES,
    RUNG_BLOCKERS,
    RUNG_REASONS,
    classify,
)
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
    if col.null_count == 0:
        return np.asarray(col.to_numpy())
    return np.asarray(pc.fill_null(col, fill).to_numpy())


def _labels(codes: np.ndarray[Any, Any], labels: tuple[str | None, ...]) -> pa.Array:
    """A string array of the labels of integer ``codes`` (a ``None`` label is a null)."""
    return pc.take(pa.array(labels, pa.string()), pa.array(codes))


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
    revenue = _numpy(features, "revenue_minor")
    # numpy and Arrow release the GIL in their loops: RFM beside the ladder, then the five
    # label columns, on two threads.
    with ThreadPoolExecutor(2) as pool:
        rfm_job = pool.submit(
            rfm_scores, arrays["days_since_last"], arrays["occasions"], revenue, policy
        )
        result = classify(arrays, policy, p)
        rfm = rfm_job.result()
        label_jobs = {
            name: pool.submit(_labels, codes, labels)
            for name, codes, labels in (
                ("rfm_segment", rfm.segment_code, rfm.segment_names),
                ("rung_reason", result.rung_reason_code, RUNG_REASONS),
                ("rung_blocker", result.rung_blocker_code, RUNG_BLOCKERS),
                ("category", result.category_code, CATEGORIES),
                ("category_reason", result.category_reason_code, CATEGORY_REASONS),
            )
        }
        labelled = {name: job.result() for name, job in label_jobs.items()}
    allowed = np.where(arrays["occasions"] >= 1, np.floor(result.allowed_days), 0)
    n = features.num_rows
    added: dict[str, pa.Array] = {
        "active": pa.array(result.active, pa.bool_()),
        "allowed_days": pa.array(allowed.astype(np.int32), pa.int32()),
        "p_alive": pa.array(p, pa.float64(), from_pandas=True)
        if p is not None
        else pa.nulls(n, pa.float64()),
        "rfm_r": pa.array(rfm.r, pa.int16()),
        "rfm_f": pa.array(rfm.f, pa.int16()),
        "rfm_m": pa.array(rfm.m, pa.int16()),
        "rung": pa.array(result.rung, pa.int16()),
        **labelled,
    }
    out = features
    for name, kind in SCORE_TYPES.items():
        out = out.append_column(name, added[name].cast(kind))
    return out


def score_inputs(
    inputs: dict[str, pa.Table],
    as_of: date,
    policy: Policy,
    *,
    p_alive: pa.Table | None = None,
) -> pa.Table:
    """Features, RFM, rungs, categories and reason codes of every customer, as Arrow.

    The features are computed in process by
    :func:`clientbase.analytics.columnar.customer_feature_table`, which gives what the Ibis
    expression :func:`clientbase.analytics.features.customer_features` gives.

    Parameters
    ----------
    inputs
        Normalised Arrow tables (``orders``, ``events``, ``customers``, ``campaigns``,
        ``responses``), e.g. from :func:`clientbase.services.scoring.read_store`.
    p_alive
        Optional ``customer_id, p_alive`` table from a fitted model (issue #4).
    """
    # Imported here: the kernels bring Numba, which only scoring needs (not the web server
    # or the CLI's other commands, which import this module for classify_features).
    from clientbase.analytics.columnar import customer_feature_table

    features = customer_feature_table(inputs, as_of, policy)
    column = None
    if p_alive is not None:
        index = pc.index_in(features.column("customer_id"), value_set=p_alive.column("customer_id"))
        column = pc.take(p_alive.column("p_alive"), index)
    return classify_features(features, policy, column)
