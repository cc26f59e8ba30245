"""Plain reads (storage.plain): the same values as SQLAlchemy reads, one snapshot on SQLite,
no transaction on PostgreSQL, SQLAlchemy's errors, and dead connections dropped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    Engine,
    String,
    TypeDecorator,
    bindparam,
    column,
    func,
    literal,
    select,
    table,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError

from clientbase.security.actor import Actor
from clientbase.security.credentials import token_digest
from clientbase.security.rbac import Scope
from clientbase.services import access, audit, customers, sign_in
from clientbase.services.customers import CustomerFilter
from clientbase.storage import database
from clientbase.storage.database import open_engine
from clientbase.storage.orm import AuditEntry, Customer
from clientbase.storage.plain import PlainQuery, plain_autocommit, plain_reader
from clientbase.storage.unit_of_work import UnitOfWork
from tests.integration.api.conftest import build_world, score_world


def _sqlalchemy_rows(engine: Engine, query: PlainQuery, params: dict[str, Any]) -> list[tuple]:
    statement = query._statement  # what the plain query was made from
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(statement, params)]


def _plain_rows(engine: Engine, query: PlainQuery, params: dict[str, Any]) -> list[tuple]:
    with plain_reader(engine) as conn:
        return query.rows(conn, **params)


def test_plain_rows_are_the_rows_sqlalchemy_reads(engine: Engine) -> None:
    """Every plain query of the busy paths, on a store with every kind of value they read:
    date-times, dates, JSON documents, floats, NULLs, text with accents."""
    world = build_world(engine)
    ids: dict[str, int] = world["customers"]  # type: ignore[assignment]
    tokens: dict[str, str] = world["tokens"]  # type: ignore[assignment]
    users: dict[str, int] = world["users"]  # type: ignore[assignment]
    run_id = score_world(engine, ids)[-1]
    with UnitOfWork(engine, write=True) as uow:
        uow.session.execute(
            update(Customer)
            .where(Customer.id == ids["manager"])
            .values(
                name="Kovács Éva",
                interests=["kert", {"nested": [1, 2.5, None]}],
                acquired_at=datetime(2024, 5, 6, 7, 8, 9, 123456),
            )
        )
        uow.commit()
    team = Scope(
        owner_ids=frozenset({users["manager"], users["representative"]}), pseudonymise=False
    )
    everyone = Scope(owner_ids=None, pseudonymise=True)
    now = datetime.now(UTC).replace(tzinfo=None)
    cases: list[tuple[PlainQuery, dict[str, Any]]] = [
        (customers._READ_STATE_PLAIN, {}),
        (customers._TIMELINE_PLAIN, {"customer_id": ids["manager"], "limit": 200}),
        (access._TEAM_PLAIN, {"manager_id": users["manager"]}),
        (sign_in._BY_TOKEN, {"digest": token_digest(tokens["manager"]), "now": now}),
        (sign_in._BY_TOKEN, {"digest": token_digest(tokens["analyst"]), "now": now}),
        (sign_in._BY_SESSION, {"digest": "no such session", "now": now}),
    ]
    cases += [(customers._DETAIL_PLAIN, {"customer_id": i}) for i in ids.values()]
    for scope in (team, everyone):
        page = customers._page_query(scope, CustomerFilter(), run_id, False, False, 50)
        cases.append((page, {"run_id": run_id}))
        paged = customers._page_query(scope, CustomerFilter(q="Budapest"), run_id, True, True, 2)
        cases.append((paged, {"run_id": run_id, "after": ids["admin"]}))
    for query, params in cases:
        expected = _sqlalchemy_rows(engine, query, params)
        assert _plain_rows(engine, query, params) == expected, query.names
    # The cases read something: the JSON document, the date-time and the accents came back.
    detail = dict(
        zip(
            customers._DETAIL_PLAIN.names,
            _plain_rows(engine, customers._DETAIL_PLAIN, {"customer_id": ids["manager"]})[0],
            strict=True,
        )
    )
    assert detail["interests"] == ["kert", {"nested": [1, 2.5, None]}]
    assert detail["acquired_at"] == datetime(2024, 5, 6, 7, 8, 9, 123456)
    assert detail["name"] == "Kovács Éva"
    assert isinstance(detail["p_alive"], float)
    manager = _plain_rows(engine, sign_in._BY_TOKEN, cases[3][1])
    assert [(row[1], row[5]) for row in manager] == [("manager", users["representative"])]


class _Shouted(TypeDecorator[str]):
    """Text bound in capitals: a type whose bind processing shows in the result."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return value.upper() if value is not None else None


