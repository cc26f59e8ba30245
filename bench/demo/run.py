"""Benchmark of the demo build (issue #2): 1,000,000 customers / ~10,000,000 orders into SQLite.

(a) the build: ``build_demo`` in a child process (a new SQLite file in a temporary
    directory), timed against the target of 120 s, with the child's peak RSS and CPU time,
    and the time at which each table and finishing stage started;
(b) the anchor, in the same run: the same number of rows per table written with a bare
    ``sqlite3`` ``executemany`` of one constant tuple (as wide as the demo's rows of that
    table) into tables without keys or indexes, in one transaction: what "just inserting the
    rows" costs from Python, so the ratio shows how close the build is to that floor;
(c) with ``--verify``: ``PRAGMA integrity_check``, ``foreign_key_check``, the journal mode
    and the schema (tables and indexes) against a freshly migrated store, timed apart.

Usage::

    .venv/bin/python bench/demo/run.py [--customers 1000000] [--dir /tmp] [--verify]
                                       [--no-anchor] [--keep]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_S = 120.0


def worker(customers: int, seed: int, db: Path) -> None:
    """Child process: build the demo and print what happened as JSON."""
    from clientbase.config import get_settings
    from clientbase.services.demo import build_demo

    started = time.perf_counter()
    stages: dict[str, float] = {}

    def progress(stage: str, rows: int, done: int, total: int) -> None:
        stages.setdefault(stage, round(time.perf_counter() - started, 1))

    result = build_demo(
        get_settings(db=f"sqlite:///{db}"), customers=customers, seed=seed, progress=progress
    )
    print(
        json.dumps(
            {
                "seconds": result.seconds,
                "published": result.published,
                "rows": dict(result.stats.rows),
                "orders": result.stats.orders,
                "order_lines": result.stats.order_lines,
                "stages": stages,
            }
        )
    )


def _build(customers: int, seed: int, db: Path) -> dict[str, Any]:
    started = time.perf_counter()
    command = [sys.executable, __file__, "--worker", "--customers", str(customers)]
    proc = subprocess.Popen(
        [*command, "--seed", str(seed), "--db", str(db)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"the build failed (status {status})")
    info: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    info["wall"] = wall
    info["cpu"] = usage.ru_utime + usage.ru_stime
    info["peak_rss_mb"] = usage.ru_maxrss / 1024
    return info


def _constant_rows() -> dict[str, tuple[Any, ...]]:
    """One real row of every demo table (from a tiny build), datetimes as SQLite text."""
    import polars as pl

    from clientbase.demo.business import DemoStats, generate

    rows: dict[str, tuple[Any, ...]] = {}
    for table, frame in generate(200, 1, DemoStats()):
        if table in rows or frame.height == 0:
            continue
        text = [
            pl.col(c).dt.to_string("%Y-%m-%d %H:%M:%S.%6f")
            for c, t in frame.schema.items()
            if isinstance(t, pl.Datetime)
        ]
        first = frame.with_columns(text).row(0)
        rows[table] = tuple(
            str(v) if not isinstance(v, int | float | str | None) else v for v in first
        )
    return rows


def _anchor(rows: dict[str, int], directory: Path) -> float:
    """Seconds to insert ``rows[table]`` constant tuples per table with bare executemany."""
    constants = _constant_rows()
    path = directory / "anchor.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        started = time.perf_counter()
        conn.execute("BEGIN")
        for table, n in rows.items():
            row = constants[table]
            cols = ", ".join(f"c{i}" for i in range(len(row)))
            conn.execute(f"CREATE TABLE {table} ({cols})")
            marks = ", ".join("?" * len(row))
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", itertools.repeat(row, n))
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()
        path.unlink()


def _schema(path: Path) -> set[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        found = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'index') "
            "AND name NOT LIKE 'sqlite_stat%'"
        ).fetchall()
    return {(str(t), str(n), str(s)) for t, n, s in found}


def _verify(db: Path, directory: Path) -> dict[str, Any]:
    from clientbase.storage.database import open_engine
    from clientbase.storage.schema import upgrade

    template = directory / "template.sqlite"
    engine = open_engine(f"sqlite:///{template}")
    upgrade(engine)
    engine.dispose()
    started = time.perf_counter()
    with sqlite3.connect(db) as conn:
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchall()
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    return {
        "journal_mode": journal,
        "integrity_check": "ok" if integrity == [("ok",)] else integrity[:3],
        "foreign_key_violations": len(broken),
        "schema_as_migrated": _schema(db) == _schema(template),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _cli_startup() -> float:
    exe = Path(sys.executable).with_name("clientbase")
    started = time.perf_counter()
    subprocess.run([str(exe), "--help"], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verify", action="store_true", help="check the built store")
    parser.add_argument("--no-anchor", action="store_true", help="skip the anchor")
    parser.add_argument("--keep", action="store_true", help="keep the built store")
    args = parser.parse_args()
    if args.worker:
        worker(args.customers, args.seed, args.db)
        return
    work = Path(tempfile.mkdtemp(prefix="clientbase-bench-demo-", dir=args.dir))
    db = work / "demo.sqlite"
    try:
        build = _build(args.customers, args.seed, db)
        size_gb = db.stat().st_size / 1e9
        anchor = None if args.no_anchor else _anchor(build["rows"], work)
        checks = _verify(db, work) if args.verify else None
        startup = _cli_startup()
        rows = sum(build["rows"].values())
        print(f"demo build, {args.customers:,} customers, seed {args.seed}, into {db}")
        print(
            f"  rows written      {rows:,} ({build['orders']:,} orders, "
            f"{build['order_lines']:,} order lines, {build['rows'].get('events', 0):,} events)"
        )
        print(
            f"  build             {build['seconds']:.1f} s  (target {TARGET_S:.0f} s: "
            f"{'met' if build['seconds'] <= TARGET_S else 'NOT met'}); published by "
            f"{build['published']}; file {size_gb:.2f} GB"
        )
        print(
            f"  child process     {build['wall']:.1f} s wall, {build['cpu']:.1f} s CPU "
            f"({100 * build['cpu'] / build['wall']:.0f} % of one core), "
            f"peak RSS {build['peak_rss_mb']:,.0f} MB"
        )
        print(f"  CLI start-up      {startup:.1f} s (added by `clientbase demo`, not the build)")
        if anchor is not None:
            print(
                f"  anchor            {anchor:.1f} s: bare sqlite3 executemany of constant "
                f"tuples, same rows per table"
            )
            print(f"  ratio             build / anchor = {build['seconds'] / anchor:.2f}")
        print(
            "  stages (s from start): " + ", ".join(f"{k} {v}" for k, v in build["stages"].items())
        )
        if checks is not None:
            print(f"  verify            {checks}")
    finally:
        if args.keep:
            print(f"kept {db}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
