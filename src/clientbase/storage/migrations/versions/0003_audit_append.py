"""PostgreSQL: ``clientbase_audit_append``, which chains and stores audit entries in one call.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

The audit log's hash chain (``clientbase.services.audit``) needs, for each new entry, the
hash of the entry before it, so writers take turns. Done from Python that cost a transaction
of six round trips per batch (lock, insert, read, update, and BEGIN/COMMIT); this function
does the same work in one statement, which also commits on its own when called outside a
transaction. It takes the same transaction-level advisory lock as before, reads the last
hash, and for each entry draws its id, hashes ``prev_hash || body || id || '}'`` with
SHA-256 and inserts the row. ``body`` is the entry's canonical JSON without its final
``"id":N}`` (``id`` is the last of the sorted keys), made by Python, so the hash is exactly
the one :func:`clientbase.services.audit.entry_hash` computes when the chain is verified.
SQLite needs no function: its writers hold the database's single write lock.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The advisory-lock key is clientbase.services.audit._LOCK_KEY ("cb-audit" as an integer).
_CREATE = """
CREATE OR REPLACE FUNCTION clientbase_audit_append(entries json) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    entry json;
    previous text;
    new_id integer;
    digest text;
BEGIN
    PERFORM pg_advisory_xact_lock(7161336254077102452);
    SELECT hash INTO previous FROM audit_log ORDER BY id DESC LIMIT 1;
    previous := coalesce(nullif(previous, ''), repeat('0', 64));
    FOR entry IN SELECT value FROM json_array_elements(entries) LOOP
        new_id := nextval(pg_get_serial_sequence('audit_log', 'id'));
        digest := encode(
            sha256(convert_to(previous || (entry->>'body') || new_id::text || '}', 'UTF8')),
            'hex'
        );
        INSERT INTO audit_log (id, at, actor_id, actor, action, entity, entity_id, detail,
                               prev_hash, hash)
        VALUES (new_id, (entry->>'at')::timestamp, (entry->>'actor_id')::integer,
                entry->>'actor', entry->>'action', entry->>'entity', entry->>'entity_id',
                nullif((entry->'detail')::jsonb, 'null'::jsonb), previous, digest);
        previous := digest;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS clientbase_audit_append(json)")
