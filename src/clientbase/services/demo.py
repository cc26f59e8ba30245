"""Use case: build the demo business into a store (``clientbase demo``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from clientbase.config import Settings
from clientbase.demo.business import DemoStats, generate
from clientbase.demo.plan import AS_OF
from clientbase.errors import Conflict, InvalidInput
from clientbase.services.database import connect
from clientbase.storage.database import redact
from clientbase.storage.demo_writer import (
    bulk_load_session,
    drop_indexes,
    empty_store,
    finish_load,
    has_data,
    reset_sequences,
    write_frame,
)
from clientbase.storage.schema import upgrade

__all__ = ["DemoResult", "build_demo"]

#: ``progress(table, rows written so far in total, customers done, customers)``.
Progress = Callable[[str, int, int, int], None]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What ``build_demo`` wrote: the target, the as-of date, the figures and the time."""

    url: str
    customers: int
    seed: int
    as_of: date
    stats: DemoStats
    seconds: float


def build_demo(
    settings: Settings,
    *,
    customers: int = 5_000,
    seed: int = 42,
    replace: bool = False,
    progress: Progress | None = None,
) -> DemoResult:
    """Generate the demo business and write it in one transaction (all or nothing).

    Raises
    ------
    InvalidInput
        ``customers`` is below 50.
    Conflict
        The store already holds data and ``replace`` is not set.
    """
    if customers < 50:
        raise InvalidInput(f"the demo needs at least 50 customers, got {customers}")
    started = time.perf_counter()
    engine = connect(settings, require_current=False)
    try:
        upgrade(engine)
        stats = DemoStats()
        with engine.connect() as conn, bulk_load_session(conn), conn.begin():
            if has_data(conn):
                if not replace:
                    raise Conflict(
                        f"the database {redact(settings.database_url)} already holds data",
                        hint="use --replace to empty it and build the demo anew",
                    )
                empty_store(conn)
            drop_indexes(conn)
            written = 0
            done = 0
            for table, frame in generate(customers, seed, stats):
                written += write_frame(conn, table, frame)
                stats.rows[table] += frame.height
                if table == "demo_truths":
                    done += frame.height
                if progress is not None:
                    progress(table, written, done, customers)
            finish_load(conn)
            reset_sequences(conn)
    finally:
        engine.dispose()
    return DemoResult(
        url=redact(settings.database_url),
        customers=customers,
        seed=seed,
        as_of=AS_OF,
        stats=stats,
        seconds=time.perf_counter() - started,
    )
