"""References are proven from id ranges while a build is written (no database needed)."""

from __future__ import annotations

import polars as pl
import pytest

from clientbase.demo.business import DemoStats, generate
from clientbase.errors import StorageError
from clientbase.storage.demo_sqlite import ReferenceGuard


def test_every_reference_of_the_demo_is_proven_from_id_ranges() -> None:
    guard = ReferenceGuard()
    for table, frame in generate(600, 3, DemoStats()):
        guard.admit(table, frame)
    assert guard.unproven == set()


def test_a_reference_past_the_parent_ids_is_refused() -> None:
    guard = ReferenceGuard()
    guard.admit("customers", pl.DataFrame({"id": [1, 2, 3]}))
    guard.admit("orders", pl.DataFrame({"id": [1, 2], "customer_id": [3, 1]}))
    with pytest.raises(StorageError, match=r"orders\.customer_id .* 1\.\.3"):
        guard.admit("orders", pl.DataFrame({"id": [3], "customer_id": [4]}))
    with pytest.raises(StorageError, match="customer_id"):
        guard.admit("events", pl.DataFrame({"id": [1], "customer_id": [0]}))


def test_parents_with_gaps_or_not_yet_written_are_left_to_sql() -> None:
    guard = ReferenceGuard()
    guard.admit("orders", pl.DataFrame({"id": [1], "customer_id": [1]}))  # no customers yet
    guard.admit("users", pl.DataFrame({"id": [1, 5]}))  # a gap: ids are not 1..n
    guard.admit("campaigns", pl.DataFrame({"id": [1], "owner_id": [5]}))
    guard.admit("partners", pl.DataFrame({"id": [1]}))
    guard.admit("customers", pl.DataFrame({"id": [1], "referred_by_partner_id": [None]}))
    assert guard.unproven == {"orders", "campaigns"}
