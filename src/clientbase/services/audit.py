"""The audit log: entries written inside the caller's unit of work, chained by hashes.

Each entry stores ``prev_hash`` (the previous entry's ``hash``; 64 zeros for the first) and
``hash`` = SHA-256 of ``prev_hash`` followed by the entry's canonical JSON (id, time, actor,
action, entity, detail; sorted keys). Editing, deleting or inserting a row breaks the chain
at that row, which :func:`verify` reports.

Entries are written with a few statements per call, whether one entry or a batch.

On SQLite the rows are inserted (one statement, ids returned in order), the predecessor's
hash read once, the chain computed in id order and the hashes set by primary key (one
executemany UPDATE). The insert takes the database's single write lock, so no other entry can
be committed between the read and the commit.

On PostgreSQL one call of the store's function ``clientbase_audit_append`` (migration 0003)
does it: it takes a transaction-level advisory lock (which orders writers), reads the last
hash, and inserts each entry with its id and hash. Python sends each entry's canonical JSON
without the final ``"id":N}``, so the server hashes exactly the bytes :func:`entry_hash`
hashes. Outside a transaction (the read audit's batches) that is one round trip in all.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
import weakref
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Engine,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from clientbase.security.actor import Actor

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
from clientbase.storage.database import sqlite_path
from clientbase.storage.orm import AuditEntry
from clientbase.storage.orm.base import utcnow
from clientbase.storage.plain import (
    PlainConnection,
    PlainQuery,
    plain_autocommit,
    plain_connection,
)
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = [
    "GENESIS",
    "ChainCheck",
    "entry_hash",
    "record",
    "record_read",
    "record_read_async",
    "verify",
]

#: ``prev_hash`` of the first entry.
GENESIS = "0" * 64
#: Key of the PostgreSQL advisory lock that orders audit writers ("cb-audit"), taken by the
#: store function ``clientbase_audit_append`` (migration 0003 spells it out as a number).
_LOCK_KEY = 0x63622D6175646974


def _canonical(entry: AuditEntry) -> bytes:
    return _canonical_values(
        entry.id,
        entry.at,
        entry.actor_id,
        entry.actor,
        entry.action,
        entry.entity,
        entry.entity_id,
        entry.detail,
    )


def _canonical_values(
    id_: int,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    entity: str | None,
    entity_id: str | None,
    detail: Any,
) -> bytes:
    body = {
        "id": id_,
        "at": at.replace(tzinfo=None).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "detail": detail,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    """SHA-256 (hex) of the previous hash and the entry's canonical JSON."""
    return hashlib.sha256(prev_hash.encode("ascii") + _canonical(entry)).hexdigest()


def _canonical_row(id_: int, row: dict[str, Any]) -> bytes:
    """The canonical JSON of a row about to be stored (``row`` as made by :func:`_row`)."""
    return _canonical_values(
        id_,
        row["at"],
        row["actor_id"],
        row["actor"],
        row["action"],
        row["entity"],
        row["entity_id"],
        row["detail"],
    )


def _hash(prev_hash: str, id_: int, row: dict[str, Any]) -> str:
    """:func:`entry_hash` of a row about to be stored."""
    return hashlib.sha256(prev_hash.encode("ascii") + _canonical_row(id_, row)).hexdigest()


def _body_before_id(row: dict[str, Any]) -> str:
    """The canonical JSON of a row about to be stored, up to and including ``"id":``: ``id``
    sorts after every other key, so the full canonical JSON is this, the id, and ``}``."""
    body, tail = _canonical_row(0, row).decode("ascii").rsplit('"id":', 1)
    assert tail == "0}", "id must be the last key of the canonical JSON"
    return body + '"id":'


