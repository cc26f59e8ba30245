"""The numpy occasion features agree exactly with the Ibis expression they stand in for."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from clientbase.analytics.engine import Engine
from clientbase.analytics.features import ORDER_STATUS_CODES, occasion_stats
from clientbase.analytics.occasions import occasion_table, segment_medians

AS_OF = date(2025, 6, 30)
START = AS_OF - timedelta(days=365)


def _orders(seed: int, n: int, *, in_order: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    cid = rng.integers(1, n // 6 + 2, n)
    day = (AS_OF - date(1970, 1, 1)).days - rng.integers(-20, 900, n)
    if in_order:
        order = np.lexsort((day, cid))
        cid, day = cid[order], day[order]
    status = rng.choice(np.array(sorted(ORDER_STATUS_CODES.values())), n, p=[0.05, 0.8, 0.05, 0.1])
    money = rng.integers(0, 10_000, n)
    return pa.table(
        {
            "customer_id": pa.array(cid, pa.int64()),
            "day": pc.cast(pa.array(day.astype(np.int32)), pa.date32()),
            "status": pa.array(status, pa.int8()),
            "total_minor": pa.array(money, pa.int64()),
            "discount_minor": pa.array(money // 10, pa.int64()),
            "cost_minor": pa.array(money // 2, pa.int64()),
        }
    )


@pytest.mark.parametrize(("seed", "in_order"), [(1, True), (2, False), (3, False)])
def test_numpy_occasions_equal_the_ibis_expression(seed: int, in_order: bool) -> None:
    orders = _orders(seed, 20_000, in_order=in_order)
    with Engine() as engine:
        cut = engine.table(orders)
        expected = engine.to_arrow(occasion_stats(cut.filter(cut.day <= AS_OF), START))
    expected = expected.sort_by("customer_id")
    got = occasion_table(orders, AS_OF, START)
    assert got.num_rows == expected.num_rows > 1_000
    for name in got.column_names:
        want = expected.column(name).cast(got.column(name).type)
        assert got.column(name).to_pylist() == want.to_pylist(), name
    assert got.column("median_gap_days").null_count > 0  # one-occasion buyers have no gap


def test_no_orders_give_an_empty_table() -> None:
    empty = _orders(4, 10, in_order=True).slice(0, 0)
    assert occasion_table(empty, AS_OF, START).num_rows == 0


def test_segment_medians() -> None:
    values = np.array([5, 1, 3, 7, 2, 2, 9, 4, 1, 6, 3], dtype=np.int32)
    counts = np.array([3, 1, 2, 5])
    expected = [np.median(s) for s in np.split(values, np.cumsum(counts)[:-1])]
    assert segment_medians(values, counts).tolist() == expected
