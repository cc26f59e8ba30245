"""PostgreSQL planner statistics are refreshed after every bulk write: the demo, a score run
and a large import (the planner otherwise takes a freshly filled table for an empty one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from clientbase.config import get_settings
from clientbase.security.actor import Actor
from clientbase.services import imports
from clientbase.services.demo import build_demo
from clientbase.services.imports import import_file
from clientbase.services.scoring import run_score
from clientbase.storage.database import open_engine

pytestmark = pytest.mark.postgres


def _estimated_rows(engine: Engine, table: str) -> float:
    """The planner's row count of ``table`` (``pg_class.reltuples``; -1: never analysed)."""
    with engine.connect() as conn:
        return float(
            conn.execute(
                text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}
            ).scalar_one()
        )


def _rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())


def _forget(engine: Engine, *tables: str) -> None:
    """Make the planner believe ``tables`` are empty, as after a truncation."""
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text("UPDATE pg_class SET reltuples = 0 WHERE relname = :t"), {"t": table})


def test_the_demo_and_a_score_run_leave_statistics_of_what_they_wrote(pg_url: str) -> None:
    settings = get_settings(db=pg_url)
    engine = open_engine(pg_url)
    try:
        _forget(engine, "customers", "orders", "customer_scores")
        demo = build_demo(settings, customers=400, seed=5, replace=True)
        for table in ("customers", "orders"):
            assert _estimated_rows(engine, table) == _rows(engine, table) > 0, table
        run_score(settings, Actor.local_operator(), as_of=demo.as_of)
        assert _estimated_rows(engine, "customer_scores") == _rows(engine, "customer_scores")
        assert _rows(engine, "customer_scores") > 0
    finally:
        engine.dispose()


def _customers_file(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "customers.csv"
    lines = ["external_id,name,city"]
    lines += [f"C{i},Vevő {i},Győr" for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_large_import_refreshes_statistics_and_a_small_one_does_not(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "ANALYZE_AFTER_ROWS", 50)
    engine = open_engine(pg_url)
    try:
        _forget(engine, "customers")
        import_file(engine, Actor.local_operator(), "customers", _customers_file(tmp_path, 20))
        assert _estimated_rows(engine, "customers") == 0  # 20 rows: below the threshold
        import_file(engine, Actor.local_operator(), "customers", _customers_file(tmp_path, 80))
        assert _estimated_rows(engine, "customers") == _rows(engine, "customers") == 80
    finally:
        engine.dispose()