def _postgres_entries(rows: list[dict[str, Any]]) -> str:
    """``rows`` (from :func:`_row`) as the JSON array :data:`_APPEND` takes."""
    return json.dumps(
        [
            {
                **row,
                "at": row["at"].replace(tzinfo=None).isoformat(timespec="microseconds"),
                "body": _body_before_id(row),
            }
            for row in rows
        ],
        default=str,
    )


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    entity: str | None = None,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add a chained audit entry; it commits (or not) with the unit of work.

    ``detail`` must never hold personal data: counts, ids and file names only.
    """
    _write_entries(session, [_row(actor, action, entity, entity_id, detail)])


def _row(
    actor: Actor,
    action: str,
    entity: str | None,
    entity_id: str | int | None,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    """The column values of a new entry (its time taken now), hashes still to come."""
    return {
        "at": utcnow(),
        "actor_id": actor.user_id,
        "actor": actor.username,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "detail": detail,
    }


_TABLE = cast(Table, AuditEntry.__table__)
_INSERT_ONE = insert(_TABLE).returning(_TABLE.c.id)
_INSERT_MANY = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)
_PREVIOUS = (
    select(_TABLE.c.hash)
    .where(_TABLE.c.id < bindparam("first_id"))
    .order_by(_TABLE.c.id.desc())
    .limit(1)
)
_SET_HASHES = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("b_id"))
    .values(prev_hash=bindparam("b_prev"), hash=bindparam("b_hash"))
)
_APPEND = PlainQuery(
    select(func.clientbase_audit_append(sql_cast(bindparam("entries", type_=Text), JSON))),
    entries="[]",
)
_LAST = select(_TABLE.c.id, _TABLE.c.hash).order_by(_TABLE.c.id.desc()).limit(1)
_INSERT_CHAINED = insert(_TABLE)


def _append_locked(session: Session, rows: list[dict[str, Any]]) -> None:
    """:func:`_write_entries` for a SQLite transaction that began holding the write lock
    (``BEGIN IMMEDIATE``): no other entry can arrive before it commits, so the ids that
    follow the last entry are known before inserting, and the rows go in once, hashed.
    An id taken meanwhile anyway would make the insert fail, never break the chain."""
    conn = session.connection()
    last = conn.execute(_LAST).first()
    prev, next_id = (last.hash or GENESIS, last.id + 1) if last else (GENESIS, 1)
    chained = []
    for offset, row in enumerate(rows):
        entry_id = next_id + offset
        digest = _hash(prev, entry_id, row)
        chained.append({**row, "id": entry_id, "prev_hash": prev, "hash": digest})
        prev = digest
    conn.execute(_INSERT_CHAINED, chained)


def _write_entries(
    session: Session | PlainConnection, rows: list[dict[str, Any]], *, holds_lock: bool = False
) -> None:
    """Insert ``rows`` (from :func:`_row`) in this order as chained entries, in the session's
    transaction, with a few Core statements for the whole list.

    On SQLite the rows are inserted first with empty hashes (which gives them their ids and
    the write lock), then the previous entry's hash is read once, the chain computed here in
    id order and the hashes written by primary key. On PostgreSQL the store's function does
    all of it in one statement (see the module). What is hashed is exactly what is stored:
    the same ``at`` and ``detail`` values go to the insert and to :func:`entry_hash`.

    ``holds_lock``: the transaction began holding SQLite's write lock (the read-audit
    batches), so the rows are hashed before one insert (:func:`_append_locked`). A plain
    connection instead of a session is for PostgreSQL only (the read-audit batches, on
    :func:`~clientbase.storage.plain.plain_autocommit`): the call commits on its own.
    """
    if not rows:
        return
    if isinstance(session, Session):
        if holds_lock:  # a SQLite transaction begun with the write lock: see _append_locked
            _append_locked(session, rows)
            return
        session.flush()  # the caller's pending objects go first, as with an ORM flush
        if session.get_bind().dialect.name != "postgresql":
            _insert_then_chain(session, rows)
            return
        session = plain_connection(session.connection())  # in the session's transaction
    _APPEND.rows(session, entries=_postgres_entries(rows))


def _insert_then_chain(session: Session, rows: list[dict[str, Any]]) -> None:
    """SQLite: insert the rows (which takes the write lock and gives their ids), read the
    previous hash once, and set the chained hashes by primary key."""
    if len(rows) == 1:
        ids = [session.execute(_INSERT_ONE, rows[0]).scalar_one()]
    else:
        ids = list(session.scalars(_INSERT_MANY, rows))
    order = sorted(range(len(rows)), key=ids.__getitem__)
    prev = session.scalar(_PREVIOUS, {"first_id": ids[order[0]]}) or GENESIS
    hashes: list[dict[str, Any]] = []
    for i in order:
        digest = _hash(prev, ids[i], rows[i])
        hashes.append({"b_id": ids[i], "b_prev": prev, "b_hash": digest})
        prev = digest
    session.execute(_SET_HASHES, hashes)


@dataclass(slots=True)
class _Pending:
    """One read-audit entry waiting for its group commit, and who waits for it: a thread
    (``wake``) or a coroutine (``future`` on ``loop``)."""

    actor: Actor
    action: str
    entity: str | None
    entity_id: str | int | None
    detail: dict[str, Any] | None
    wake: threading.Event = field(default_factory=threading.Event)
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[None] | None = None
    error: BaseException | None = None

    def notify(self) -> None:
        if self.loop is None or self.future is None:
            self.wake.set()
            return
        with suppress(RuntimeError):  # a closed loop: nobody waits any more
            self.loop.call_soon_threadsafe(_settle, self.future, self.error)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # the request was cancelled meanwhile
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class _WriterTurns:
    """The batches of the server's processes on one SQLite file take turns on a lock file.

    SQLite makes a writer that finds the write lock taken sleep and try again (1, 2, 5, 10,
    ... ms, up to its busy timeout): two server processes auditing hundreds of reads a
    second kept colliding, and each collision cost the waiting request milliseconds. A
    blocking ``flock`` on ``<database>.audit-lock`` instead wakes the next process the
    moment the lock is released. Other writers (imports, sign-ins) do not take it and meet
    SQLite's own lock as before; the lock is released when a process ends, however it ends.
    Only on systems with ``fcntl`` (elsewhere SQLite's waiting alone).
    """

    def __init__(self, database: Path) -> None:
        self._path = database.with_name(database.name + ".audit-lock")
        self._fd: int | None = None

    def __enter__(self) -> None:
        if fcntl is None:
            return
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


#: How long the writer thread of a process waits for more entries before it ends.
_IDLE_SECONDS = 2.0


class _GroupCommit:
    """Read-audit entries of one engine, written in order, many to a transaction.

    A writer thread takes every entry waiting, records them in arrival order in one write
    transaction, commits and tells their readers, then takes what arrived meanwhile (it ends
    after :data:`_IDLE_SECONDS` without entries, and starts again with the next one). A
    reader waits for the commit of the batch holding its entry, so the entry is committed
    before the reader returns the data (nothing is held in memory to be lost), while the
    write lock is taken once per batch instead of once per read. Readers that wait as
    coroutines (:func:`record_read_async`) hold no thread meanwhile, so every read in flight
    can share a batch, not only as many as there are threads.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._changed = threading.Condition()
        self._pending: list[_Pending] = []
        self._writing = False
        path = sqlite_path(engine.url)
        self._turns = _WriterTurns(path) if path is not None else None
        # PostgreSQL: the batch is one call of the store's function, outside a transaction
        # (the call is its own), so one round trip instead of BEGIN, call and COMMIT, made
        # on the driver's connection (storage.plain: SQLAlchemy's execution cost more CPU
        # than the call).
        self._single_statement = engine.dialect.name == "postgresql"

    def submit(self, item: _Pending) -> None:
        """Queue ``item``; the writer thread notifies it once written (or failed)."""
        with self._changed:
            self._pending.append(item)
            if self._writing:
                self._changed.notify()
                return
            self._writing = True
        threading.Thread(target=self._drain, name="clientbase-audit", daemon=True).start()

    def _drain(self) -> None:
        while True:
            with self._changed:
                if not self._pending:
                    self._changed.wait(_IDLE_SECONDS)
                if not self._pending:
                    self._writing = False
                    return
                batch, self._pending = self._pending, []
            self._write_batch(batch)

    def _write_batch(self, batch: list[_Pending]) -> None:
        try:
            rows = [_row(e.actor, e.action, e.entity, e.entity_id, e.detail) for e in batch]
            if self._single_statement:
                with plain_autocommit(self._engine) as conn:
                    _write_entries(conn, rows)
                return
            with self._turns or nullcontext(), UnitOfWork(self._engine, write=True) as uow:
                _write_entries(uow.session, rows, holds_lock=self._turns is not None)
                uow.commit()
        except BaseException as exc:
            for e in batch:
                e.error = exc
        finally:
            for e in batch:
                e.notify()


_group_commits: weakref.WeakKeyDictionary[Engine, _GroupCommit] = weakref.WeakKeyDictionary()
_group_commits_lock = threading.Lock()


def _group(engine: Engine) -> _GroupCommit:
    with _group_commits_lock:
        group = _group_commits.get(engine)
        if group is None:
            group = _group_commits[engine] = _GroupCommit(engine)
        return group


def record_read(
    engine: Engine,
    actor: Actor,
    action: str,
    *,
    entity: str | None = None,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit a read in a short write transaction after the read finished; wait for it.

    The read itself runs in a deferred (lock-free) transaction; only this insert takes the
    write lock. Reads finishing at the same time in this process share one transaction
    (a group commit, in arrival order), so under load the write lock is taken once per
    batch rather than once per read. The caller returns the data only once its entry is
    committed; if the batch fails, every reader in it gets the error.
    """
    item = _Pending(actor, action, entity, entity_id, detail)
    _group(engine).submit(item)
    item.wake.wait()
    if item.error is not None:
        raise item.error


async def record_read_async(
    engine: Engine,
    actor: Actor,
    action: str,
    *,
    entity: str | None = None,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """:func:`record_read` for a coroutine: waits for the commit without holding a thread."""
    loop = asyncio.get_running_loop()
    item = _Pending(actor, action, entity, entity_id, detail, loop=loop)
    item.future = loop.create_future()
    _group(engine).submit(item)
    await item.future


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The outcome of :func:`verify`: entries checked and the first broken one, if any."""

    checked: int
    first_broken_id: int | None

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None


def verify(engine: Engine, batch: int = 5000) -> ChainCheck:
    """Recompute the chain from the first entry; report the first entry that does not fit."""
    prev = GENESIS
    checked = 0
    last_id = 0
    with Session(engine) as session:
        while True:
            rows = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.id > last_id)
                .order_by(AuditEntry.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            for entry in rows:
                if entry.prev_hash != prev or entry.hash != entry_hash(prev, entry):
                    return ChainCheck(checked, entry.id)
                prev = entry.hash
                checked += 1
                last_id = entry.id
            session.expunge_all()
    return ChainCheck(checked, None)
