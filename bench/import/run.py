"""Import benchmark: a generated orders CSV into a fresh SQLite store, against DuckDB.

Usage::

    .venv/bin/python bench/import/run.py [--rows 1000000] [--keep DIR]

Generates ``rows`` orders (and the customers they reference, one per ten orders, imported
first), imports the orders with full validation through the same service as
``clientbase import orders``, and in the same run reads the same file with DuckDB's
``read_csv`` into a table (the anchor). Prints rows/s for both and the ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from sqlalchemy import text

from clientbase.security.actor import Actor
from clientbase.services.imports import import_file
from clientbase.storage.database import open_engine
from clientbase.storage.schema import upgrade

TARGET_ROWS_PER_S = 200_000


def generate(folder: Path, rows: int, seed: int = 7) -> tuple[Path, Path]:
    """Write ``customers.csv`` and ``orders.csv`` into ``folder``."""
    rng = np.random.default_rng(seed)
    n_customers = max(1, rows // 10)
    customers = pl.DataFrame(
        {
            "external_id": [f"C{i:08d}" for i in range(n_customers)],
            "name": [f"Customer {i}" for i in range(n_customers)],
            "city": rng.choice(["Budapest", "Győr", "Pécs", "Kraków", "Łódź"], n_customers),
            "acquisition_channel": rng.choice(["organic", "referral", "partner"], n_customers),
        }
    )
    start = np.datetime64("2021-01-01T00:00:00", "us")
    seconds = rng.integers(0, 3 * 365 * 86_400, rows)
    orders = pl.DataFrame(
        {
            "external_id": [f"O{i:09d}" for i in range(rows)],
            "customer": pl.Series(rng.integers(0, n_customers, rows))
            .cast(pl.String)
            .str.pad_start(8, "0"),
            "ordered_at": pl.Series(
                start + seconds.astype("timedelta64[s]").astype("timedelta64[us]")
            ).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "status": rng.choice(["completed", "completed", "completed", "cancelled"], rows),
            "total": pl.Series(rng.integers(500, 5_000_000, rows) / 100).cast(pl.String),
            "discount": pl.Series(rng.integers(0, 2, rows) * 500).cast(pl.String),
            "sales_channel": rng.choice(["web", "shop", "phone"], rows),
        }
    ).with_columns(("C" + pl.col("customer")).alias("customer"))
    customers_path = folder / "customers.csv"
    orders_path = folder / "orders.csv"
    customers.write_csv(customers_path)
    orders.write_csv(orders_path)
    return customers_path, orders_path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the files in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        customers_path, orders_path = generate(folder, args.rows)
        print(
            f"generated {args.rows:,} orders in {time.perf_counter() - t0:.1f}s "
            f"({orders_path.stat().st_size / 1e6:.0f} MB)"
        )
        store = folder / "bench.sqlite"
        store.unlink(missing_ok=True)
        engine = open_engine(f"sqlite:///{store}")
        upgrade(engine)
        actor = Actor.local_operator()
        t0 = time.perf_counter()
        customers = import_file(engine, actor, "customers", customers_path)
        print(f"customers: {customers.summary()} in {time.perf_counter() - t0:.1f}s")

        t0, c0 = time.perf_counter(), time.process_time()
        report = import_file(engine, actor, "orders", orders_path)
        ours, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM orders")).scalar_one()
        engine.dispose()
        assert stored == args.rows == report.imported, (stored, report.summary())

        t0, c0 = time.perf_counter(), time.process_time()
        con = duckdb.connect()
        con.execute(f"CREATE TABLE orders AS SELECT * FROM read_csv('{orders_path}')")
        anchor_count = con.execute("SELECT count(*) FROM orders").fetchone()
        anchor, anchor_cpu = time.perf_counter() - t0, time.process_time() - c0
        con.close()
        assert anchor_count is not None and anchor_count[0] == args.rows

    ours_rate = args.rows / ours
    verdict = "met" if ours_rate >= TARGET_ROWS_PER_S else "NOT met"
    anchor_rate = args.rows / anchor
    print(
        f"clientbase import orders (SQLite, full validation): {ours:.2f}s wall "
        f"({ours_cpu:.2f}s CPU) = {ours_rate:,.0f} rows/s"
    )
    print(
        f"anchor: DuckDB read_csv into a table: {anchor:.2f}s wall ({anchor_cpu:.2f}s CPU) "
        f"= {anchor_rate:,.0f} rows/s"
    )
    print(
        f"ratio clientbase / DuckDB: {ours_rate / anchor_rate:.3f}  "
        f"(target >= {TARGET_ROWS_PER_S:,} rows/s: {verdict})"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
