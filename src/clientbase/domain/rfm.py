"""RFM: recency, frequency and monetary scores (1..bins) and the named segments.

Scores are quantile ranks among the buyers: a value's score is ``1 + floor(bins x share of
buyers with a strictly worse value)``, so equal values always get the same score whatever
order the rows come in (unlike ``NTILE``), which keeps results identical across engines.
Recency is better when smaller (days since the last purchase occasion), frequency
(occasions) and monetary value (revenue) when larger. Non-buyers score 0 and get no segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from clientbase.domain.ladder import decode
from clientbase.domain.policy import Policy

__all__ = ["RfmScores", "quantile_scores", "rfm_scores", "rfm_segment_codes", "rfm_segments"]

Array = npt.NDArray[Any]


@dataclass(frozen=True, slots=True)
class RfmScores:
    """R, F, M scores and the segment, coded: ``segment_code`` indexes ``segment_names``."""

    r: Array  # int8, 0 for non-buyers
    f: Array
    m: Array
    segment_code: Array  # int16
    segment_names: tuple[str | None, ...]  # index 0 is None: no segment

    @property
    def segment(self) -> Array:
        """The segment name (or None) of every customer."""
        return decode(self.segment_code, self.segment_names)


def quantile_scores(values: Array, mask: Array, bins: int, *, higher_is_better: bool) -> Array:
    """Score ``values[mask]`` from 1 to ``bins`` by the share of strictly worse values.

    Elements outside ``mask`` score 0. With ``less`` the count of strictly worse values
    among ``n``, the score ``1 + floor(bins * less / n)`` passes threshold ``j`` when
    ``less >= ceil(j * n / bins) = t``, that is when the value beats the ``t``-th worst
    value; so ``bins - 1`` order statistics (one partial sort, linear time) and as many
    comparisons give every score, with no full sort.
    """
    vals = np.asarray(values)
    if vals.dtype.kind not in "iuf":
        vals = vals.astype(np.float64)
    sel = np.asarray(mask, dtype=bool)
    out = np.zeros(vals.shape, dtype=np.int8)
    pool = vals[sel]
    n = pool.size
    if n == 0:
        return out
    if vals.dtype.kind == "u":
        pool = pool.astype(np.int64)
    if not higher_is_better:
        pool = -pool
    thresholds = [-(-j * n // bins) for j in range(1, bins)]  # ceil(j * n / bins) >= 1
    ordered = np.partition(pool, sorted({t - 1 for t in thresholds}))
    score = np.ones(n, dtype=np.int8)
    for t in thresholds:
        score += pool > ordered[t - 1]
    out[sel] = score
    return out


def rfm_segment_codes(r: Array, f: Array, m: Array, policy: Policy) -> Array:
    """1 + the index of the first segment of the policy whose ranges hold (R, F, M); 0 if
    none does.

    Scores are small integers, so the segments are worked out once for every (R, F, M)
    combination of the scores present and looked up per customer.
    """
    r, f, m = (np.asarray(a, dtype=np.int64) for a in (r, f, m))
    if r.size == 0 or not policy.rfm.segments:
        return np.zeros(np.shape(r), dtype=np.int16)
    low = min(int(a.min()) for a in (r, f, m))
    high = max(int(a.max()) for a in (r, f, m))
    scores = np.arange(low, high + 1)
    gr, gf, gm = np.meshgrid(scores, scores, scores, indexing="ij")
    table = np.zeros(gr.shape, dtype=np.int16)
    for code, s in reversed(list(enumerate(policy.rfm.segments, start=1))):
        inside = (gr >= s.r[0]) & (gr <= s.r[1]) & (gf >= s.f[0]) & (gf <= s.f[1])
        table[inside & (gm >= s.m[0]) & (gm <= s.m[1])] = code
    codes: Array = table[r - low, f - low, m - low]
    return codes


def _names(policy: Policy) -> tuple[str | None, ...]:
    return (None, *(s.name for s in policy.rfm.segments))


def rfm_segments(r: Array, f: Array, m: Array, policy: Policy) -> Array:
    """The first segment of the policy whose ranges hold (R, F, M); ``None`` if none does."""
    return decode(rfm_segment_codes(r, f, m, policy), _names(policy))


def rfm_scores(
    days_since_last: Array, occasions: Array, revenue_minor: Array, policy: Policy
) -> RfmScores:
    """R, F and M scores of every buyer (``occasions >= 1``) and their named segment."""
    buyer = np.asarray(occasions) >= 1
    bins = policy.rfm.bins
    r = quantile_scores(days_since_last, buyer, bins, higher_is_better=False)
    f = quantile_scores(occasions, buyer, bins, higher_is_better=True)
    m = quantile_scores(revenue_minor, buyer, bins, higher_is_better=True)
    segment = rfm_segment_codes(r, f, m, policy)
    segment[~buyer] = 0
    return RfmScores(r=r, f=f, m=m, segment_code=segment, segment_names=_names(policy))
