"""Benchmark of scoring (issue #3): features, rungs and categories on the demo business.

(a) features + RFM + rungs + categories into an Arrow table, against the anchor of one bare
    DuckDB query that aggregates count, sum and last date per customer over the same orders
    and events (both from the same Arrow tables already read from the store);
(b) the whole ``clientbase score`` command, persisting included, in a child process (run
    first, while this process is small, so that its peak memory is its own).

Usage::

    .venv/bin/python bench/score/run.py [--customers 1000000] [--db PATH] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from clientbase.analytics.columnar import customer_feature_table
from clientbase.analytics.scoring import classify_features, score_inputs
from clientbase.config import get_settings
from clientbase.domain.policy import Policy, default_policy
from clientbase.services.demo import build_demo
from clientbase.services.scoring import read_store

ANCHOR = """
SELECT customer_id, count(*) AS n, sum(amount) AS total, max(day) AS last_day
FROM (
    SELECT customer_id, total_minor AS amount, day FROM orders
    UNION ALL
    SELECT customer_id, amount_minor AS amount, day FROM events
)
GROUP BY customer_id
"""


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _stages(inputs: dict[str, pa.Table], as_of: date, policy: Policy) -> dict[str, float]:
    """One more scoring, timed stage by stage (feature kernels, rules)."""
    times: dict[str, float] = {}
    started = time.perf_counter()
    features = customer_feature_table(inputs, as_of, policy)
    times["features_kernels"] = time.perf_counter() - started
    started = time.perf_counter()
    classify_features(features, policy)
    times["rules_numpy"] = time.perf_counter() - started
    return {k: round(v, 3) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/clientbase-bench-score.sqlite"))
    parser.add_argument("--reuse", action="store_true", help="use an existing demo store")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of (a); best kept")
    args = parser.parse_args()
    url = f"sqlite:///{args.db}"
    settings = get_settings(db=url)
    results: dict[str, object] = {"customers": args.customers}

    if not (args.reuse and args.db.exists()):
        started = time.perf_counter()
        demo = build_demo(settings, customers=args.customers, replace=True)
        results["demo_build_s"] = round(time.perf_counter() - started, 1)
        as_of = demo.as_of
    else:
        import sqlite3

        with sqlite3.connect(args.db) as conn:
            last = conn.execute("SELECT max(ordered_at) FROM orders").fetchone()[0]
        as_of = date.fromisoformat(last[:10])
    results["as_of"] = as_of.isoformat()

    script = Path(sys.executable).parent / "clientbase"
    cli = [str(script), "--db", url, "score", "--as-of", as_of.isoformat()]
    started = time.perf_counter()
    subprocess.run(cli, check=True, stdout=subprocess.DEVNULL)
    results["clientbase_score_s"] = round(time.perf_counter() - started, 2)
    # Measured before this process holds a million rows: a child forked from a large
    # process would report the parent's pages as its own peak.
    results["clientbase_score_peak_rss_mb"] = round(_peak_mb(resource.RUSAGE_CHILDREN))

    started = time.perf_counter()
    inputs = read_store(url, as_of)
    results["read_store_s"] = round(time.perf_counter() - started, 2)
    results["orders"] = inputs["orders"].num_rows
    results["events"] = inputs["events"].num_rows

    con = duckdb.connect()
    orders, events = inputs["orders"], inputs["events"]  # noqa: F841 - read by DuckDB
    policy = default_policy()
    anchor, scored = [], []
    for _ in range(args.repeat):  # alternated, so that both see the same machine load
        started = time.perf_counter()
        con.sql(ANCHOR).to_arrow_table()
        anchor.append(time.perf_counter() - started)
        started = time.perf_counter()
        table = score_inputs(inputs, as_of, policy)
        scored.append(time.perf_counter() - started)
    results["anchor_s"] = round(min(anchor), 3)
    results["features_rungs_categories_s"] = round(min(scored), 3)
    results["ratio_to_anchor"] = round(min(scored) / min(anchor), 2)
    results["ratio_per_repetition"] = [round(s / a, 2) for s, a in zip(scored, anchor, strict=True)]
    results["scored_rows"] = table.num_rows
    results["breakdown_s"] = _stages(inputs, as_of, policy)
    results["bench_process_peak_rss_mb"] = round(_peak_mb(resource.RUSAGE_SELF))

    results["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    results["cpus"] = os.cpu_count()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
