"""Reconciling a batch with the store's records, given as frames (no database)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

from clientbase.ingest.kinds import kind_spec
from clientbase.ingest.mapping import Mapping
from clientbase.ingest.readers import read_table
from clientbase.ingest.reconcile import KEY, TeamScope, reconcile
from clientbase.ingest.validate import ValidatedBatch, validate


def _batch(tmp_path: Path, kind: str, text: str) -> ValidatedBatch:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    return validate(read_table(path), kind_spec(kind), Mapping())


def _lookup(pairs: dict[str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        {KEY: list(pairs), "id": list(pairs.values())}, schema={KEY: pl.String, "id": pl.Int64}
    )


def test_new_changed_and_unchanged_orders(tmp_path: Path) -> None:
    batch = _batch(
        tmp_path,
        "orders",
        "external_id,customer,ordered_at,total\n"
        "O1,C1,2024-01-01,10\n"  # same as stored
        "O2,C1,2024-01-02,25\n"  # stored with another total
        "O3,C2,2024-01-03,30\n"  # new
        "O4,C9,2024-01-04,40\n",  # unknown customer
    )
    existing = pl.DataFrame(
        {
            KEY: ["O1", "O2"],
            "id": [1, 2],
            "customer_id": [100, 100],
            "ordered_at": [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)],
            "total_minor": [1000, 2000],
        }
    )
    plan = reconcile(
        batch,
        {"customers": _lookup({"C1": 100, "C2": 200})},
        existing,
        lambda n: list(range(50, 50 + n)),
    )
    assert plan.inserts.select("id", "customer_id", "total_minor").rows() == [(50, 200, 3000)]
    assert plan.updates.select("id", "total_minor").rows() == [(2, 2500)]
    assert plan.unchanged == 1
    assert plan.errors.select("row", "column", "value").rows() == [(5, "customer", "C9")]
    assert plan.errors.get_column("code")[0] == "reference_unknown"
    assert json.loads(plan.errors.get_column("figures")[0]) == {"kind": "customers"}
    assert plan.inserts.height + plan.updates.height + plan.unchanged + 1 == 4


def test_self_references_resolve_within_the_file(tmp_path: Path) -> None:
    batch = _batch(
        tmp_path,
        "customers",
        "external_id,referred_by\nC2,C1\nC1,\nC3,C0\nC4,C7\n",
    )
    existing = pl.DataFrame({KEY: ["C0"], "id": [7]}, schema={KEY: pl.String, "id": pl.Int64})
    plan = reconcile(
        batch,
        {"customers": _lookup({"C0": 7})},
        existing.with_columns(pl.lit(None, dtype=pl.Int64).alias("referred_by_customer_id")),
        lambda n: list(range(10, 10 + n)),
    )
    assert plan.errors.select("row", "value").rows() == [(5, "C7")]
    inserted = dict(plan.inserts.select("id", "referred_by_customer_id").rows())
    ids = (
        dict(plan.external_ids.select("external_id", "customer_id").rows())
        if plan.external_ids is not None
        else {}
    )
    assert inserted[ids["C2"]] == ids["C1"]
    assert inserted[ids["C3"]] == 7
    assert inserted[ids["C1"]] is None
    assert plan.updates.height == 0


def test_order_lines_match_on_order_and_line_number(tmp_path: Path) -> None:
    batch = _batch(
        tmp_path,
        "order-lines",
        "order,line_no,product,quantity,unit_price\nO1,1,P1,2,10\nO1,2,P1,1,10\nO2,1,P9,1,5\n",
    )
    existing = pl.DataFrame(
        {
            "id": [5],
            "order_id": [1],
            "line_no": [1],
            "product_id": [11],
            "quantity": [2],
            "unit_price_minor": [1000],
        }
    )
    plan = reconcile(
        batch,
        {"orders": _lookup({"O1": 1, "O2": 2}), "products": _lookup({"P1": 11})},
        existing,
        lambda n: list(range(90, 90 + n)),
    )
    assert plan.unchanged == 1
    assert plan.inserts.select("id", "order_id", "line_no").rows() == [(90, 1, 2)]
    assert plan.errors.select("row", "column", "value").rows() == [(4, "product", "P9")]


def test_email_matching_another_stored_customer_is_a_warning(tmp_path: Path) -> None:
    batch = _batch(
        tmp_path, "customers", "external_id,email\nC5,Anna@Example.hu\nC6,bela@example.hu\n"
    )
    existing = pl.DataFrame(schema={KEY: pl.String, "id": pl.Int64, "email": pl.String})
    emails = pl.DataFrame({"email": ["anna@example.hu"], KEY: ["C1"]})
    plan = reconcile(
        batch, {"customers": _lookup({})}, existing, lambda n: list(range(1, n + 1)), emails
    )
    assert plan.warnings.select("row", "value").rows() == [(2, "Anna@Example.hu")]
    assert plan.warnings.get_column("code")[0] == "email_duplicate_in_store"
    assert json.loads(plan.warnings.get_column("figures")[0]) == {"external_id": "C1"}
    assert plan.errors.height == 0


def test_a_row_referring_to_a_rejected_row_is_rejected_too(tmp_path: Path) -> None:
    batch = _batch(
        tmp_path,
        "customers",
        "external_id,referred_by,birth_year\nC1,C2,\nC2,C3,\nC3,C404,\nC4,,\nC5,C6,\nC6,,x\n",
    )
    existing = pl.DataFrame(
        schema={KEY: pl.String, "id": pl.Int64, "referred_by_customer_id": pl.Int64}
    )
    plan = reconcile(batch, {"customers": _lookup({})}, existing, lambda n: list(range(1, n + 1)))
    # C3 points nowhere, C2 at C3, C1 at C2; C6 fails validation, so C5 cannot point at it.
    assert sorted(plan.errors.get_column("row").to_list()) == [2, 3, 4, 6, 7]
    assert plan.external_ids is not None
    assert plan.external_ids.get_column("external_id").to_list() == ["C4"]
    assert plan.inserts.height == 1


def test_a_team_scope_keeps_owners_in_the_team_and_rejects_the_rest(tmp_path: Path) -> None:
    batch = _batch(
        tmp_path,
        "customers",
        "external_id,name,owner,referred_by\n"
        "C1,Anna,,\n"  # row 2: the team's, keeps its owner (7)
        "C2,Béla,,\n"  # row 3: another team's customer
        "C3,Cili,,C2\n"  # row 4: new, referred by another team's customer
        "C4,Dóra,,C1\n"  # row 5: new, no owner named: the manager (5)
        "C5,Ede,rep,\n"  # row 6: new, a team member named
        "C6,Feri,stranger,\n",  # row 7: an owner outside the team
    )
    existing = pl.DataFrame(
        {KEY: ["C1", "C2"], "id": [1, 2], "name": ["Anna", "B"], "owner_id": [7, 9]},
        schema={KEY: pl.String, "id": pl.Int64, "name": pl.String, "owner_id": pl.Int64},
    )
    team = TeamScope(
        members=frozenset({5, 7}), default_owner=5, customers=pl.Series([1], dtype=pl.Int64)
    )
    plan = reconcile(
        batch,
        {
            "customers": _lookup({"C1": 1, "C2": 2}),
            "users": _lookup({"boss": 5, "rep": 7, "stranger": 9}),
        },
        existing,
        lambda n: list(range(50, 50 + n)),
        team=team,
    )
    assert sorted(plan.errors.select("row", "column", "code").rows()) == [
        (3, "external_id", "customer_outside_team"),
        (4, "referred_by", "customer_outside_team"),
        (7, "owner", "owner_outside_team"),
    ]
    assert sorted(plan.inserts.select("name", "owner_id").rows()) == [("Dóra", 5), ("Ede", 7)]
    assert plan.updates.height == 0 and plan.unchanged == 1  # C1 kept owner 7
