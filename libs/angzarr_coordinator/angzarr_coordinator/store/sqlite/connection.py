"""Opening SQLite connections with the store's pragmas, and applying migrations."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from angzarr_coordinator.store.base import SchemaError, StoreUnavailable
from angzarr_coordinator.store.migrations import AppliedMigration, load_migrations, pending_migrations

SYNCHRONOUS_MODES = ("full", "normal")

_CREATE_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    checksum   TEXT    NOT NULL,
    applied_at TEXT    NOT NULL
)"""


def connect(path: Path, *, synchronous: str, query_only: bool) -> sqlite3.Connection:
    """Open a connection in autocommit mode (we issue BEGIN/COMMIT ourselves).

    Raises ``StoreUnavailable`` if the file cannot be opened or WAL mode cannot be enabled.
    ``check_same_thread`` is off because connections are closed by the thread that stops the store;
    each is only ever used by one thread at a time.
    """
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=256)
        conn.execute("PRAGMA busy_timeout=5000")
        if not query_only:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreUnavailable(f"cannot enable WAL journaling on {path} (got {mode!r})")
            # After a checkpoint the WAL file keeps its size; cap what a burst leaves on disk.
            conn.execute("PRAGMA journal_size_limit=67108864")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        if query_only:
            conn.execute("PRAGMA query_only=ON")
        return conn
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot open the event store {path}: {exc}") from exc


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply pending migrations, each in its own transaction; return the versions applied.

    Raises ``SchemaError`` for a newer schema, a changed migration or a failing migration script.
    """
    conn.execute(_CREATE_SCHEMA_MIGRATIONS)
    applied = [
        AppliedMigration(*row)
        for row in conn.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    ]
    done: list[int] = []
    for migration in pending_migrations(load_migrations("sqlite"), applied):
        stamp = datetime.now(UTC).isoformat()
        # executescript cannot bind parameters; every value below is an int, a [a-z0-9_] name, a hex
        # digest or an ISO time, so literal quoting is safe.
        script = (
            "BEGIN IMMEDIATE;\n"
            f"{migration.sql}\n;\n"
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES "
            f"({migration.version}, '{migration.name}', '{migration.checksum}', '{stamp}');\n"
            "COMMIT;"
        )
        try:
            conn.executescript(script)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise SchemaError(
                f"migration {migration.version:04d}_{migration.name} failed: {exc}; nothing of it was applied"
            ) from exc
        done.append(migration.version)
    return done
