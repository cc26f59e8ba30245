"""RFM scores from order statistics equal the definition (share of strictly worse)."""

from __future__ import annotations

import numpy as np
import pytest

from clientbase.domain.rfm import quantile_scores


def _by_definition(values: np.ndarray, mask: np.ndarray, bins: int, higher: bool) -> np.ndarray:
    pool = values[mask].astype(np.float64)
    out = np.zeros(values.shape, dtype=np.int8)
    worse = np.array([np.sum(pool < v) if higher else np.sum(pool > v) for v in pool])
    out[mask] = 1 + (bins * worse) // pool.size
    return out


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).integers(0, 30, 2_000),  # small range: counted
        np.random.default_rng(2).integers(-(10**12), 10**12, 2_000),  # wide range: sorted
        np.random.default_rng(3).normal(size=2_000),  # floats
        np.random.default_rng(4).integers(0, 40, 2_000).astype(np.uint16),
    ],
)
@pytest.mark.parametrize("higher", [True, False])
def test_quantile_scores_match_the_definition(values: np.ndarray, higher: bool) -> None:
    mask = np.random.default_rng(5).random(values.size) < 0.7
    got = quantile_scores(values, mask, 5, higher_is_better=higher)
    assert np.array_equal(got, _by_definition(values, mask, 5, higher))
    assert set(np.unique(got[mask])) <= {1, 2, 3, 4, 5} and not got[~mask].any()
