"""Applying the PostgreSQL migrations (``store/migrations/postgres``) under an advisory lock.

Each pending migration runs in its own transaction together with its ``schema_migrations`` row; a
session advisory lock keeps two processes (sidecars starting together, ``angzarr db migrate``) from
applying the same migration twice.
"""

from __future__ import annotations

import asyncpg

from angzarr_coordinator.store.base import SchemaError
from angzarr_coordinator.store.migrations import AppliedMigration, load_migrations, pending_migrations
from angzarr_coordinator.store.postgres.locks import MIGRATIONS

_CREATE_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


async def applied_migrations(conn: asyncpg.Connection) -> list[AppliedMigration]:
    """The recorded migrations, by version ([] when the schema has never been migrated)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return []
    rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    return [AppliedMigration(r["version"], r["name"], r["checksum"]) for r in rows]


async def check(conn: asyncpg.Connection) -> list[int]:
    """The versions still to apply, without applying them.

    Raises ``SchemaError`` for a newer schema or a changed migration.
    """
    return [m.version for m in pending_migrations(load_migrations("postgres"), await applied_migrations(conn))]


async def migrate(conn: asyncpg.Connection) -> list[int]:
    """Apply pending migrations, each in its own transaction; return the versions applied.

    Raises ``SchemaError`` for a newer schema, a changed migration or a failing migration script
    (nothing of a failing script is applied).
    """
    await conn.execute("SELECT pg_advisory_lock($1, $2)", *MIGRATIONS)
    try:
        await conn.execute(_CREATE_SCHEMA_MIGRATIONS)
        # Checked under the lock: another process may have migrated while we waited for it.
        pending = pending_migrations(load_migrations("postgres"), await applied_migrations(conn))
        done: list[int] = []
        for migration in pending:
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        migration.version, migration.name, migration.checksum,
                    )
            except asyncpg.PostgresError as exc:
                raise SchemaError(
                    f"migration {migration.version:04d}_{migration.name} failed: {exc}; nothing of it was applied"
                ) from exc
            done.append(migration.version)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", *MIGRATIONS)
