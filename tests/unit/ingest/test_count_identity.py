"""The count identity holds for any mix of good and bad rows."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from clientbase.ingest.kinds import kind_spec
from clientbase.ingest.mapping import Mapping
from clientbase.ingest.readers import read_table
from clientbase.ingest.reconcile import KEY, reconcile
from clientbase.ingest.validate import validate

IDS = st.sampled_from(["O1", "O2", "O3", "O4", ""])
CUSTOMERS = st.sampled_from(["C1", "C2", "C404", ""])
DATES = st.sampled_from(["2024-03-15", "2024.03.16.", "2024-02-30", "soon", ""])
TOTALS = st.sampled_from(["10", "12,5", "-3", "1 234.50 Ft", "x", "", "10.005"])
ROWS = st.lists(st.tuples(IDS, CUSTOMERS, DATES, TOTALS), max_size=12)


@settings(max_examples=60, deadline=None)
@given(rows=ROWS)
def test_rows_equal_imported_updated_unchanged_rejected(rows: list[tuple[str, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["external_id", "customer", "ordered_at", "total"])
            writer.writerows(rows)
        raw = read_table(path)
        batch = validate(raw, kind_spec("orders"), Mapping())
    lookup = pl.DataFrame({KEY: ["C1", "C2"], "id": [1, 2]})
    existing = pl.DataFrame(
        {KEY: ["O1", "O2"], "id": [1, 2], "customer_id": [1, 2], "total_minor": [1000, 500]}
    )
    plan = reconcile(batch, {"customers": lookup}, existing, lambda n: range(10, 10 + n))
    rejected = plan.errors.get_column("row").n_unique()
    assert raw.rows == len(rows)
    assert raw.rows == plan.inserts.height + plan.updates.height + plan.unchanged + rejected
    accepted = set(plan.inserts.get_column("id")) | set(plan.updates.get_column("id"))
    assert len(accepted) == plan.inserts.height + plan.updates.height
