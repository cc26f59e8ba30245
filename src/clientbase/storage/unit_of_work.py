"""The unit of work: one session, one transaction, committed only by the service that owns it.

Repositories receive the session and never commit; a service does::

    with UnitOfWork(engine) as uow:
        ...  # load, compute, persist through repositories using uow.session
        uow.commit()

Leaving the block without ``commit()`` (or through an exception) rolls everything back.

A unit of work that will write says so: ``UnitOfWork(engine, write=True)``. On SQLite its
transaction then starts with ``BEGIN IMMEDIATE``, taking (or waiting for) the write lock
before the first read, so it cannot fail half-way with "database is locked" when another
connection wrote meanwhile. Other units of work keep a deferred ``BEGIN`` and never wait.

A unit of work that only reads may say so too: ``UnitOfWork(engine, read_only=True)`` reads
through :func:`~clientbase.storage.database.reader`. On PostgreSQL that skips ``BEGIN`` and
``ROLLBACK`` (each statement reads its own snapshot, as at READ COMMITTED anyway); on SQLite
it is the same deferred transaction, one snapshot for the whole unit. On both, its session
refuses to flush changes or execute an INSERT, UPDATE or DELETE (:class:`RuntimeError`).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from clientbase.storage.database import WRITES, kept_on, reader

__all__ = ["UnitOfWork"]

_DEFAULT, _WRITE, _READ_ONLY = 0, 1, 2


def _factory(engine: Engine, mode: int) -> sessionmaker[Session]:
    # One session factory per engine and mode, made once: ``sessionmaker`` builds a new
    # Session subclass (and copies every event listener onto it) each time it is called,
    # which cost more than a small read's queries when it was called per unit of work.
    return kept_on(engine, "clientbase_session_factories", lambda: _factories(engine))[mode]


def _factories(engine: Engine) -> tuple[sessionmaker[Session], ...]:
    binds = (engine, engine.execution_options(**{WRITES: True}), reader(engine))
    factories = tuple(
        sessionmaker(bind=bind, expire_on_commit=False, autoflush=True) for bind in binds
    )
    # Session events, not engine events: a listener on the reading engine would slow down
    # the dispatch of every statement of every read.
    event.listen(factories[_READ_ONLY], "before_flush", _refuse_flush)
    event.listen(factories[_READ_ONLY], "do_orm_execute", _refuse_statement)
    return factories


_REFUSED = "a read-only unit of work cannot write: open it with UnitOfWork(engine, write=True)"


def _refuse_flush(session: Session, *_args: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError(_REFUSED)


def _refuse_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise RuntimeError(_REFUSED)


class UnitOfWork:
    def __init__(self, engine: Engine, *, write: bool = False, read_only: bool = False) -> None:
        if write and read_only:
            raise ValueError("a unit of work either writes or is read-only, not both")
        self._factory = _factory(engine, _WRITE if write else _READ_ONLY if read_only else _DEFAULT)
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._session

    def __enter__(self) -> Self:
        self._session = self._factory()
        self._session.begin()
        return self

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if session.in_transaction():
                session.rollback()
        finally:
            session.close()
            self._session = None
