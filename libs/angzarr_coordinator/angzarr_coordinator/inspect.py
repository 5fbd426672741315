"""Store access for the inspection commands (``angzarr domains``, ``show``, ``dlq``, ...).

The commands talk to an ``InspectionStore``; ``open_inspection`` picks its implementation from the
store location: ``Inspector`` here for a SQLite file, ``inspect_postgres.PostgresInspector`` for a
``postgres://`` / ``postgresql://`` URL (which goes through the ``EventStore`` interface).

On SQLite the CLI must work while ``angzarr standalone`` runs, and the running store holds the SQLite process
lock. So the inspector opens its own connection without that lock, like any second SQLite reader: WAL
mode lets it read while the standalone writes, and its few writes (dead-letter status, dropping
snapshots) take SQLite's own write lock for one short transaction. It reuses the store's query and
write functions, so it reads and writes exactly what the store does. ``db migrate`` is different: it
opens the real store (and its lock), since migrating under a running process is unsafe.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import (
    AggregateKey,
    DeadLetterRecord,
    DomainInfo,
    Loaded,
    RootInfo,
    StoreUnavailable,
)
from angzarr_coordinator.store.migrations import load_migrations

T = TypeVar("T")

# Key under which ``dlq replay --rebase`` asks the replaying coordinator to restamp the command.
REPLAY_REBASE_KEY = "angzarr.replay.rebase"


class StoreLocationError(Exception):
    """No store was named, or the named one cannot be used by the CLI."""


POSTGRES_SCHEMES = ("postgres", "postgresql")


def is_postgres_url(location: str) -> bool:
    """True for a ``postgres://`` or ``postgresql://`` URL."""
    return "://" in location and urlparse(location).scheme.lower() in POSTGRES_SCHEMES


def sqlite_path(location: str) -> Path:
    """The SQLite file a ``--db`` value names: a path or a ``sqlite:`` URL.

    Raises ``StoreLocationError`` for other URL schemes (PostgreSQL URLs go to ``open_inspection``).
    """
    if "://" not in location and not location.startswith("sqlite:"):
        return Path(location).expanduser()
    parsed = urlparse(location)
    if parsed.scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////abs/path.db, sqlite:/abs/path.db
        path = parsed.path
        if location.startswith("sqlite:///") and not location.startswith("sqlite:////"):
            path = path.lstrip("/")
        return Path(path).expanduser()
    raise StoreLocationError(
        f"unsupported event store URL scheme '{parsed.scheme}': use a SQLite path (or sqlite: URL), "
        "postgres:// or postgresql://"
    )


@dataclass(slots=True)
class SubscriberLag:
    """How far one subscriber is behind the log (``angzarr lag``)."""

    subscriber: str
    kind: str
    checkpoint: int
    watermark: int
    lag_events: int
    lag_seconds: float
    open_dead_letters: int
    last_error: str

    @property
    def state(self) -> str:
        return "caught up" if self.lag_events == 0 else "behind"


@dataclass(slots=True)
class MigrationStatus:
    version: int
    name: str
    applied_at: str | None  # None: pending


class InspectionStore(Protocol):
    """What the inspection commands need of a store; every method may raise ``StoreError``
    (``StoreUnavailable`` when the store cannot be reached or has no usable schema)."""

    def close(self) -> None: ...
    def __enter__(self) -> InspectionStore: ...
    def __exit__(self, *exc: object) -> None: ...
    def domains(self) -> list[DomainInfo]: ...
    def roots(self, domain: str) -> list[RootInfo]: ...
    def load(self, key: AggregateKey, from_sequence: int = 0, to_sequence: int | None = None) -> Loaded: ...
    def dead_letters(self, status: str | None = None) -> list[DeadLetterRecord]: ...
    def dead_letter(self, letter_id: int) -> DeadLetterRecord | None: ...
    def lag(self, subscribers: list[tuple[str, str, tuple[str, ...] | None]]) -> list[SubscriberLag]: ...
    def checkpointed_subscribers(self) -> list[str]: ...
    def migrations(self) -> list[MigrationStatus]: ...
    def request_replay(self, letter_id: int, *, rebase: bool) -> None: ...
    def discard(self, letter_id: int) -> None: ...
    def drop_snapshots(self, domain: str, root: uuid.UUID | None) -> int: ...


def open_inspection(location: str, *, migrate: bool = True) -> InspectionStore:
    """The inspection store at ``location``: a PostgreSQL URL (opened lazily, on first use, and
    migrated then unless ``migrate`` is false) or a SQLite path / ``sqlite:`` URL (which must exist).

    Raises ``StoreLocationError`` for a missing SQLite file or an unsupported URL scheme.
    """
    if is_postgres_url(location):
        from angzarr_coordinator.inspect_postgres import PostgresInspector

        return PostgresInspector(location, migrate=migrate)
    return Inspector(sqlite_path(location))


