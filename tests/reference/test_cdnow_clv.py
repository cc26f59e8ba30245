"""The published CDNOW results (Fader, Hardie & Lee 2005), from the summary and from the raw log.

The data live in ``../shared/datasets/cdnow/`` next to the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clientbase.models.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    TransactionSummary,
    summary_from_transactions,
)
from clientbase.services.clv import read_transactions, validate_purchase_model

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "cdnow"

PUBLISHED = {
    "bgnbd": ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
    "pareto": ({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
    "gamma": ({"p": 6.25, "q": 3.74, "v": 15.44}, None),
}


def _require(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        pytest.fail(
            f"The CDNOW reference file {path} is missing (expected ../shared/datasets/cdnow)."
        )
    return path


@pytest.fixture(scope="module")
def summary_csv() -> pd.DataFrame:
    return pd.read_csv(_require("cdnow_sample_summary.csv"))


@pytest.fixture(scope="module")
def summary_log() -> TransactionSummary:
    data = read_transactions(
        _require("CDNOW_sample.txt"),
        customer_col="2",
        date_col="3",
        amount_col="5",
        has_header=False,
    )
    return summary_from_transactions(
        data.customer_id,
        data.date,
        data.amount,
        calibration_end="1997-09-30",
        holdout_end="1998-06-30",
    )


def _check(params: dict[str, float], ll: float | None, key: str, fitted_ll: float) -> None:
    published, published_ll = PUBLISHED[key]
    for name, value in published.items():
        assert params[name] == pytest.approx(value, rel=0.005), name
    if published_ll is not None:
        assert abs(fitted_ll - published_ll) <= 0.1


@pytest.mark.parametrize("source", ["csv", "log"])
def test_bgnbd_reproduces_fhl_2005(
    source: str, summary_csv: pd.DataFrame, summary_log: TransactionSummary
) -> None:
    if source == "csv":
        x, t_x, T = summary_csv["x"], summary_csv["t_x"], summary_csv["T"]
    else:
        x, t_x, T = summary_log.frequency, summary_log.recency, summary_log.T
    model = BetaGeoModel().fit(x, t_x, T)
    _check(model.params_, None, "bgnbd", model.log_likelihood_)
    assert abs(model.log_likelihood_ - (-9582.4)) <= 0.1


@pytest.mark.parametrize("source", ["csv", "log"])
def test_pareto_nbd_reproduces_fhl_2005(
    source: str, summary_csv: pd.DataFrame, summary_log: TransactionSummary
) -> None:
    if source == "csv":
        x, t_x, T = summary_csv["x"], summary_csv["t_x"], summary_csv["T"]
    else:
        x, t_x, T = summary_log.frequency, summary_log.recency, summary_log.T
    model = ParetoNBDModel().fit(x, t_x, T)
    _check(model.params_, -9595.0, "pareto", model.log_likelihood_)


@pytest.mark.parametrize("source", ["csv", "log"])
def test_gamma_gamma_reproduces_fhl_2005_jmr(
    source: str, summary_csv: pd.DataFrame, summary_log: TransactionSummary
) -> None:
    if source == "csv":
        x, zbar = summary_csv["x"], summary_csv["zbar"]
    else:
        x, zbar = summary_log.frequency, summary_log.monetary_value
    model = GammaGammaModel().fit(x, zbar)
    _check(model.params_, None, "gamma", model.log_likelihood_)
    assert model.n_customers_ == 946


def test_worked_example_of_the_bgnbd_paper() -> None:
    model = BetaGeoModel().fit(*_published_fit_data())
    expected = model.expected_purchases(39, 2, 30.43, 38.86)[0]
    alive = model.probability_alive(2, 30.43, 38.86)[0]
    assert round(expected, 3) == 1.226
    assert round(alive, 3) == 0.727


def _published_fit_data() -> tuple[pd.Series, pd.Series, pd.Series]:
    frame = pd.read_csv(_require("cdnow_sample_summary.csv"))
    return frame["x"], frame["t_x"], frame["T"]


def test_summary_from_transactions_rebuilds_the_published_summary(
    summary_csv: pd.DataFrame, summary_log: TransactionSummary
) -> None:
    assert len(summary_log) == 2357
    np.testing.assert_array_equal(summary_log.customer_id.astype(int), summary_csv["ID"])
    np.testing.assert_array_equal(summary_log.frequency, summary_csv["x"])
    np.testing.assert_allclose(summary_log.recency, summary_csv["t_x"], atol=0.005)
    np.testing.assert_allclose(summary_log.T, summary_csv["T"], atol=0.005)
    np.testing.assert_allclose(summary_log.monetary_value, summary_csv["zbar"], atol=0.005 + 1e-9)
    assert summary_log.holdout_duration == 39.0
    assert summary_log.holdout_frequency.sum() == 1882


def test_validation_reports_the_1882_holdout_purchases() -> None:
    data = read_transactions(
        _require("CDNOW_sample.txt"),
        customer_col="column_2",
        date_col="column_3",
        amount_col="column_5",
        has_header=False,
        separator="whitespace",
    )
    report = validate_purchase_model(data, calibration_end="1997-09-30", holdout_end="1998-06-30")
    assert report.actual_total == 1882
    assert report.predicted_total == pytest.approx(1653, abs=1)
    assert sum(row.actual for row in report.buckets) == 1882
    assert [row.frequency for row in report.buckets][-1] == "7+"
    assert report.tracking[-1].actual == 1882
    assert report.tracking[-1].predicted == pytest.approx(report.predicted_total)
    assert len(report.tracking) == 39
    actuals = [p.actual for p in report.tracking]
    assert actuals == sorted(actuals)
    assert 0 < report.mean_absolute_error < 2
    json.dumps(report.to_dict())


def test_cli_validate_on_cdnow(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clientbase.cli.app import app

    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "clv",
            "validate",
            str(_require("CDNOW_sample.txt")),
            "--no-header",
            "--customer-col",
            "2",
            "--date-col",
            "3",
            "--amount-col",
            "5",
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
            "--model",
            "pareto",
            "--format",
            "json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["actual_total"] == 1882
    assert report["model"] == "Pareto/NBD"
    assert report["params"]["r"] == pytest.approx(0.553, rel=0.005)