def test_parameters_are_bound_through_their_type(engine: Engine) -> None:
    shouted = PlainQuery(
        select(literal(1)).where(bindparam("word", type_=_Shouted()) == literal("KERT")), word=""
    )
    fixed = PlainQuery(select(literal("kert", type_=_Shouted())))
    with plain_reader(engine) as conn:
        assert shouted.rows(conn, word="kert") == [(1,)]
        assert fixed.rows(conn) == [("KERT",)]


def test_plain_reads_on_sqlite_keep_one_snapshot(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    count = PlainQuery(select(func.count(Customer.id)))
    try:
        with plain_reader(engine) as conn:
            assert count.rows(conn) == [(0,)]
            with UnitOfWork(engine, write=True) as writer:
                writer.session.add(Customer(kind="person", name="Kovács Anna"))
                writer.commit()
            assert count.rows(conn) == [(0,)]
        with plain_reader(engine) as conn:
            assert count.rows(conn) == [(1,)]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_plain_reads_on_postgres_run_without_a_transaction(pg_engine: Engine) -> None:
    """Each statement is its own transaction; the connection goes back to the pool as it
    came (a unit of work on it keeps one transaction for all its statements)."""
    txid = PlainQuery(select(func.txid_current()))
    with plain_reader(pg_engine) as conn:
        first, second = (txid.rows(conn)[0][0] for _ in range(2))
    assert first != second
    with UnitOfWork(pg_engine, write=True) as uow:
        ids = [uow.session.scalar(text("SELECT txid_current()")) for _ in range(2)]
    assert ids[0] == ids[1]


def test_a_driver_error_is_sqlalchemys_and_hides_the_parameters(engine: Engine) -> None:
    missing = PlainQuery(
        select(column("x"))
        .select_from(table("no_such_table"))
        .where(column("x") == bindparam("v")),
        v="",
    )
    with pytest.raises(DBAPIError) as caught, plain_reader(engine) as conn:
        missing.rows(conn, v="secret-value-7")
    assert "no_such_table" in str(caught.value)
    assert "secret-value-7" not in str(caught.value)
    with plain_reader(engine) as conn:  # the connection is usable again
        assert PlainQuery(select(func.count(Customer.id))).rows(conn) == [(0,)]


@pytest.mark.postgres
def test_a_connection_closed_by_the_server_is_dropped_from_the_pool(
    pg_engine: Engine,
    terminate_backend: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Handed out unpinged (returned a moment ago) and dead: the read fails with the
    connection marked invalid, and the next read gets a new connection."""
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 3600.0)
    backend = PlainQuery(select(func.pg_backend_pid()))
    with plain_reader(pg_engine) as conn:
        pid = backend.rows(conn)[0][0]
    terminate_backend(pid)
    with pytest.raises(DBAPIError) as caught, plain_reader(pg_engine) as conn:
        backend.rows(conn)
    assert caught.value.connection_invalidated
    with plain_reader(pg_engine) as conn:
        assert backend.rows(conn)[0][0] != pid


def test_plain_autocommit_is_for_postgresql_only(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    try:
        with pytest.raises(ValueError, match="PostgreSQL"):
            plain_autocommit(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_plain_autocommit_write_commits_on_its_own(pg_engine: Engine, pg_url: str) -> None:
    """The audit log's store function through a plain connection: stored and chained, and
    seen at once by another connection, with no COMMIT sent."""
    entries = audit._postgres_entries([audit._row(Actor.local_operator(), "seen", None, 7, None)])
    with plain_autocommit(pg_engine) as conn:
        audit._APPEND.rows(conn, entries=entries)
    other = open_engine(pg_url)
    try:
        with other.connect() as conn:
            assert conn.execute(select(AuditEntry.action, AuditEntry.entity_id)).all() == [
                ("seen", "7")
            ]
    finally:
        other.dispose()
    assert audit.verify(pg_engine).intact
