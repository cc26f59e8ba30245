"""The demo generator is deterministic and plants every concept (no database)."""

from __future__ import annotations

import polars as pl

from clientbase.demo.business import DemoStats, generate
from clientbase.domain.vocabulary import EventKind


def _tables(n: int, seed: int) -> dict[str, pl.DataFrame]:
    out: dict[str, list[pl.DataFrame]] = {}
    for name, frame in generate(n, seed, DemoStats()):
        out.setdefault(name, []).append(frame)
    return {k: pl.concat(v) for k, v in out.items()}


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = _tables(800, 7), _tables(800, 7), _tables(800, 8)
    for name in a:
        assert a[name].equals(b[name]), name
    assert not a["orders"].equals(c["orders"])


def test_every_rung_category_and_event_kind_is_planted() -> None:
    t = _tables(3000, 1)
    truths = t["demo_truths"]
    shares = truths["rung"].value_counts(normalize=True)
    assert set(shares["rung"].to_list()) == set(range(1, 8))
    assert shares["proportion"].min() > 0.02
    assert set(truths["category"].drop_nulls().to_list()) == {
        "loyal",
        "average",
        "demanding",
        "lost",
    }
    assert (
        truths.filter(pl.col("rung") <= 2)["category"].null_count()
        == truths.filter(pl.col("rung") <= 2).height
    )
    assert set(t["events"]["kind"].to_list()) == {str(k) for k in EventKind}
