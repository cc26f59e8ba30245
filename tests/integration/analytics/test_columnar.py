"""The in-process feature kernels give exactly what the Ibis expression gives on DuckDB.

Random stores with every event kind, missing values, orders of unknown customers, referrals
of outsiders, unsorted inputs and sparse ids; each compared column by column with
:func:`clientbase.analytics.features.customer_features` executed by the engine.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from clientbase.analytics.columnar import customer_feature_table
from clientbase.analytics.engine import Engine
from clientbase.analytics.features import (
    EVENT_KIND_CODES,
    ORDER_STATUS_CODES,
    FeatureInputs,
    customer_features,
)
from clientbase.domain.policy import default_policy
from clientbase.errors import InvalidInput

AS_OF = date(2025, 6, 30)
_DAY0 = (AS_OF - date(1970, 1, 1)).days


def _days(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(values.astype(np.int32), pa.int32(), mask=missing)
    return pc.cast(arr, pa.date32())


def _store(seed: int, customers: int, *, sparse: bool = False, shuffle: bool = True) -> dict:
    rng = np.random.default_rng(seed)
    ids = np.arange(1, customers + 1, dtype=np.int64)
    if sparse:  # ids far apart: the hash lookup instead of the dense one
        ids = np.sort(rng.choice(10**12, customers, replace=False)).astype(np.int64) + 1
    outsiders = np.arange(10**13, 10**13 + 20, dtype=np.int64)  # no customer record
    pool = np.concatenate((ids, outsiders))

    n_orders = customers * 6
    cid = rng.choice(pool, n_orders)
    order_day = _DAY0 - rng.integers(-60, 1200, n_orders)
    statuses = np.array([*sorted(ORDER_STATUS_CODES.values()), 0], dtype=np.int8)
    status = rng.choice(statuses, n_orders, p=[0.05, 0.75, 0.05, 0.1, 0.05])
    total = rng.integers(0, 50_000, n_orders)
    if not shuffle:
        order = np.lexsort((order_day, cid))
        cid, order_day, status, total = cid[order], order_day[order], status[order], total[order]
    orders = pa.table(
        {
            "customer_id": pa.array(cid, pa.int64()),
            "day": _days(order_day, rng.random(n_orders) < 0.01),
            "status": pa.array(status, pa.int8(), mask=rng.random(n_orders) < 0.01),
            "total_minor": pa.array(total, pa.int64()),
            "discount_minor": pa.array(total // 10, pa.int64()),
            "cost_minor": pa.array(total // 2, pa.int64(), mask=rng.random(n_orders) < 0.05),
        }
    )

    n_events = customers * 4
    kinds = np.array([*EVENT_KIND_CODES.values(), 0], dtype=np.int8)
    kind = rng.choice(kinds, n_events)
    review = kind == EVENT_KIND_CODES["review"]
    rating = np.where(review, rng.integers(1, 6, n_events), rng.integers(0, 11, n_events))
    events = pa.table(
        {
            "customer_id": pa.array(rng.choice(pool, n_events), pa.int64()),
            "day": _days(_DAY0 - rng.integers(-60, 1200, n_events), rng.random(n_events) < 0.01),
            "kind": pa.array(kind, pa.int8()),
            "amount_minor": pa.array(
                rng.integers(-2_000, 5_000, n_events), pa.int64(), mask=rng.random(n_events) < 0.2
            ),
            "cost_minor": pa.array(
                rng.integers(0, 3_000, n_events), pa.int64(), mask=rng.random(n_events) < 0.3
            ),
            "rating": pa.array(rating, pa.int64(), mask=rng.random(n_events) < 0.1),
            "related_customer_id": pa.array(
                rng.choice(pool, n_events), pa.int64(), mask=rng.random(n_events) < 0.5
            ),
        }
    )

    campaign_ids = np.array([3, 5, 8, 13], dtype=np.int64)
    campaigns = pa.table(
        {
            "campaign_id": pa.array(campaign_ids, pa.int64()),
            "cost_minor": pa.array([1_000_003, 77, 0, 500_000], pa.int64()),
            "starts_on": _days(np.array([_DAY0 - 900, _DAY0 - 30, _DAY0 - 400, _DAY0 + 10])),
        }
    )
    order = rng.permutation(customers) if shuffle else np.arange(customers)
    customers_table = pa.table(
        {
            "customer_id": pa.array(ids[order], pa.int64()),
            "acquired_day": _days(
                _DAY0 - rng.integers(-100, 1500, customers), rng.random(customers) < 0.1
            ),
            "acquisition_campaign_id": pa.array(
                rng.choice(np.append(campaign_ids, 99), customers),
                pa.int64(),
                mask=rng.random(customers) < 0.4,
            ),
            "referred_by_customer_id": pa.array(
                rng.choice(pool, customers), pa.int64(), mask=rng.random(customers) < 0.8
            ),
        }
    )
    # Referral events that repeat what the records say (twice), and one the records don't.
    referred_by = customers_table.column("referred_by_customer_id")
    on_record = np.flatnonzero(pc.is_valid(referred_by).to_numpy(zero_copy_only=False))[:40]
    referrers = referred_by.to_numpy(zero_copy_only=False)[on_record].astype(np.int64)
    mirrored = pa.table(
        {
            "customer_id": np.concatenate((referrers, referrers, referrers[:1])),
            "day": _days(np.full(2 * referrers.size + 1, _DAY0 - 5)),
            "kind": pa.array(
                np.full(2 * referrers.size + 1, EVENT_KIND_CODES["referral"]), pa.int8()
            ),
            "amount_minor": pa.nulls(2 * referrers.size + 1, pa.int64()),
            "cost_minor": pa.nulls(2 * referrers.size + 1, pa.int64()),
            "rating": pa.nulls(2 * referrers.size + 1, pa.int64()),
            "related_customer_id": np.concatenate(
                (
                    customers_table.column("customer_id").to_numpy()[on_record],
                    customers_table.column("customer_id").to_numpy()[on_record],
                    outsiders[:1],
                )
            ),
        }
    ).cast(events.schema)
    events = pa.concat_tables([events, mirrored])
    n_resp = customers // 2
    responses = pa.table(
        {
            "customer_id": pa.array(rng.choice(pool, n_resp), pa.int64()),
            "day": _days(_DAY0 - rng.integers(-60, 900, n_resp)),
        }
    )
    return {
        "orders": orders,
        "events": events,
        "customers": customers_table,
        "campaigns": campaigns,
        "responses": responses,
    }


def _ibis(inputs: dict, as_of: date) -> pa.Table:
    with Engine() as engine:
        tables = FeatureInputs(**{name: engine.table(t) for name, t in inputs.items()})
        return engine.to_arrow(customer_features(tables, as_of, default_policy()))


def _assert_same(got: pa.Table, want: pa.Table) -> None:
    assert got.schema.equals(want.schema), (got.schema, want.schema)
    assert got.num_rows == want.num_rows
    for name in want.column_names:
        assert got.column(name).equals(want.column(name)), name


@pytest.mark.parametrize(
    ("seed", "sparse", "shuffle", "days_back"),
    [(1, False, True, 0), (2, False, False, 0), (3, True, True, 0), (4, False, True, 400)],
)
def test_kernels_equal_the_ibis_expression(
    seed: int, sparse: bool, shuffle: bool, days_back: int
) -> None:
    inputs = _store(seed, 3_000, sparse=sparse, shuffle=shuffle)
    as_of = AS_OF - timedelta(days=days_back)
    got = customer_feature_table(inputs, as_of, default_policy())
    want = _ibis(inputs, as_of)
    _assert_same(got, want)
    # The random store reaches every branch that matters.
    assert pc.sum(got.column("referrals_converted")).as_py() > 0
    assert pc.sum(got.column("acquisition_cost_minor")).as_py() > 0
    assert got.column("median_gap_days").null_count > 0
    assert got.column("nps_latest").null_count < got.num_rows
    assert pc.any(got.column("cancelled")).as_py()


def test_empty_inputs_give_the_known_customers_only() -> None:
    inputs = _store(5, 50)
    for name in ("orders", "events", "responses"):
        inputs[name] = inputs[name].slice(0, 0)
    got = customer_feature_table(inputs, AS_OF, default_policy())
    _assert_same(got, _ibis(inputs, AS_OF))
    assert pc.sum(got.column("occasions")).as_py() == 0


def test_a_customer_id_twice_is_refused() -> None:
    inputs = _store(6, 20)
    customers = inputs["customers"]
    inputs["customers"] = pa.concat_tables([customers, customers.slice(0, 1)])
    with pytest.raises(InvalidInput, match="appears twice"):
        customer_feature_table(inputs, AS_OF, default_policy())
