"""Reconciling a validated batch with what the store already holds (given as frames).

The service loads, from the database, the ids behind every external id the batch refers to
and the records it may update; this module decides, without touching the database, which
rows are new, which change a record, which change nothing, and which refer to something
that does not exist. Ids for new records come from the ``allocate`` callback, so that
references between rows of the same file (a customer referred by another one in the file,
a user's manager) resolve before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from clientbase.ingest.kinds import FieldSpec, FieldType, KindSpec
from clientbase.ingest.readers import ROW
from clientbase.ingest.report import figures_expr, figures_json, issues_frame
from clientbase.ingest.validate import ValidatedBatch

__all__ = ["KEY", "TeamScope", "WritePlan", "reconcile", "store_key_columns"]

#: Name of the external-key column in lookup frames (``KEY`` text -> ``id``).
KEY = "key"


@dataclass(slots=True)
class WritePlan:
    """What to write: new records (with their ids), changed records, and what was wrong.

    ``inserts`` and ``updates`` carry store column names; ``external_ids`` the
    ``(customer_id, external_id)`` pairs of new customers.
    """

    inserts: pl.DataFrame
    updates: pl.DataFrame
    unchanged: int
    errors: pl.DataFrame = field(default_factory=issues_frame)
    warnings: pl.DataFrame = field(default_factory=issues_frame)
    external_ids: pl.DataFrame | None = None


@dataclass(frozen=True, slots=True)
class TeamScope:
    """What a manager's import may touch: the customers their team owns.

    Attributes
    ----------
    members
        User ids of the team (the manager included): the owners a new or updated customer
        may have.
    default_owner
        The owner of a new customer whose row names none (the manager).
    customers
        Ids of the store's customers owned within the team. A row that would update a
        customer outside them, refer to one (an order's or event's customer, a referrer, an
        event's order), or update an order or event of one is rejected
        (``customer_outside_team``), and so is a customer row naming an owner outside the
        team (``owner_outside_team``).
    orders
        Ids of the store's orders of those customers, when the file refers to orders.
    """

    members: frozenset[int]
    default_owner: int
    customers: pl.Series
    orders: pl.Series | None = None


def store_key_columns(spec: KindSpec) -> tuple[str, ...]:
    """The key of ``spec`` as columns of the ``existing`` frame.

    External ids and usernames are matched through :data:`KEY`; keys made of references
    (an order line's order, a campaign member's campaign and customer) through the store's
    id columns, and ``line_no`` as it is.
    """
    columns: list[str] = []
    for name in spec.key:
        spec_field = spec.field(name)
        if name in {"external_id", "username"}:
            columns.append(KEY)
        else:
            columns.append(spec_field.column)
    return tuple(columns)


def reconcile(
    batch: ValidatedBatch,
    lookups: dict[str, pl.DataFrame],
    existing: pl.DataFrame,
    allocate: Callable[[int], Sequence[int]],
    existing_emails: pl.DataFrame | None = None,
    team: TeamScope | None = None,
) -> WritePlan:
    """Plan the writes of ``batch``.

    Parameters
    ----------
    lookups
        For each referenced kind (``customers``, ``users`` …): a frame ``key`` (external
        id or username) -> ``id`` of the records in the store.
    existing
        The store's records the batch may match: its key columns (``key`` for external ids
        and usernames, else the store's reference columns), ``id`` and the provided columns.
    allocate
        Returns ``n`` fresh ids for new records.
    existing_emails
        For customers: ``email`` (lower case) and ``key`` of the customers in the store.
    team
        A manager's team: rows touching customers outside it are rejected, new customers
        are owned within it (see :class:`TeamScope`). For customers, ``existing`` then
        holds ``owner_id``. ``None`` for an administrator's import.
    """
    spec = batch.spec
    frame = batch.frame
    issues: list[pl.DataFrame] = []
    self_refs = [f for f in spec.references if f.ref == spec.table and f.name in batch.provided]
    for ref in spec.references:
        if ref.name in batch.provided and ref not in self_refs:
            frame, found = _resolve(frame, ref, lookups[ref.ref or ""], batch.labels[ref.name])
            issues.append(found)
            if team is not None:
                issues.append(_outside_team(frame, ref, team, batch.labels[ref.name]))
    frame = frame.filter(~pl.col(ROW).is_in(_rows(issues).implode()))
    key_columns = store_key_columns(spec)
    if KEY in key_columns:
        frame = frame.with_columns(pl.col(spec.key[0]).alias(KEY))
    matched = frame.join(
        existing.select([*key_columns, pl.col("id").alias("__id")]),
        on=list(key_columns),
        how="left",
        nulls_equal=False,
    )
    new = matched.get_column("__id").is_null()
    fresh = pl.Series("__fresh", allocate(int(new.sum())), dtype=pl.Int64)
    # The k-th new row (in file order) takes the k-th fresh id.
    position = (new.cast(pl.Int64).cum_sum() - 1).clip(lower_bound=0)
    fresh_ids = (
        fresh.gather(position) if fresh.len() else pl.Series([None] * new.len(), dtype=pl.Int64)
    )
    ids = matched.get_column("__id").cast(pl.Int64).zip_with(~new, fresh_ids).alias("id")
    matched = matched.with_columns(ids, new.alias("__new"))
    if team is not None:
        issues.append(_updates_outside_team(matched, spec, existing, team, batch.labels))
    matched = matched.filter(~pl.col(ROW).is_in(_rows(issues).implode()))
    while self_refs:
        # A row may only point at a row of the file that is itself accepted: repeat until
        # rejecting rows rejects no further row that referred to them.
        stored = lookups[spec.table].select(KEY, pl.col("id").cast(pl.Int64))
        known = pl.concat([stored, matched.select(KEY, "id")]).unique(subset=[KEY], keep="last")
        found_now: list[pl.DataFrame] = []
        for ref in self_refs:
            matched, found = _resolve(matched, ref, known, batch.labels[ref.name])
            found_now.append(found)
            if team is not None:
                in_file = matched.get_column("id")
                scope = replace(team, customers=pl.concat([team.customers, in_file]))
                found_now.append(_outside_team(matched, ref, scope, batch.labels[ref.name]))
        if not any(f.height for f in found_now):
            break
        issues.extend(found_now)
        matched = matched.filter(~pl.col(ROW).is_in(_rows(found_now).implode()))
    errors = pl.concat([batch.errors, *issues]) if issues else batch.errors
    provided = batch.provided
    if team is not None and spec.table == "customers":
        matched = _team_owners(matched, existing, team)
        provided = (*provided, "owner") if "owner" not in provided else provided
    columns = _store_columns(spec, provided)
    store = matched.select(
        pl.col("id"),
        pl.col("__new"),
        *(pl.col(name).alias(column) for name, column in columns.items()),
    )
    inserts = store.filter(pl.col("__new")).drop("__new")
    old = store.filter(~pl.col("__new")).drop("__new")
    changed = _changed(old, existing, list(columns.values()))
    updates = old.filter(changed)
    external_ids = None
    if spec.table == "customers":
        external_ids = matched.filter(pl.col("__new")).select(
            pl.col("id").alias("customer_id"), pl.col(KEY).alias("external_id")
        )
    warnings = batch.warnings
    if existing_emails is not None and "email" in matched.columns:
        warnings = pl.concat([warnings, _email_matches(matched, existing_emails, batch.labels)])
    return WritePlan(
        inserts=inserts,
        updates=updates,
        unchanged=old.height - updates.height,
        errors=errors,
        warnings=warnings,
        external_ids=external_ids,
    )


def _outside_team(frame: pl.DataFrame, ref: FieldSpec, team: TeamScope, label: str) -> pl.DataFrame:
    """Rows whose resolved reference ``ref`` leaves the team: a customer it does not own,
    or (for a customer's owner) a user outside it."""
    if ref.ref == "customers":
        allowed, code = team.customers.cast(pl.Int64), "customer_outside_team"
    elif ref.ref == "orders" and team.orders is not None:
        allowed, code = team.orders.cast(pl.Int64), "customer_outside_team"
    elif ref.ref == "users" and ref.name == "owner":
        allowed = pl.Series(sorted(team.members), dtype=pl.Int64)
        code = "owner_outside_team"
    else:
        return issues_frame()
    outside = frame.filter(
        pl.col(ref.column).is_not_null() & ~pl.col(ref.column).is_in(allowed.implode())
    )
    return outside.select(
        pl.col(ROW).alias("row"),
        pl.lit(label).alias("column"),
        pl.col(ref.name).alias("value"),
        pl.lit(code).alias("code"),
        pl.lit(figures_json()).alias("figures"),
    )


def _updates_outside_team(
    matched: pl.DataFrame,
    spec: KindSpec,
    existing: pl.DataFrame,
    team: TeamScope,
    labels: dict[str, str],
) -> pl.DataFrame:
    """Rows that would update a record of a customer outside the team: the customer itself,
    or an order or event of theirs (whatever customer the file now names)."""
    if spec.table == "customers":
        customer = pl.col("__id")
        old = matched
    elif "customer_id" in existing.columns:
        previous = existing.select(
            pl.col("id").cast(pl.Int64).alias("__id"),
            pl.col("customer_id").cast(pl.Int64).alias("__old_customer"),
        )
        old = matched.join(previous, on="__id", how="left")
        customer = pl.col("__old_customer")
    else:
        return issues_frame()
    key = spec.key[0]
    outside = old.filter(
        ~pl.col("__new")
        & customer.is_not_null()
        & ~customer.is_in(team.customers.cast(pl.Int64).implode())
    )
    return outside.select(
        pl.col(ROW).alias("row"),
        pl.lit(labels.get(key, key)).alias("column"),
        pl.col(key).cast(pl.String).alias("value"),
        pl.lit("customer_outside_team").alias("code"),
        pl.lit(figures_json()).alias("figures"),
    )


def _team_owners(matched: pl.DataFrame, existing: pl.DataFrame, team: TeamScope) -> pl.DataFrame:
    """Every customer of a manager's import gets an owner in the team: the one the row
    names, else the one it has, else the manager."""
    previous = existing.select(
        pl.col("id").cast(pl.Int64).alias("__id"),
        pl.col("owner_id").cast(pl.Int64).alias("__old_owner"),
    )
    named = pl.col("owner_id") if "owner_id" in matched.columns else pl.lit(None, pl.Int64)
    return (
        matched.join(previous, on="__id", how="left")
        .with_columns(
            pl.coalesce(named, pl.col("__old_owner"), pl.lit(team.default_owner, pl.Int64)).alias(
                "owner_id"
            )
        )
        .drop("__old_owner")
    )


def _rows(issues: list[pl.DataFrame]) -> pl.Series:
    if not issues:
        return pl.Series("row", [], dtype=pl.Int64)
    return pl.concat([i.get_column("row") for i in issues])


def _resolve(
    frame: pl.DataFrame, ref: FieldSpec, lookup: pl.DataFrame, label: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    table = lookup.select(
        pl.col(KEY).alias(ref.name), pl.col("id").cast(pl.Int64).alias(ref.column)
    )
    if ref.column in frame.columns:
        frame = frame.drop(ref.column)
    joined = frame.join(table, on=ref.name, how="left")
    unknown = joined.filter(pl.col(ref.name).is_not_null() & pl.col(ref.column).is_null())
    found = unknown.select(
        pl.col(ROW).alias("row"),
        pl.lit(label).alias("column"),
        pl.col(ref.name).alias("value"),
        pl.lit("reference_unknown").alias("code"),
        pl.lit(figures_json(kind=ref.ref or "")).alias("figures"),
    )
    return joined, found


def _store_columns(spec: KindSpec, provided: tuple[str, ...]) -> dict[str, str]:
    """Frame column -> store column for the provided fields.

    After resolution a reference's id sits in a frame column named like its store column;
    the external id of a customer goes to ``customer_external_ids``, not ``customers``.
    """
    columns: dict[str, str] = {}
    for name in provided:
        spec_field = spec.field(name)
        if spec.table == "customers" and name == "external_id":
            continue
        if spec_field.type is FieldType.REF:
            columns[spec_field.column] = spec_field.column
        else:
            columns[name] = spec_field.column
    return columns


def _changed(new: pl.DataFrame, existing: pl.DataFrame, columns: list[str]) -> pl.Series:
    if new.height == 0:
        return pl.Series([], dtype=pl.Boolean)
    compare = [c for c in columns if c in existing.columns and c != "id"]
    old = existing.select(["id", *compare]).rename({c: f"__old_{c}" for c in compare})
    joined = new.select(["id", *compare]).join(old, on="id", how="left", maintain_order="left")
    if not compare:
        return pl.Series([False] * new.height)
    differs = pl.any_horizontal(
        [~pl.col(c).eq_missing(pl.col(f"__old_{c}").cast(new.schema[c])) for c in compare]
    )
    return joined.select(differs.alias("changed")).to_series()


def _email_matches(
    matched: pl.DataFrame, existing: pl.DataFrame, labels: dict[str, str]
) -> pl.DataFrame:
    rows = matched.filter(pl.col("email").is_not_null()).with_columns(
        pl.col("email").str.to_lowercase().alias("__email")
    )
    others = existing.select(pl.col("email").alias("__email"), pl.col(KEY).alias("__other"))
    hits = rows.join(others, on="__email", how="inner").filter(pl.col(KEY) != pl.col("__other"))
    hits = hits.unique(subset=[ROW], keep="first", maintain_order=True)
    return hits.select(
        pl.col(ROW).alias("row"),
        pl.lit(labels.get("email", "email")).alias("column"),
        pl.col("email").alias("value"),
        pl.lit("email_duplicate_in_store").alias("code"),
        figures_expr(external_id=pl.col("__other")),
    )
