"""The audit log: entries written inside the caller's unit of work, chained by hashes.

Each entry stores ``prev_hash`` (the previous entry's ``hash``; 64 zeros for the first) and
``hash`` = SHA-256 of ``prev_hash`` followed by the entry's canonical JSON (id, time, actor,
action, entity, detail; sorted keys). Editing, deleting or inserting a row breaks the chain
at that row, which :func:`verify` reports.

Concurrent writers: the entry is inserted first and its predecessor read afterwards, inside
the same transaction. On SQLite the insert takes the database's single write lock, so no
other entry can be committed between the read and the commit; on PostgreSQL a
transaction-level advisory lock is taken before the insert, which orders writers the same way.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from clientbase.security.actor import Actor
from clientbase.storage.orm import AuditEntry
from clientbase.storage.orm.base import utcnow
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = ["GENESIS", "ChainCheck", "entry_hash", "record", "record_read", "verify"]

#: ``prev_hash`` of the first entry.
GENESIS = "0" * 64
#: Key of PostgreSQL's advisory lock that orders audit writers ("cb-audit").
_LOCK_KEY = 0x63622D6175646974


def _canonical(entry: AuditEntry) -> bytes:
    body = {
        "id": entry.id,
        "at": entry.at.replace(tzinfo=None).isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "detail": entry.detail,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    """SHA-256 (hex) of the previous hash and the entry's canonical JSON."""
    return hashlib.sha256(prev_hash.encode("ascii") + _canonical(entry)).hexdigest()


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
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.user_id,
        actor=actor.username,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        detail=detail,
    )
    session.add(entry)
    session.flush()  # takes SQLite's write lock; gives the entry its id
    prev = session.scalar(
        select(AuditEntry.hash)
        .where(AuditEntry.id < entry.id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    entry.prev_hash = prev or GENESIS
    entry.hash = entry_hash(entry.prev_hash, entry)
    session.flush()


@dataclass(slots=True)
class _Pending:
    """One read-audit entry waiting for its group commit."""

    actor: Actor
    action: str
    entity: str | None
    entity_id: str | int | None
    detail: dict[str, Any] | None
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    finished: bool = False
    error: BaseException | None = None


class _GroupCommit:
    """Read-audit entries of one engine, written in order, many to a transaction.

    One reader at a time is the writer: it takes every entry waiting (its own included),
    records them in arrival order in one write transaction, commits, wakes their readers,
    and hands the writing on to the first entry that arrived meanwhile. The others wait for
    the commit of the batch holding their entry, so an entry is committed before its reader
    returns the data (nothing is held in memory to be lost), while the write lock is taken
    once per batch instead of once per read, and no reader writes more than one batch.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._writing = False

    def submit(self, item: _Pending) -> None:
        with self._lock:
            self._pending.append(item)
            if not self._writing:
                self._writing = item.lead = True
        if not item.lead:
            item.wake.wait()
        if not item.finished:  # woken (or started) as the writer: its entry is pending
            self._write_batch()
        if item.error is not None:
            raise item.error

    def _write_batch(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        try:
            with UnitOfWork(self._engine, write=True) as uow:
                for e in batch:
                    record(
                        uow.session,
                        e.actor,
                        e.action,
                        entity=e.entity,
                        entity_id=e.entity_id,
                        detail=e.detail,
                    )
                uow.commit()
        except BaseException as exc:
            for e in batch:
                e.error = exc
        finally:
            with self._lock:
                for e in batch:
                    e.finished = True
                following = self._pending[0] if self._pending else None
                if following is None:
                    self._writing = False
                else:
                    following.lead = True
            for e in batch:
                e.wake.set()
            if following is not None:
                following.wake.set()


_group_commits: weakref.WeakKeyDictionary[Engine, _GroupCommit] = weakref.WeakKeyDictionary()
_group_commits_lock = threading.Lock()


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
    with _group_commits_lock:
        group = _group_commits.get(engine)
        if group is None:
            group = _group_commits[engine] = _GroupCommit(engine)
    group.submit(_Pending(actor, action, entity, entity_id, detail))


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
