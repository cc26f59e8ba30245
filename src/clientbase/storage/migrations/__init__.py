"""Alembic migrations of the store; run through :mod:`clientbase.storage.schema`."""
