"""``PostgresEventStore``: the ``EventStore`` on PostgreSQL, for distributed mode (spec §9.3).

Every operation runs on a connection from an asyncpg pool; the watermark reader has its own small
pool and its own ``LISTEN`` connection. Several processes (sidecars) may open the same database: the
aggregate advisory locks and the database's constraints keep their appends consistent.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable, Collection, Coroutine
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import (
    AggregateKey,
    CommitRecord,
    DeadLetterRecord,
    DomainInfo,
    EventStore,
    Loaded,
    NewCommit,
    NewReaction,
    OutboxRecord,
    Progress,
    RecordedReaction,
    RootInfo,
    SchemaError,
    StoreUnavailable,
)
from angzarr_coordinator.store.postgres import outbox, reads, schema, writes
from angzarr_coordinator.store.postgres.errors import is_unavailable, translate
from angzarr_coordinator.store.postgres.keyed_locks import KeyedLocks
from angzarr_coordinator.store.postgres.watermark import GAP_POLL_INTERVAL, POLL_INTERVAL, WatermarkReader

T = TypeVar("T")

URL_SCHEMES = ("postgres", "postgresql")
APPLICATION_NAME = "angzarr"


def redact(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    parts = urllib.parse.urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class PostgresEventStore(EventStore):
    """The event store in one PostgreSQL database (or one schema of it, via ``?search_path=``).

    ``dsn`` is a ``postgres://`` or ``postgresql://`` URL; query parameters asyncpg does not know are
    sent as server settings. ``pool_size`` bounds concurrent operations. With ``migrate`` (default)
    ``open`` applies pending migrations; without, it refuses a schema that is not current.
    ``catch_up`` is how long ``open`` waits for transactions in flight to end so the watermark starts
    at the log's head. ``listen=False`` polls only (for proxies that do not pass ``LISTEN`` through).
    Raises ``ValueError`` for a DSN of another scheme or bad numbers.
    """

    def __init__(
        self,
        dsn: str,
        *,
        pool_size: int = 10,
        migrate: bool = True,
        catch_up: float = 5.0,
        listen: bool = True,
        poll_interval: float = POLL_INTERVAL,
        gap_poll_interval: float = GAP_POLL_INTERVAL,
    ) -> None:
        scheme = urllib.parse.urlsplit(dsn).scheme
        if scheme not in URL_SCHEMES:
            raise ValueError(f"a PostgreSQL event store needs a postgres:// or postgresql:// URL; got {redact(dsn)!r}")
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1; got {pool_size}")
        if catch_up < 0 or poll_interval <= 0 or gap_poll_interval <= 0:
            raise ValueError("catch_up must be >= 0 and the poll intervals > 0")
        self.dsn = dsn
        self._pool_size = pool_size
        self._migrate = migrate
        self._catch_up = catch_up
        self._listen = listen
        self._poll_interval, self._gap_poll_interval = poll_interval, gap_poll_interval
        self._pool: asyncpg.Pool | None = None
        self._reader_pool: asyncpg.Pool | None = None
        self._reader: WatermarkReader | None = None
        self._inflight: set[asyncio.Task[Any]] = set()
        self._aggregate_locks = KeyedLocks()
        self._state = "new"  # new -> open -> closed

    # -- lifecycle ---------------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect, migrate (or check the schema), and start the watermark reader.

        Raises ``StoreUnavailable`` if the database cannot be reached, ``SchemaError`` for a schema
        this code cannot use.
        """
        if self._state == "open":
            return
        if self._state == "closed":
            raise StoreUnavailable("this event store object was closed; create a new one to reopen")
        try:
            self._pool = await self._create_pool(self._pool_size)
            async with self._pool.acquire() as conn:
                if self._migrate:
                    await schema.migrate(conn)
                else:
                    pending = await schema.check(conn)
                    if pending:
                        raise SchemaError(
                            f"the event store schema at {redact(self.dsn)} lacks migrations "
                            f"{', '.join(f'{v:04d}' for v in pending)}; run 'angzarr db migrate'"
                        )
            self._reader_pool = await self._create_pool(1)
            self._reader = WatermarkReader(
                self._reader_pool, self._connect if self._listen else None, poll_interval=self._poll_interval,
                gap_poll_interval=self._gap_poll_interval,
            )
            await self._reader.start(catch_up=self._catch_up)
        except BaseException as exc:
            await self._release()
            if isinstance(exc, Exception) and is_unavailable(exc):
                raise StoreUnavailable(f"cannot open the event store at {redact(self.dsn)}: {exc}") from exc
            translated = translate(exc)
            if translated is exc:
                raise
            raise translated from exc
        self._state = "open"

    async def close(self) -> None:
        """Let operations already started finish, then stop the reader and close the pools."""
        if self._state != "open":
            self._state = "closed"
            return
        self._state = "closed"
        while self._inflight:
            await asyncio.wait(set(self._inflight))
        await self._release()

    async def _release(self) -> None:
        if self._reader is not None:
            await self._reader.stop()
            self._reader = None
        for pool in (self._pool, self._reader_pool):
            if pool is not None:
                try:
                    await asyncio.wait_for(pool.close(), 10)
                except (TimeoutError, OSError, asyncpg.InterfaceError):
                    pool.terminate()
        self._pool = self._reader_pool = None

    async def _create_pool(self, size: int) -> asyncpg.Pool:
        return await asyncpg.create_pool(self.dsn, min_size=1, max_size=size, server_settings=self._settings())

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn, server_settings=self._settings())

    def _settings(self) -> dict[str, str]:
        # Named in pg_stat_activity unless the DSN names the connections itself.
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.dsn).query)
        return {} if "application_name" in query else {"application_name": APPLICATION_NAME}

    @property
    def reader(self) -> WatermarkReader:
        """The watermark reader (gap_wait, listener state); raises ``StoreUnavailable`` if not open."""
        if self._reader is None:
            raise StoreUnavailable("the event store is not open")
        return self._reader

    # -- plumbing ------------------------------------------------------------------------------------
    async def _call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``fn(conn, *args)`` on a pooled connection (see ``_spawn``)."""
        return await self._spawn(self._on_connection(fn, *args))

    async def _spawn(self, operation: Coroutine[Any, Any, T]) -> T:
        """Run ``operation`` as its own task, so a cancelled caller does not abort a write half way
        (the write stands, as on SQLite) and ``close`` can wait for it."""
        if self._state != "open":
            operation.close()
            raise StoreUnavailable("the event store is not open")
        task = asyncio.ensure_future(operation)
        self._inflight.add(task)
        task.add_done_callback(_forget(self._inflight))
        return await asyncio.shield(task)

    async def _on_connection(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        assert self._pool is not None
        try:
            async with self._pool.acquire() as conn:
                return await fn(conn, *args)
        except Exception as exc:
            translated = translate(exc)
            if translated is exc:
                raise
            raise translated from exc

    # -- writing -----------------------------------------------------------------------------------
    async def append(self, commit: NewCommit) -> CommitRecord:
        """See ``EventStore.append``. Also raises ``ValueError`` for pages not stamped
        ``expected_next_sequence, +1, ...`` or sequences beyond 2³²−1. A snapshot is stored with the
        commit's last sequence."""
        return await self._spawn(self._append(writes.prepare_commit(commit)))

    async def _append(self, prepared: writes.PreparedCommit) -> CommitRecord:
        # Appends to one aggregate from this process run in the order they were made (as SQLite's
        # queue does); the advisory lock orders them against other processes.
        abandoned: list[int] = []
        async with self._aggregate_locks.hold(prepared.commit.key):
            try:
                record = await self._on_connection(writes.append_reporting_races, prepared, abandoned.extend)
            except BaseException:
                if abandoned and self._reader is not None:
                    # The failed transaction's positions are holes for good: pass them now, so the
                    # commits after them are readable when their appends return.
                    self._reader.abandon(abandoned)
                    with contextlib.suppress(OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                        await self._reader.refresh()
                raise
        if record.pages and self._reader is not None:
            # Make the commit readable before the caller hears back, unless an older transaction
            # holds a lower position (then the watermark waits for it, §6.2). The commit is durable
            # already: a failing refresh is left to the reader's polling.
            try:
                await self._reader.refresh()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                pass
        return record

    # -- reading aggregates ------------------------------------------------------------------------
    async def load(
        self,
        key: AggregateKey,
        *,
        use_snapshot: bool = True,
        from_sequence: int = 0,
        to_sequence: int | None = None,
        as_of_time: datetime | None = None,
        sequences: Collection[int] | None = None,
        limit: int | None = None,
    ) -> Loaded:
        """See ``EventStore.load``. A snapshot seeds only plain and ``to_sequence``-bounded reads."""
        return await self._call(
            reads.load, key, use_snapshot, from_sequence, to_sequence, as_of_time, sequences, limit
        )

    async def next_sequence(self, key: AggregateKey) -> int:
        return await self._call(reads.next_sequence, key)

    async def find_provenance(self, key: AggregateKey, provenance: str) -> CommitRecord | None:
        return await self._call(reads.find_keyed, "provenance", "reaction_key", key, provenance)

    async def find_external(self, key: AggregateKey, external_id: str) -> CommitRecord | None:
        return await self._call(reads.find_keyed, "facts", "external_id", key, external_id)

    async def by_correlation(
        self, correlation_id: str, *, domain: str | None = None, root: uuid.UUID | None = None
    ) -> list[tuple[AggregateKey, list[types_pb2.EventPage]]]:
        return await self._call(reads.by_correlation, correlation_id, domain, root)

    async def aggregate_roots(self) -> list[AggregateKey]:
        return await self._call(reads.aggregate_roots)

    async def domains(self) -> list[DomainInfo]:
        return await self._call(reads.domains)

    async def roots(self, domain: str) -> list[RootInfo]:
        return await self._call(reads.roots, domain)

    # -- the global log ----------------------------------------------------------------------------
    async def read_log(
        self,
        after_position: int,
        *,
        domains: Collection[str] | None = None,
        correlation_id: str | None = None,
        limit: int = 256,
    ) -> list[CommitRecord]:
        watermark = self.reader.watermark
        return await self._call(reads.read_log, after_position, watermark, domains, correlation_id, limit)

    async def watermark(self) -> int:
        if self._state != "open":
            raise StoreUnavailable("the event store is not open")
        return self.reader.watermark

    async def wait_for_commit(self, after_position: int, timeout: float) -> int:
        """Wakes when the watermark moves (NOTIFY, polling, own appends); returns the watermark,
        which is ``<= after_position`` only if the timeout passed or the store closed."""
        reader = self._reader
        if reader is None:
            return 0
        return await reader.wait(after_position, timeout)

    # -- subscribers ---------------------------------------------------------------------------------
    async def get_checkpoint(self, subscriber: str) -> int:
        return await self._call(reads.get_checkpoint, subscriber)

    async def set_checkpoint(self, subscriber: str, position: int) -> None:
        await self._call(writes.set_checkpoint, subscriber, position)

    async def get_progress(self, subscriber: str, key: AggregateKey) -> int | None:
        return await self._call(reads.get_progress, subscriber, key)

    async def set_progress(self, progress: Progress) -> None:
        """Raises ``ValueError`` for a negative sequence."""
        if progress.sequence < 0:
            raise ValueError(f"progress sequence must be >= 0, got {progress.sequence}")
        await self._call(writes.set_progress, progress)

    # -- snapshots and dead letters ------------------------------------------------------------------
    async def drop_snapshots(self, domain: str, root: uuid.UUID | None = None) -> int:
        return await self._call(writes.drop_snapshots, domain, root)

    async def add_dead_letter(
        self, letter: types_pb2.AngzarrDeadLetter, *, subscriber: str | None = None
    ) -> int:
        return await self._call(writes.add_dead_letter, letter, subscriber)

    async def list_dead_letters(self, status: str | None = None) -> list[DeadLetterRecord]:
        return await self._call(reads.list_dead_letters, status)

    async def get_dead_letter(self, letter_id: int) -> DeadLetterRecord | None:
        return await self._call(reads.get_dead_letter, letter_id)

    async def update_dead_letter(
        self, letter_id: int, *, status: str, last_error: str | None = None, attempted: bool = False
    ) -> None:
        """Raises ``ValueError`` for an unknown status, ``DeadLetterNotFound`` for an unknown id."""
        await self._call(writes.update_dead_letter, letter_id, status, last_error, attempted)

    # -- reactions and the outbox --------------------------------------------------------------------
    async def record_reaction(self, reaction: NewReaction) -> RecordedReaction:
        return await self._call(writes.record_reaction, reaction)

    async def find_reaction(
        self, reactor: str, trigger: AggregateKey, trigger_sequence: int
    ) -> RecordedReaction | None:
        return await self._call(reads.find_reaction, reactor, trigger, trigger_sequence)

    async def claim_outbox(self, reactor: str, *, lease_seconds: float, limit: int = 16) -> list[OutboxRecord]:
        return await self._call(outbox.claim, reactor, lease_seconds, limit)

    async def settle_outbox(
        self, entry_id: int, status: str, *, result: bytes | None = None, error: str = "",
        cancel_rest: bool = False,
    ) -> None:
        await self._call(outbox.settle, entry_id, status, result, error, cancel_rest)

    async def retry_outbox(self, entry_id: int, *, error: str, delay_seconds: float) -> None:
        await self._call(outbox.retry, entry_id, error, delay_seconds)

    async def pending_outbox(self, reactor: str | None = None) -> int:
        return await self._call(reads.pending_outbox, reactor)


def _forget(tasks: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    def done(task: asyncio.Task[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a caller that was cancelled no longer awaits it

    return done
