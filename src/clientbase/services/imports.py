"""The import use case: read, validate, reconcile with the store, write all or nothing, audit.

One unit of work covers the whole import: the records, the customers' external ids, the
``import_batches`` row and the audit entry are committed together, or — when any row is
rejected, the process dies or the database fails — none of them is. A ``kill -9`` in the
middle leaves the store exactly as it was, because nothing is committed before the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from clientbase.domain.vocabulary import Role
from clientbase.errors import ImportRejected, StorageError
from clientbase.ingest.kinds import FieldType, KindSpec, kind_spec
from clientbase.ingest.mapping import Mapping, load_mapping
from clientbase.ingest.readers import read_table
from clientbase.ingest.reconcile import TeamScope, WritePlan, reconcile, store_key_columns
from clientbase.ingest.report import ImportReport
from clientbase.ingest.validate import ValidatedBatch, validate
from clientbase.security.actor import Actor
from clientbase.security.rbac import require_import
from clientbase.services import audit
from clientbase.services.access import customer_clause, load_scope, visible_customer_ids
from clientbase.storage.bulk import (
    allocate_ids,
    check_references,
    insert_frame,
    references_enforced,
    table_of,
    unchecked_engine,
    update_frame,
)
from clientbase.storage.database import ANALYZE_AFTER_ROWS, refresh_statistics
from clientbase.storage.imports import customer_emails, existing_rows, key_map
from clientbase.storage.orm import Customer, ImportBatch, Order
from clientbase.storage.orm.base import utcnow
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = ["Progress", "import_file"]

#: ``progress(stage, done, total)``, called from the work itself as it advances:
#:
#: ``read``   ``(0, 0)`` when reading starts, ``(rows, rows)`` once the file is read;
#: ``check``  ``(fields checked, fields)``: each field is checked on every row at once;
#: ``match``  ``(0, rows)`` when the rows are matched with the store, ``(rows, rows)`` after;
#: ``write``  ``(rows written, rows to write)``, in chunks as they are sent to the database.
Progress = Callable[[str, int, int], None]


def import_file(
    engine: Engine,
    actor: Actor,
    kind: str,
    path: Path,
    *,
    mapping_path: Path | None = None,
    partial: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``path`` as ``kind`` into the store, all or nothing (or, with ``partial``, the
    valid rows only, the rejected ones being reported).

    Returns
    -------
    ImportReport
        The counts (``rows == imported + updated + unchanged + rejected``) and warnings
        (possible duplicate customers), with ``committed`` true.

    Raises
    ------
    PermissionDenied
        The actor may not import ``kind``: administrators import anything; a manager
        imports customers, orders and events of their team only, row by row (a row that
        would touch a customer owned outside the team, or give a customer an owner outside
        it, is rejected, and then nothing is written); other roles nothing.
    InvalidInput
        The file cannot be read or is empty; the kind is unknown.
    MappingError
        The mapping is wrong or a required field has no column.
    ImportRejected
        Some rows were rejected (and ``partial`` is false); nothing was written. ``report``
        lists every rejection.
    StorageError
        The database failed; nothing was written.
    """
    spec = kind_spec(kind)
    require_import(actor, spec.name)
    step = progress or _silent
    mapping = load_mapping(mapping_path)
    step("read", 0, 0)
    raw = read_table(path, mapping.file)
    step("read", raw.rows, raw.rows)
    batch = validate(raw, spec, mapping, lambda done, total: step("check", done, total))
    step("match", 0, raw.rows)
    report = ImportReport(file=path.name, kind=spec.name, source=mapping.source, rows=raw.rows)
    report.details = {"format": raw.format}
    if raw.encoding:
        report.details["encoding"] = raw.encoding
    if raw.delimiter:
        report.details["delimiter"] = raw.delimiter
    try:
        with unchecked_engine(engine, raw.rows) as target, UnitOfWork(target, write=True) as uow:
            session = uow.session
            conn = session.connection()
            enforced = references_enforced(conn)
            lookups = {
                ref.ref: key_map(conn, ref.ref, mapping.source_of(ref.ref))
                for ref in spec.references
                if ref.ref and ref.name in batch.provided
            }
            if spec.table in {f.ref for f in spec.references} and spec.table not in lookups:
                lookups[spec.table] = key_map(conn, spec.table, mapping.source)
            team = _team(session, actor, refers_to_orders="orders" in lookups)
            existing = _existing(conn, spec, batch, lookups, mapping, team)
            emails = None
            if spec.table == "customers" and "email" in batch.provided:
                emails = customer_emails(conn, mapping.source)
            record = ImportBatch(
                kind=spec.name,
                file_name=path.name[:400],
                file_sha256=_sha256(path),
                source=mapping.source,
                user_id=actor.user_id,
            )
            session.add(record)
            session.flush()  # the first write: from here on this transaction holds the lock
            plan = reconcile(
                batch,
                lookups,
                existing,
                lambda n: allocate_ids(conn, spec.table, n),
                emails,
                team=team,
            )
            step("match", raw.rows, raw.rows)
            report.add_errors(plan.errors)
            report.add_warnings(plan.warnings)
            report.imported = plan.inserts.height
            report.updated = plan.updates.height
            report.unchanged = plan.unchanged
            if report.rejected and not partial:
                raise ImportRejected(
                    f"{report.rejected} of {report.rows} rows of {path.name} were rejected; "
                    "nothing was imported",
                    report=report,
                    hint="fix the rows listed (--report FILE writes them all) and import again",
                )
            _write(conn, spec, mapping, plan, step)
            record.finished_at = utcnow()
            record.counts = report.counts.as_dict()
            session.flush()
            audit.record(
                session,
                actor,
                "import",
                entity="import_batch",
                entity_id=record.id,
                detail={
                    "kind": spec.name,
                    "file": path.name,
                    "source": mapping.source,
                    "scope": "all" if team is None else "team",
                    **report.counts.as_dict(),
                },
            )
            session.flush()
            if not enforced:
                _check_written(conn, spec, plan, actor)
            uow.commit()
    except DBAPIError as exc:
        raise StorageError(
            f"the database failed while importing {path.name} "
            f"({type(exc.orig).__name__}); nothing was imported",
            hint="another process may have written the same records at the same time",
        ) from exc
    report.committed = True
    return report


