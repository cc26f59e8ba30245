"""The scoring and analysis commands end to end."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from clientbase.cli.app import app
from tests.integration.analytics.handbuilt import AS_OF, build

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_score_and_query_commands(sqlite_url: str) -> None:
    build(sqlite_url)
    out = _run("--db", sqlite_url, "score", "--as-of", AS_OF.isoformat())
    assert "14 customers as of 2025-06-30" in out
    rows = json.loads(_run("--db", sqlite_url, "customers", "--category", "lost", "-f", "json"))
    assert sorted(r["customer_id"] for r in rows) == [7, 13]
    text = _run("--db", sqlite_url, "customers", "--rung", "member", "--format", "csv")
    ids = sorted(int(r["customer_id"]) for r in csv.DictReader(io.StringIO(text)))
    assert ids == [4, 6, 13]
    doc = json.loads(_run("--db", sqlite_url, "explain", "5", "--format", "json"))
    assert doc["rung"] == 6
    assert doc["reason"].startswith("advocate: 1 advocacy signal in the last 730 days")
    hu = json.loads(_run("--db", sqlite_url, "explain", "5", "--lang", "hu", "-f", "json"))
    assert hu["reason"].startswith("szószóló")
    funnel = json.loads(_run("--db", sqlite_url, "funnel", "--format", "json"))
    assert funnel["runs"] == 1
    whale = json.loads(_run("--db", sqlite_url, "whale", "--format", "json"))
    assert whale["whale"]["customers"] == 14
    assert "Whale curve" in _run("--db", sqlite_url, "whale")


def test_bad_rung_is_refused(sqlite_url: str) -> None:
    build(sqlite_url)
    _run("--db", sqlite_url, "score", "--as-of", AS_OF.isoformat())
    result = runner.invoke(app, ["--db", sqlite_url, "customers", "--rung", "king"])
    assert result.exit_code != 0


def test_analyze_a_transactions_file(tmp_path: Path) -> None:
    src = tmp_path / "tx.csv"
    src.write_text(
        "cust,when,amount\n"
        "a,2025-01-01,10.50\na,2025-01-01,3.00\n"
        "b,2025-01-05,20\nb,2025-02-05,20\nb,2025-03-05,20\nb,2025-04-05,20\n"
        "c,2023-01-01,5\n",
        "utf-8",
    )
    args = [
        "analyze",
        str(src),
        "--customer-col",
        "cust",
        "--date-col",
        "when",
        "--amount-col",
        "amount",
    ]
    rows = {r["customer_id"]: r for r in json.loads(_run(*args, "--format", "json"))}
    assert rows["a"]["occasions"] == 1 and rows["a"]["revenue_minor"] == 1350
    assert (rows["b"]["rung"], rows["b"]["category"]) == (5, "loyal")
    assert rows["c"]["category"] == "lost"
    assert rows["b"]["reasons"].startswith("member: 4 purchase occasions in the last 365 days")
    out = tmp_path / "scores.parquet"
    _run(*args, "--format", "parquet", "--out", str(out), "--as-of", "2025-04-30")
    assert pq.read_table(out).num_rows == 3


def test_the_quick_path_takes_pandas_polars_arrow_and_ibis() -> None:
    import ibis
    import pandas as pd
    import polars as pl

    from clientbase.analytics import analyze_transactions

    frame = pl.DataFrame(
        {"c": [1, 1, 2], "d": ["2025-01-01", "2025-02-01", "2025-02-01"], "a": [1.0, 2.0, 3.0]}
    )
    results = [
        analyze_transactions(data, "c", "d", "a", reasons_language=None)
        for data in (frame, frame.to_pandas(), frame.to_arrow(), ibis.memtable(frame.to_arrow()))
    ]
    assert all(r.equals(results[0]) for r in results)
    assert results[0].column("occasions").to_pylist() == [2, 1]
    assert isinstance(frame.to_pandas(), pd.DataFrame)
