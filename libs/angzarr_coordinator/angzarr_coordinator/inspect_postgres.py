"""The inspection commands' store access on PostgreSQL (distributed mode, spec/coordinator.md §10.5).

PostgreSQL has no process lock, so the CLI opens a real ``PostgresEventStore`` beside the running
sidecars and goes through the ``EventStore`` interface for what the interface offers (domains, roots,
loads, dead letters, snapshots, checkpoints, the watermark). Opening it migrates the schema unless
``migrate=False`` (``ANGZARR_MIGRATE=0``), then a schema that is not current is refused. Three things
the interface does not offer use one plain connection of their own: setting the ``--rebase`` flag of a
dead letter in the same transaction as its status, counting a subscriber's lag, and the migration
status (which must not migrate, so it never opens the store).

The CLI is synchronous: every call runs to completion on this object's private event loop.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Coroutine
from datetime import UTC
from typing import Any, TypeVar

import asyncpg

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.inspect import REPLAY_REBASE_KEY, MigrationStatus, SubscriberLag
from angzarr_coordinator.store.base import (
    AggregateKey,
    DeadLetterNotFound,
    DeadLetterRecord,
    DomainInfo,
    Loaded,
    RootInfo,
    StoreError,
    StoreUnavailable,
)
from angzarr_coordinator.store.migrations import load_migrations
from angzarr_coordinator.store.postgres import PostgresEventStore, writes
from angzarr_coordinator.store.postgres.errors import translate
from angzarr_coordinator.store.postgres.store import redact

T = TypeVar("T")

_DRIVER_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class PostgresInspector:
    """Reads (and the few writes of) the CLI on a PostgreSQL event store.

    Every method raises ``StoreUnavailable`` when the database cannot be reached and ``SchemaError``
    when the store opens on a schema it cannot use (with ``migrate=False``: one lacking migrations).
    """

    def __init__(self, dsn: str, *, migrate: bool = True) -> None:
        self.dsn = dsn
        self._migrate = migrate
        self._runner = asyncio.Runner()
        self._store: PostgresEventStore | None = None
        self._conn: asyncpg.Connection | None = None

    def close(self) -> None:
        async def release() -> None:
            if self._conn is not None:
                await self._conn.close()
            if self._store is not None:
                await self._store.close()

        try:
            self._runner.run(release())
        except _DRIVER_ERRORS:
            pass  # closing a connection the server already dropped
        finally:
            self._runner.close()

    def __enter__(self) -> PostgresInspector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, operation: Coroutine[Any, Any, T]) -> T:
        try:
            return self._runner.run(operation)
        except StoreError:
            raise
        except _DRIVER_ERRORS as e:
            raise translate(e) from None

    async def _opened(self) -> PostgresEventStore:
        if self._store is None:
            # One connection is enough for the CLI; no LISTEN (it only reads the watermark once) and no
            # catch-up wait: the watermark is read as it stands.
            store = PostgresEventStore(self.dsn, pool_size=1, migrate=self._migrate, catch_up=0.0, listen=False)
            try:
                await store.open()
            except (*_DRIVER_ERRORS, ValueError) as e:  # ValueError: a DSN the driver cannot parse
                raise StoreUnavailable(f"cannot open the event store at {redact(self.dsn)}: {e}") from None
            self._store = store
        return self._store

    async def _connection(self, *, open_store: bool = True) -> asyncpg.Connection:
        """The plain connection; with ``open_store`` the store is opened first, so the schema is
        migrated or checked before any query of ours touches it."""
        if open_store:
            await self._opened()
        if self._conn is None:
            try:
                self._conn = await asyncpg.connect(self.dsn)
            except (*_DRIVER_ERRORS, ValueError) as e:
                raise StoreUnavailable(f"cannot connect to {redact(self.dsn)}: {e}") from None
        return self._conn

    # -- reads ---------------------------------------------------------------------------------------
    def domains(self) -> list[DomainInfo]:
        async def read() -> list[DomainInfo]:
            return await (await self._opened()).domains()

        return self._run(read())

    def roots(self, domain: str) -> list[RootInfo]:
        async def read() -> list[RootInfo]:
            return await (await self._opened()).roots(domain)

        return self._run(read())

    def load(self, key: AggregateKey, from_sequence: int = 0, to_sequence: int | None = None) -> Loaded:
        """Stored pages in the inclusive range (no snapshot seeding), the newest snapshot and the true
        next sequence."""

        async def read() -> Loaded:
            store = await self._opened()
            events = await store.load(key, use_snapshot=False, from_sequence=from_sequence,
                                      to_sequence=to_sequence)
            events.snapshot = (await store.load(key)).snapshot
            return events

        return self._run(read())

    def dead_letters(self, status: str | None = None) -> list[DeadLetterRecord]:
        async def read() -> list[DeadLetterRecord]:
            return await (await self._opened()).list_dead_letters(status)

        return self._run(read())

    def dead_letter(self, letter_id: int) -> DeadLetterRecord | None:
        async def read() -> DeadLetterRecord | None:
            return await (await self._opened()).get_dead_letter(letter_id)

        return self._run(read())

    def lag(self, subscribers: list[tuple[str, str, tuple[str, ...] | None]]) -> list[SubscriberLag]:
        """Lag of each ``(name, kind, listened domains or None for all)``: the events of listened
        domains after the checkpoint and up to the watermark, and the age of the oldest of them."""

        async def read() -> list[SubscriberLag]:
            store = await self._opened()
            conn = await self._connection()
            watermark = await store.watermark()
            letters = await store.list_dead_letters()
            now = time.time()
            out = []
            for name, kind, domains in subscribers:
                checkpoint = await store.get_checkpoint(name)
                count, oldest = await conn.fetchrow(
                    "SELECT COUNT(*), MIN(created_at) FROM events WHERE position > $1 AND position <= $2 "
                    "AND ($3::text[] IS NULL OR domain = ANY($3))",
                    checkpoint, watermark, None if domains is None else list(domains),
                )
                own = [r for r in letters if r.subscriber == name]
                error = ""
                if own:
                    last = own[-1]  # listed by id
                    error = last.last_error or last.letter.rejection_reason
                age = max(0.0, now - oldest.astimezone(UTC).timestamp()) if oldest else 0.0
                open_letters = sum(1 for r in own if r.status == "open")
                out.append(SubscriberLag(name, kind, checkpoint, watermark, count, age, open_letters, error))
            return out

        return self._run(read())

    def checkpointed_subscribers(self) -> list[str]:
        """Every subscriber with a stored checkpoint (when no topology names them)."""

        async def read() -> list[str]:
            conn = await self._connection()
            return [r[0] for r in await conn.fetch("SELECT subscriber FROM checkpoints ORDER BY 1")]

        return self._run(read())

    def migrations(self) -> list[MigrationStatus]:
        """Shipped migrations with their applied time (None: pending), plus any the database has that
        this code does not ship. Never migrates."""

        async def read() -> dict[int, tuple[str, str]]:
            conn = await self._connection(open_store=False)
            if not await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
                return {}
            rows = await conn.fetch("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
            return {v: (n, at.astimezone(UTC).isoformat().replace("+00:00", "Z")) for v, n, at in rows}

        done = self._run(read())
        out = [MigrationStatus(m.version, m.name, done.get(m.version, (None, None))[1])
               for m in load_migrations("postgres")]
        shipped = {m.version for m in out}
        out += [MigrationStatus(v, n, at) for v, (n, at) in sorted(done.items()) if v not in shipped]
        return out

    # -- writes --------------------------------------------------------------------------------------
    def request_replay(self, letter_id: int, *, rebase: bool) -> None:
        """Mark a dead letter ``replay_requested`` (``--rebase`` recorded in its metadata), both in one
        transaction so a replaying coordinator never sees the status without the flag.

        Raises ``DeadLetterNotFound``.
        """

        async def mark() -> None:
            conn = await self._connection()
            async with conn.transaction():
                data = await conn.fetchval("SELECT letter FROM dead_letters WHERE id = $1 FOR UPDATE", letter_id)
                if data is None:
                    raise DeadLetterNotFound(letter_id)
                letter = types_pb2.AngzarrDeadLetter.FromString(bytes(data))
                if rebase:
                    letter.metadata[REPLAY_REBASE_KEY] = "true"
                else:
                    letter.metadata.pop(REPLAY_REBASE_KEY, None)
                await conn.execute("UPDATE dead_letters SET letter = $1 WHERE id = $2",
                                   letter.SerializeToString(), letter_id)
                await writes.update_dead_letter(conn, letter_id, "replay_requested", None, False)

        self._run(mark())

    def discard(self, letter_id: int) -> None:
        """Raises ``DeadLetterNotFound``."""

        async def mark() -> None:
            await (await self._opened()).update_dead_letter(letter_id, status="discarded")

        self._run(mark())

    def drop_snapshots(self, domain: str, root: uuid.UUID | None) -> int:
        async def drop() -> int:
            return await (await self._opened()).drop_snapshots(domain, root)

        return self._run(drop())
