"""Features computed inside PostgreSQL agree with the in-process DuckDB path (issue #3)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from clientbase.analytics.engine import Engine
from clientbase.analytics.features import INPUT_SCHEMAS
from clientbase.analytics.store_inputs import store_inputs
from clientbase.cli.app import app, main
from clientbase.config import get_settings
from clientbase.domain.policy import default_policy
from clientbase.errors import ConfigurationError
from clientbase.security.actor import Actor
from clientbase.services.demo import build_demo
from clientbase.services.scoring import compute_run, compute_scores, read_store, run_score
from clientbase.storage.database import open_engine
from clientbase.storage.orm import CustomerScore, ScoreRun
from tests.integration.analytics.handbuilt import AS_OF, build


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in keys])


@pytest.mark.postgres
def test_the_store_inputs_normalise_as_the_arrow_path_does(pg_url: str) -> None:
    build(pg_url)
    fetched = read_store(pg_url, AS_OF)
    with Engine.in_postgres(pg_url) as engine, engine.snapshot():
        inputs = store_inputs(engine.source, AS_OF)
        for name, columns in INPUT_SCHEMAS.items():
            got = engine.to_arrow(getattr(inputs, name))
            want = fetched[name]
            keys = list(columns)
            assert got.column_names == keys
            got, want = _sorted(got, keys), _sorted(want, keys)
            for col in keys:
                assert got.column(col).to_pylist() == want.column(col).to_pylist(), (name, col)


@pytest.mark.postgres
def test_the_in_database_engine_reads_one_read_only_snapshot(pg_url: str) -> None:
    import psycopg

    with Engine.in_postgres(pg_url) as engine, engine.snapshot():
        shown = engine.backend.raw_sql(
            "SELECT current_setting('transaction_isolation'), "
            "current_setting('transaction_read_only')"
        ).fetchall()
        assert shown == [("repeatable read", "on")]
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            engine.backend.raw_sql("CREATE TABLE scratch_written (id integer)")


@pytest.mark.postgres
def test_the_handbuilt_store_scores_the_same_in_the_database(sqlite_url: str, pg_url: str) -> None:
    build(sqlite_url)
    build(pg_url)
    lite = compute_scores(sqlite_url, AS_OF, default_policy())
    inside = compute_scores(pg_url, AS_OF, default_policy(), compute="database")
    assert inside.schema == lite.schema
    assert inside.to_pylist() == lite.to_pylist()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_demo_scores_identically_with_both_engines(pg_url: str) -> None:
    settings = get_settings(db=pg_url)
    demo = build_demo(settings, customers=3_000, seed=23, replace=True)
    policy = default_policy()
    duck, duck_life = compute_run(pg_url, demo.as_of, policy, compute="process")
    inside, inside_life = compute_run(pg_url, demo.as_of, policy, compute="database")
    assert duck_life is not None and inside_life is not None
    assert duck_life.fitted and inside_life.fitted, duck_life.reason
    assert (inside_life.reason, inside_life.params) == (duck_life.reason, duck_life.params)
    assert inside.num_rows == duck.num_rows == 3_000
    assert inside.schema == duck.schema
    for name in inside.column_names:
        # Features to the cent, rungs, categories, reasons, RFM, P(alive), CLV: all equal.
        assert inside.column(name).equals(duck.column(name)), name
    assert len(set(inside.column("rung").to_pylist())) == 7


@pytest.mark.postgres
@pytest.mark.slow
def test_score_compute_database_from_the_command_line(pg_url: str) -> None:
    demo = build_demo(get_settings(db=pg_url), customers=1_500, seed=5, replace=True)
    runner = CliRunner()
    day = demo.as_of.isoformat()
    for compute in ("database", "process"):
        result = runner.invoke(app, ["--db", pg_url, "score", "--as-of", day, "--compute", compute])
        assert result.exit_code == 0, result.output
        assert f"1500 customers as of {day}" in result.output
    engine = open_engine(pg_url)
    try:
        with engine.connect() as conn:
            runs = conn.execute(select(ScoreRun.id, ScoreRun.notes).order_by(ScoreRun.id)).all()
            assert [notes["compute"] for _, notes in runs] == ["database", "process"]
            columns = [c for c in CustomerScore.__table__.columns if c.name != "run_id"]
            per_run = [
                conn.execute(
                    select(*columns)
                    .where(CustomerScore.run_id == run_id)
                    .order_by(CustomerScore.customer_id)
                ).all()
                for run_id, _ in runs
            ]
    finally:
        engine.dispose()
    assert len(per_run[0]) == 1_500
    assert per_run[0] == per_run[1]


def test_database_compute_is_refused_on_a_sqlite_store(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    build(sqlite_url)
    settings = get_settings(db=sqlite_url)
    with pytest.raises(ConfigurationError, match="only on a PostgreSQL store"):
        run_score(settings, Actor.local_operator(), as_of=AS_OF, compute="database")
    with pytest.raises(ConfigurationError, match="only on a PostgreSQL store"):
        compute_scores(sqlite_url, AS_OF, default_policy(), compute="database")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["--db", sqlite_url, "score", "--compute", "database"])
    err = capsys.readouterr().err
    assert exited.value.code == ConfigurationError.exit_code
    assert "only on a PostgreSQL store" in err and "--compute process" in err
    engine = open_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(ScoreRun)).scalar() == 0
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_compute_setting_chooses_the_engine(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clientbase.config import _env_settings

    build(pg_url)
    monkeypatch.setenv("CLIENTBASE_COMPUTE", "database")
    _env_settings.cache_clear()
    settings = get_settings(db=pg_url)
    assert settings.compute == "database"
    summary = run_score(settings, Actor.local_operator(), as_of=AS_OF)
    assert summary.customers_scored == 14
    engine = open_engine(pg_url)
    try:
        with engine.connect() as conn:
            notes = conn.execute(select(ScoreRun.notes)).scalar_one()
    finally:
        engine.dispose()
    assert notes["compute"] == "database"