def _silent(_stage: str, _done: int, _total: int) -> None:
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _team(session: Session, actor: Actor, *, refers_to_orders: bool) -> TeamScope | None:
    """A manager's team, the customers it owns and (when the file refers to orders) their
    orders; ``None`` for an administrator."""
    if actor.role != Role.MANAGER:
        return None
    assert actor.user_id is not None  # require_import refuses a manager without an account
    scope = load_scope(session, actor)
    members = scope.owner_ids or frozenset({actor.user_id})
    customers = visible_customer_ids(session, scope) or []
    orders = None
    if refers_to_orders:
        owned = select(Order.id).join(Customer, Customer.id == Order.customer_id)
        ids = session.scalars(owned.where(customer_clause(scope))).all()
        orders = pl.Series("id", ids, dtype=pl.Int64)
    return TeamScope(
        members=members,
        default_owner=actor.user_id,
        customers=pl.Series("id", customers, dtype=pl.Int64),
        orders=orders,
    )


def _existing(
    conn: Connection,
    spec: KindSpec,
    batch: ValidatedBatch,
    lookups: dict[str, pl.DataFrame],
    mapping: Mapping,
    team: TeamScope | None,
) -> pl.DataFrame:
    columns = [
        spec.field(n).column
        for n in batch.provided
        if not (spec.table == "customers" and n == "external_id")
    ]
    if team is not None and spec.table == "customers" and "owner_id" not in columns:
        columns.append("owner_id")  # a manager's rows keep a customer's owner
    columns += [c for c in store_key_columns(spec) if c != "key" and c not in columns]
    if spec.sourced or spec.table == "users":
        return existing_rows(conn, spec.table, columns, source=mapping.source)
    anchor = spec.field(spec.key[0])
    assert anchor.type is FieldType.REF and anchor.ref is not None
    wanted = batch.frame.select(pl.col(anchor.name).alias("key")).unique()
    ids = wanted.join(lookups[anchor.ref], on="key").get_column("id").to_list()
    return existing_rows(conn, spec.table, columns, within=(anchor.column, ids))


def _check_written(conn: Connection, spec: KindSpec, plan: WritePlan, actor: Actor) -> None:
    """Every reference this import wrote exists (when the connection does not check them)."""
    check_references(conn, spec.table, plan.inserts)
    check_references(conn, spec.table, plan.updates)
    if plan.external_ids is not None:
        check_references(conn, "customer_external_ids", plan.external_ids)
    user = pl.DataFrame({"user_id": [actor.user_id]}, schema={"user_id": pl.Int64})
    check_references(conn, "import_batches", user)
    check_references(conn, "audit_log", user.rename({"user_id": "actor_id"}))


def _write(
    conn: Connection, spec: KindSpec, mapping: Mapping, plan: WritePlan, step: Progress
) -> None:
    total = plan.inserts.height + plan.updates.height
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        step("write", done, total)

    step("write", 0, total)
    constants = {"source": mapping.source} if "source" in table_of(spec.table).c else None
    insert_frame(conn, spec.table, plan.inserts, constants=constants, progress=advance)
    if plan.external_ids is not None:
        insert_frame(
            conn,
            "customer_external_ids",
            plan.external_ids,
            constants={"source": mapping.source},
        )
    update_frame(conn, spec.table, plan.updates, progress=advance)
    if total >= ANALYZE_AFTER_ROWS:
        tables = [spec.table] + (["customer_external_ids"] if plan.external_ids is not None else [])
        refresh_statistics(conn, tables)
