"""The score run's lifetime step reproduces the published CDNOW results.

Orders go through the same Ibis summary (:mod:`clientbase.analytics.lifetime`) and the same
service (:mod:`clientbase.services.lifetime`) as a score run on a store, so this checks the
product path, not only the models: x, t_x and T exactly as in Fader, Hardie & Lee (2005)'s
summary, and the BG/NBD, Pareto/NBD and Gamma-Gamma parameters within 0.5 %.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from clientbase.analytics.engine import Engine
from clientbase.analytics.lifetime import repeat_purchase_summary
from clientbase.domain.lifetime import LifetimeOptions
from clientbase.services.lifetime import lifetime_values

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "cdnow"
CALIBRATION_END = date(1997, 9, 30)


@pytest.fixture(scope="module")
def summary() -> pa.Table:
    path = DATA / "CDNOW_sample.txt"
    if not path.is_file():
        pytest.fail(f"The CDNOW reference file {path} is missing (expected ../shared/datasets).")
    raw = pd.read_csv(
        path, sep=r"\s+", header=None, names=["full_id", "id", "date", "cds", "dollars"]
    )
    orders = pa.table(
        {
            "customer_id": raw["id"].astype("int64"),
            "day": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d").dt.date,
            "status": ["completed"] * len(raw),
            "total_minor": (raw["dollars"] * 100).round().astype("int64"),
        }
    )
    with Engine() as engine:
        result = engine.to_arrow(repeat_purchase_summary(engine.table(orders), CALIBRATION_END))
    return result.sort_by("customer_id")


def test_summary_is_the_published_one(summary: pa.Table) -> None:
    published = pd.read_csv(DATA / "cdnow_sample_summary.csv").sort_values("ID")
    ours = summary.to_pandas()
    assert ours["customer_id"].tolist() == published["ID"].tolist()
    assert ours["x"].tolist() == published["x"].tolist()
    np.testing.assert_allclose(ours["t_x_days"] / 7, published["t_x"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(ours["T_days"] / 7, published["T"], atol=0.005 + 1e-9)
    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt", sep=r"\s+", header=None, names=["f", "id", "d", "n", "usd"]
    )
    calibration = raw[raw["d"] <= 19970930]
    totals = (calibration["usd"] * 100).round().astype("int64").groupby(calibration["id"]).sum()
    assert ours["revenue_minor"].tolist() == totals.sort_index().tolist()
    repeat = ours["x"] > 0
    zbar = ours["repeat_revenue_minor"][repeat] / ours["x"][repeat] / 100
    np.testing.assert_allclose(zbar, published["zbar"][repeat.to_numpy()], atol=0.005 + 1e-9)


@pytest.mark.parametrize(
    ("model", "published"),
    [
        ("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
        ("pareto", {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}),
    ],
)
def test_score_path_fits_the_published_parameters(
    summary: pa.Table, model: str, published: dict[str, float]
) -> None:
    result = lifetime_values(summary, LifetimeOptions(model=model), margin=0.3)  # type: ignore[arg-type]
    assert result.fitted, result.reason
    params = result.params["purchase"][model]
    for name, value in published.items():
        assert params[name] == pytest.approx(value, rel=0.005), name
    spend = result.params["spend"]
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44 * 100}.items():
        assert spend[name] == pytest.approx(value, rel=0.005), name
    table = result.table
    assert table is not None
    p_alive = np.asarray(table.column("p_alive"))
    assert ((p_alive > 0) & (p_alive <= 1)).all()
    clv = table.column("clv_minor").to_pandas()
    assert clv.notna().all() and (clv >= 0).all() and clv.median() > 0
