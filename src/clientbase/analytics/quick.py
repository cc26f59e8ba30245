"""The analyst's quick path: RFM, purchase-based rungs and categories from transactions.

No store is needed: a table of transactions (customer, date, amount) in any of Ibis,
pandas, polars or Arrow form is turned into the pipeline's normalised inputs (every positive
amount a completed order, every negative one a return) and scored with the same features
and rules as ``clientbase score``. Only what transactions can show is known, so the ladder
stops at member (by purchase regularity) and categories come from rhythm and returns.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from clientbase.analytics.features import (
    COMPLETED,
    EVENT_KIND_CODES,
    FeatureInputs,
    customer_features,
)
from clientbase.analytics.scoring import classify_features
from clientbase.domain.policy import Policy, default_policy
from clientbase.domain.reasons import build_reasons, render
from clientbase.errors import InvalidInput

__all__ = ["QUICK_COLUMNS", "analyze_transactions", "as_ibis", "transaction_inputs"]

#: The columns :func:`analyze_transactions` returns (besides ``customer_id``).
QUICK_COLUMNS: tuple[str, ...] = (
    "occasions",
    "occasions_trailing",
    "first_purchase",
    "last_purchase",
    "days_since_last",
    "median_gap_days",
    "revenue_minor",
    "returns_minor",
    "rfm_r",
    "rfm_f",
    "rfm_m",
    "rfm_segment",
    "rung",
    "rung_reason",
    "rung_blocker",
    "category",
    "category_reason",
)


def as_ibis(data: Any) -> ir.Table:
    """An Ibis table over an Ibis table, an Arrow table or a pandas / polars data frame."""
    if isinstance(data, ir.Table):
        return data
    if isinstance(data, pa.Table):
        return ibis.memtable(data)
    to_arrow = getattr(data, "to_arrow", None)  # polars
    if callable(to_arrow):
        return ibis.memtable(to_arrow())
    if type(data).__module__.startswith("pandas"):
        return ibis.memtable(pa.Table.from_pandas(data, preserve_index=False))
    raise InvalidInput(f"cannot analyse a {type(data).__name__}: give a table or data frame")


def transaction_inputs(
    data: Any, customer_col: str, date_col: str, amount_col: str, *, scale: int = 100
) -> FeatureInputs:
    """Normalised pipeline inputs from transactions; ``scale`` turns amounts into minor
    units (100 for cents)."""
    t = as_ibis(data)
    missing = [c for c in (customer_col, date_col, amount_col) if c not in t.columns]
    if missing:
        raise InvalidInput(
            f"no column {missing[0]!r} in the transactions; columns are {', '.join(t.columns)}"
        )
    cid = t[customer_col]
    day = t[date_col].cast("date")
    amount = (t[amount_col].cast("float64") * scale).round().cast("int64")
    null_int = ibis.null().cast("int64")
    orders = t.filter(amount > 0).select(
        customer_id=cid,
        day=day,
        status=ibis.literal(COMPLETED).cast("int8"),
        total_minor=amount,
        discount_minor=ibis.literal(0).cast("int64"),
        cost_minor=ibis.literal(0).cast("int64"),
    )
    events = t.filter(amount < 0).select(
        customer_id=cid,
        day=day,
        kind=ibis.literal(EVENT_KIND_CODES["return"]).cast("int8"),
        amount_minor=-amount,
        cost_minor=ibis.literal(0).cast("int64"),
        rating=null_int,
        related_customer_id=ibis.null().cast(cid.type()),
    )
    customers = (
        t.select(customer_id=cid)
        .distinct()
        .mutate(
            acquired_day=ibis.null().cast("date"),
            acquisition_campaign_id=null_int,
            referred_by_customer_id=ibis.null().cast(cid.type()),
        )
    )
    campaigns = customers.limit(0).select(
        campaign_id=null_int, cost_minor=null_int, starts_on=ibis.null().cast("date")
    )
    responses = orders.limit(0).select("customer_id", "day")
    return FeatureInputs(orders, events, customers, campaigns, responses)


def analyze_transactions(
    data: Any,
    customer_col: str,
    date_col: str,
    amount_col: str,
    *,
    as_of: date | None = None,
    policy: Policy | None = None,
    scale: int = 100,
    reasons_language: str | None = "en",
    p_alive: pa.Table | None = None,
) -> pa.Table:
    """RFM scores and segment, rung and category (with reasons) of every customer.

    Parameters
    ----------
    data
        Transactions: an Ibis table, an Arrow table or a pandas / polars data frame.
    customer_col, date_col, amount_col
        Names of the customer id, transaction date and amount columns.
    as_of
        The day to describe (default: the last transaction date).
    scale
        Factor from the amount's unit to minor units (100: amounts in currency units).
    reasons_language
        Add a ``reasons`` column in this language (``en``, ``hu``, ``pl``); ``None`` skips it.
    p_alive
        ``customer_id, p_alive`` from a fitted purchase model: P(alive) then feeds the
        activity rule (the member rung and the lost category) as in a score run.
    """
    pol = policy or default_policy()
    inputs = transaction_inputs(data, customer_col, date_col, amount_col, scale=scale)
    if as_of is None:
        last = inputs.orders.day.max().to_pyarrow().as_py()
        if last is None:
            raise InvalidInput("the transactions hold no purchase")
        as_of = last
    features = customer_features(inputs, as_of, pol).to_pyarrow()
    alive = None
    if p_alive is not None:
        ids = features.column("customer_id")
        index = pc.index_in(ids, value_set=p_alive.column("customer_id").cast(ids.type))
        alive = pc.take(p_alive.column("p_alive"), index)
    scored = classify_features(features, pol, alive)
    out = scored.select(["customer_id", *QUICK_COLUMNS])
    if reasons_language is not None:
        rows = scored.to_pylist()
        text = [render(build_reasons(row, pol), reasons_language) for row in rows]
        out = out.append_column("reasons", pa.array(text, pa.string()))
    return out
