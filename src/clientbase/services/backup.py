"""Backing up and restoring the store, with an audit entry for each."""

from __future__ import annotations

from pathlib import Path

from clientbase.config import Settings
from clientbase.security.actor import Actor
from clientbase.services.audit import record
from clientbase.services.database import connect
from clientbase.storage.backup import BackupStats, Progress, backup_store, restore_store
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = ["backup", "restore"]


def backup(
    settings: Settings, destination: Path, actor: Actor, progress: Progress | None = None
) -> BackupStats:
    """Write a consistent copy of the store to ``destination`` and audit it."""
    engine = connect(settings)
    try:
        stats = backup_store(engine, destination, progress)
        with UnitOfWork(engine, write=True) as uow:
            record(
                uow.session,
                actor,
                "backup",
                detail={"file": destination.name, "rows": sum(stats.values())},
            )
            uow.commit()
        return stats
    finally:
        engine.dispose()


def restore(
    settings: Settings, source: Path, actor: Actor, progress: Progress | None = None
) -> BackupStats:
    """Replace the store's content with the backup ``source`` and audit it."""
    engine = connect(settings, require_current=False)
    try:
        stats = restore_store(engine, source, progress)
        with UnitOfWork(engine, write=True) as uow:
            record(
                uow.session,
                actor,
                "restore",
                detail={"file": source.name, "rows": sum(stats.values())},
            )
            uow.commit()
        return stats
    finally:
        engine.dispose()