class Inspector:
    """Reads (and the few writes of) the CLI on a SQLite event store file."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise StoreLocationError(f"no event store at {path} (check --db, -c or DATABASE_URL)")
        self.path = path
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA busy_timeout=5000")
        except sqlite3.Error as e:
            raise StoreUnavailable(f"cannot open the event store {path}: {e}") from None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self, mode: str = "DEFERRED") -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute(f"BEGIN {mode}")
        except sqlite3.Error as e:
            raise StoreUnavailable(f"the event store {self.path} is busy or unreadable: {e}") from None
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")

    def _read(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            with self._transaction() as conn:
                return fn(conn, *args)
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                raise StoreUnavailable(
                    f"{self.path} has no event store schema; run 'angzarr db migrate' first"
                ) from None
            raise StoreUnavailable(f"cannot read the event store {self.path}: {e}") from None

    def _write(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            with self._transaction("IMMEDIATE") as conn:
                return fn(conn, *args)
        except sqlite3.Error as e:
            raise StoreUnavailable(f"cannot write the event store {self.path}: {e}") from None

    # -- reads ---------------------------------------------------------------------------------------
    def domains(self) -> list[DomainInfo]:
        from angzarr_coordinator.store.sqlite import reads

        return self._read(reads.domains)

    def roots(self, domain: str) -> list[RootInfo]:
        from angzarr_coordinator.store.sqlite import reads

        return self._read(reads.roots, domain)

    def load(self, key: AggregateKey, from_sequence: int = 0, to_sequence: int | None = None) -> Loaded:
        """Stored pages in the inclusive range (no snapshot seeding), the newest snapshot and the true
        next sequence."""
        from angzarr_coordinator.store.sqlite import reads

        events = self._read(reads.load, key, False, from_sequence, to_sequence, None, None, None)
        snap = self._read(reads.load, key, True, 0, None, None, None, None)
        events.snapshot = snap.snapshot
        return events

    def dead_letters(self, status: str | None = None) -> list[DeadLetterRecord]:
        from angzarr_coordinator.store.sqlite import reads

        return self._read(reads.list_dead_letters, status)

    def dead_letter(self, letter_id: int) -> DeadLetterRecord | None:
        from angzarr_coordinator.store.sqlite import reads

        return self._read(reads.get_dead_letter, letter_id)

    def lag(self, subscribers: list[tuple[str, str, tuple[str, ...] | None]]) -> list[SubscriberLag]:
        """Lag of each ``(name, kind, listened domains or None for all)``, read in one snapshot.

        Lag counts the events of listened domains after the checkpoint, and the age of the oldest.
        """
        import json
        import time

        def read(conn: sqlite3.Connection) -> list[SubscriberLag]:
            watermark = conn.execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()[0]
            now_ns = time.time_ns()
            out = []
            for name, kind, domains in subscribers:
                row = conn.execute("SELECT position FROM checkpoints WHERE subscriber = ?", (name,)).fetchone()
                checkpoint = row[0] if row else 0
                sql = "SELECT COUNT(*), MIN(created_at) FROM events WHERE position > ?"
                args: list[object] = [checkpoint]
                if domains is not None:
                    sql += " AND domain IN (SELECT value FROM json_each(?))"
                    args.append(json.dumps(list(domains)))
                count, oldest = conn.execute(sql, args).fetchone()
                open_letters = conn.execute(
                    "SELECT COUNT(*) FROM dead_letters WHERE subscriber = ? AND status = 'open'", (name,)
                ).fetchone()[0]
                last = conn.execute(
                    "SELECT last_error, letter FROM dead_letters WHERE subscriber = ? ORDER BY id DESC LIMIT 1",
                    (name,),
                ).fetchone()
                error = ""
                if last is not None:
                    error = last[0] or types_pb2.AngzarrDeadLetter.FromString(last[1]).rejection_reason
                age = max(0.0, (now_ns - oldest) / 1e9) if oldest else 0.0
                out.append(SubscriberLag(name, kind, checkpoint, watermark, count, age, open_letters, error))
            return out

        return self._read(read)

    def checkpointed_subscribers(self) -> list[str]:
        """Every subscriber with a stored checkpoint (when no topology names them)."""
        return self._read(lambda conn: [r[0] for r in conn.execute("SELECT subscriber FROM checkpoints ORDER BY 1")])

    def migrations(self) -> list[MigrationStatus]:
        """Shipped migrations with their applied time (None: pending), plus any the database has
        that this code does not ship (a newer schema)."""

        def applied(conn: sqlite3.Connection) -> dict[int, tuple[str, str]]:
            try:
                rows = conn.execute("SELECT version, name, applied_at FROM schema_migrations")
            except sqlite3.OperationalError:
                return {}
            return {v: (n, at) for v, n, at in rows}

        done = self._read(applied)
        out = [MigrationStatus(m.version, m.name, done.get(m.version, (None, None))[1])
               for m in load_migrations("sqlite")]
        shipped = {m.version for m in out}
        out += [MigrationStatus(v, n, at) for v, (n, at) in sorted(done.items()) if v not in shipped]
        return out

    # -- writes --------------------------------------------------------------------------------------
    def request_replay(self, letter_id: int, *, rebase: bool) -> None:
        """Mark a dead letter ``replay_requested`` (``--rebase`` recorded in its metadata).

        Raises ``DeadLetterNotFound``.
        """
        from angzarr_coordinator.store.sqlite import writes

        def mark(conn: sqlite3.Connection) -> None:
            writes.update_dead_letter(conn, letter_id, "replay_requested", None, False)
            row = conn.execute("SELECT letter FROM dead_letters WHERE id = ?", (letter_id,)).fetchone()
            letter = types_pb2.AngzarrDeadLetter.FromString(row[0])
            if rebase:
                letter.metadata[REPLAY_REBASE_KEY] = "true"
            else:
                letter.metadata.pop(REPLAY_REBASE_KEY, None)
            conn.execute("UPDATE dead_letters SET letter = ? WHERE id = ?", (letter.SerializeToString(), letter_id))

        self._write(mark)

    def discard(self, letter_id: int) -> None:
        """Raises ``DeadLetterNotFound``."""
        from angzarr_coordinator.store.sqlite import writes

        self._write(writes.update_dead_letter, letter_id, "discarded", None, False)

    def drop_snapshots(self, domain: str, root: uuid.UUID | None) -> int:
        from angzarr_coordinator.store.sqlite import writes

        return self._write(writes.drop_snapshots, domain, root)
