"""Purchase-occasion features with numpy, for the in-process scoring path.

:func:`occasion_table` computes exactly what :func:`clientbase.analytics.features.occasion_stats`
computes (count of occasions, count in the trailing window, first and last occasion, median
gap in days between consecutive occasions), straight from the normalised Arrow ``orders``.
The median gap is the expensive part of the Ibis version (a ``LAG`` window over every
purchase day, then a holistic median per customer); here it is a few linear passes:

1. the completed orders' ``(customer, day)`` pairs, put in that order — a store written
   customer by customer is in that order already, which a linear check detects; otherwise one
   ``lexsort``;
2. distinct days, then the gaps between consecutive days of the same customer;
3. the median per customer, sorting each customer's gaps in a row of a padded matrix with
   the customers of similar length (rows of at most twice their length), which makes the
   sort cost proportional to the number of gaps.

Results are identical to the Ibis expression (integers, and the mean of the two middle gaps
for an even count), which the tests check.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from clientbase.analytics.features import COMPLETED

__all__ = ["occasion_table", "segment_medians"]

Array = npt.NDArray[Any]
_EPOCH = date(1970, 1, 1)


def segment_medians(values: Array, counts: Array) -> Array:
    """The median of each consecutive segment of ``values`` (lengths ``counts``, all >= 1)."""
    out = np.empty(counts.size, dtype=np.float64)
    if counts.size == 0:
        return out
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    size_class = np.ceil(np.log2(counts)).astype(np.int64)
    big = np.iinfo(values.dtype).max if values.dtype.kind in "iu" else np.inf
    padded_to = values.size - 1
    for c in np.unique(size_class):
        width = 1 << int(c)
        rows = np.flatnonzero(size_class == c)
        n = counts[rows]
        cols = np.arange(width)
        idx = np.minimum(starts[rows, None] + cols[None, :], padded_to)
        block = np.where(cols[None, :] < n[:, None], values[idx], big)
        block.sort(axis=1)
        r = np.arange(rows.size)
        low = block[r, (n - 1) // 2].astype(np.float64)
        high = block[r, n // 2].astype(np.float64)
        out[rows] = (low + high) / 2
    return out


def _in_order(cid: Array, day: Array) -> bool:
    if cid.size < 2:
        return True
    up = cid[1:] > cid[:-1]
    same = cid[1:] == cid[:-1]
    return bool(np.all(up | (same & (day[1:] >= day[:-1]))))


def occasion_table(orders: pa.Table, as_of: date, start: date) -> pa.Table:
    """``customer_id`` and the occasion features of every customer with an occasion.

    Parameters
    ----------
    orders
        Normalised orders (``customer_id`` int64, ``day`` date32, ``status`` code).
    as_of, start
        Occasions after ``as_of`` are ignored; ``occasions_trailing`` counts those after
        ``start``.
    """
    status = pc.fill_null(orders.column("status"), 0).to_numpy()
    day_all = pc.cast(orders.column("day"), pa.int32()).to_numpy()
    last_day = (as_of - _EPOCH).days
    keep = (status == COMPLETED) & (day_all <= last_day)
    cid = orders.column("customer_id").to_numpy()[keep]
    day = day_all[keep]
    if not _in_order(cid, day):
        order = np.lexsort((day, cid))
        cid, day = cid[order], day[order]
    if cid.size:
        new = np.empty(cid.size, dtype=bool)
        new[0] = True
        new[1:] = (cid[1:] != cid[:-1]) | (day[1:] != day[:-1])
        cid, day = cid[new], day[new]
    first = np.empty(cid.size, dtype=bool)
    first[:1] = True
    np.not_equal(cid[1:], cid[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, cid.size))
    recent = (day > (start - _EPOCH).days).astype(np.int64)
    trailing = np.add.reduceat(recent, starts) if cid.size else recent
    gaps = np.diff(day)[~first[1:]]
    with_gaps = counts > 1
    medians = np.zeros(counts.size, dtype=np.float64)
    medians[with_gaps] = segment_medians(gaps, counts[with_gaps] - 1)
    return pa.table(
        {
            "customer_id": pa.array(cid[starts], pa.int64()),
            "occasions": pa.array(counts, pa.int64()),
            "occasions_trailing": pa.array(trailing, pa.int64()),
            "first_purchase": pc.cast(pa.array(day[starts], pa.int32()), pa.date32()),
            "last_purchase": pc.cast(pa.array(day[starts + counts - 1], pa.int32()), pa.date32()),
            "median_gap_days": pa.array(medians, pa.float64(), mask=~with_gaps),
        }
    )
