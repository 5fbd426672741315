"""``SqliteEventStore``: the ``EventStore`` on one SQLite file (spec/coordinator.md §9.2).

Threads: one writer (``writer.Writer``, group commit) and a small pool of ``query_only`` readers.
The asyncio side never blocks: writes are queued to the writer and reads run on the reader pool,
both answered through asyncio futures.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import BrokenExecutor, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import structlog

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
    StoreUnavailable,
)
from angzarr_coordinator.store.sqlite import outbox, reads, writes
from angzarr_coordinator.store.sqlite.codec import key_params, prepare_commit
from angzarr_coordinator.store.sqlite.connection import SYNCHRONOUS_MODES, connect
from angzarr_coordinator.store.sqlite.lockfile import ProcessLock
from angzarr_coordinator.store.sqlite.writer import Writer, translate

T = TypeVar("T")

log = structlog.get_logger("angzarr.store")

# Waiters re-check the watermark at least this often even without a wake-up (§6.7).
_WAIT_SLICE = 1.0


class SqliteEventStore(EventStore):
    """The event store on one SQLite file, for one process at a time.

    ``synchronous`` is ``"full"`` (default: an acknowledged commit survives power loss) or
    ``"normal"`` (survives ``kill -9``, not power loss). ``readers`` is the number of reader threads.
    Raises ``ValueError`` for other values. ``open`` raises ``StoreLocked`` if another process (or
    another store object) has the file open, ``SchemaError`` for an incompatible schema.
    """

    def __init__(self, path: str | Path, *, synchronous: str = "full", readers: int = 2) -> None:
        if synchronous.lower() not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}; got {synchronous!r}")
        if readers < 1:
            raise ValueError(f"readers must be at least 1; got {readers}")
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._synchronous = synchronous.lower()
        self._reader_count = readers
        self._lock: ProcessLock | None = None
        self._writer: Writer | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_conns_lock = threading.Lock()
        self._watermark = 0
        self._waiters: set[asyncio.Future] = set()
        self._waiters_lock = threading.Lock()
        self._state = "new"  # new -> open -> closed

    # -- lifecycle ---------------------------------------------------------------------------------
    async def open(self) -> None:
        """Take the process lock, create the file (0600), migrate and start the threads."""
        if self._state == "open":
            return
        if self._state == "closed":
            raise StoreUnavailable("this event store object was closed; create a new one to reopen")
        self._lock = ProcessLock.acquire(self.lock_path, database=self.path)
        try:
            # Create the database 0600 ourselves: SQLite would honour the umask, and its -wal and
            # -shm files copy the database file's mode.
            try:
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
            except OSError as exc:
                raise StoreUnavailable(f"cannot open the event store {self.path}: {exc.strerror}") from exc
            self._writer = Writer(self.path, synchronous=self._synchronous, on_commit=self._publish)
            self._watermark = await asyncio.wrap_future(self._writer.start())
        except BaseException:
            self._lock.release()
            self._lock = None
            self._writer = None
            raise
        self._pool = ThreadPoolExecutor(
            max_workers=self._reader_count, thread_name_prefix="angzarr-sqlite-reader",
            initializer=self._open_reader,
        )
        self._state = "open"
        # We hold the process lock, so no other process is dispatching: outbox leases left in the file
        # belong to a process that died mid-dispatch. Release them, so its reactions are sent again at
        # once instead of after the lease time (the targets deduplicate by provenance, §6.4).
        released = await self._write(outbox.release_leases)
        if released:
            log.info("outbox leases of a previous process released", entries=released, database=str(self.path))

    async def close(self) -> None:
        """Finish queued writes, checkpoint the WAL, close connections, release the lock."""
        if self._state != "open":
            self._state = "closed"
            return
        self._state = "closed"
        assert self._writer is not None and self._pool is not None and self._lock is not None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._pool.shutdown, True)
        with self._reader_conns_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()
        await loop.run_in_executor(None, self._writer.stop)
        self._lock.release()
        self._wake_all()

    @property
    def transactions(self) -> int:
        """Group transactions committed since open (several appends may share one)."""
        return 0 if self._writer is None else self._writer.transactions

    # -- plumbing ------------------------------------------------------------------------------------
    def _open_reader(self) -> None:
        conn = connect(self.path, synchronous=self._synchronous, query_only=True)
        self._local.conn = conn
        with self._reader_conns_lock:
            self._reader_conns.append(conn)

    def _run_read(self, fn: Callable[..., T], args: tuple) -> T:
        conn = self._local.conn
        try:
            return fn(conn, *args)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise translate(exc) from exc

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        if self._state != "open":
            raise StoreUnavailable("the event store is not open")
        assert self._pool is not None
        try:
            pending = asyncio.get_running_loop().run_in_executor(self._pool, self._run_read, fn, args)
        except RuntimeError as exc:  # the pool shut down under us
            raise StoreUnavailable("the event store is closed") from exc
        try:
            return await pending
        except BrokenExecutor as exc:  # a reader connection could not be opened
            raise StoreUnavailable(f"the event store's readers failed: {exc}") from exc

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        if self._state != "open":
            raise StoreUnavailable("the event store is not open")
        assert self._writer is not None
        return await self._writer.submit(fn, *args)

    def _publish(self, position: int) -> None:
        """Called by the writer thread after each COMMIT."""
        if position > self._watermark:
            self._watermark = position
        self._wake_all()

    def _wake_all(self) -> None:
        with self._waiters_lock:
            waiters, self._waiters = self._waiters, set()
        for future in waiters:
            try:
                future.get_loop().call_soon_threadsafe(_wake, future)
            except RuntimeError:
                pass

    # -- writing -----------------------------------------------------------------------------------
    async def append(self, commit: NewCommit) -> CommitRecord:
        """See ``EventStore.append``. Also raises ``ValueError`` for pages not stamped
        ``expected_next_sequence, +1, ...`` or sequences beyond 2³²−1. A snapshot is stored with the
        commit's last sequence."""
        return await self._write(writes.append, prepare_commit(commit))

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
        return await self._read(
            reads.load, key, use_snapshot, from_sequence, to_sequence, as_of_time, sequences, limit
        )

    async def next_sequence(self, key: AggregateKey) -> int:
        return await self._read(_in_transaction(reads.next_sequence), key)

    async def find_provenance(self, key: AggregateKey, provenance: str) -> CommitRecord | None:
        return await self._read(reads.find_keyed, "provenance", "reaction_key", key, provenance)

    async def find_external(self, key: AggregateKey, external_id: str) -> CommitRecord | None:
        return await self._read(reads.find_keyed, "facts", "external_id", key, external_id)

    async def by_correlation(
        self, correlation_id: str, *, domain: str | None = None, root: uuid.UUID | None = None
    ) -> list[tuple[AggregateKey, list[types_pb2.EventPage]]]:
        return await self._read(reads.by_correlation, correlation_id, domain, root)

    async def aggregate_roots(self) -> list[AggregateKey]:
        return await self._read(reads.aggregate_roots)

    async def domains(self) -> list[DomainInfo]:
        return await self._read(reads.domains)

    async def roots(self, domain: str) -> list[RootInfo]:
        return await self._read(reads.roots, domain)

    # -- the global log ----------------------------------------------------------------------------
    async def read_log(
        self,
        after_position: int,
        *,
        domains: Collection[str] | None = None,
        correlation_id: str | None = None,
        limit: int = 256,
    ) -> list[CommitRecord]:
        return await self._read(
            reads.read_log, after_position, self._watermark, domains, correlation_id, limit
        )

    async def watermark(self) -> int:
        if self._state != "open":
            raise StoreUnavailable("the event store is not open")
        return self._watermark

    async def wait_for_commit(self, after_position: int, timeout: float) -> int:
        """Wakes on every commit (and at least every second); returns the watermark, which is
        ``<= after_position`` only if the timeout passed or the store closed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while self._watermark <= after_position and self._state == "open":
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            future = loop.create_future()
            with self._waiters_lock:
                self._waiters.add(future)
            # Re-check after registering: a commit published in between would not wake us.
            if self._watermark > after_position:
                break
            try:
                await asyncio.wait_for(future, min(remaining, _WAIT_SLICE))
            except TimeoutError:
                pass
            finally:
                with self._waiters_lock:
                    self._waiters.discard(future)
        return self._watermark

    # -- subscribers ---------------------------------------------------------------------------------
    async def get_checkpoint(self, subscriber: str) -> int:
        return await self._read(reads.get_checkpoint, subscriber)

    async def set_checkpoint(self, subscriber: str, position: int) -> None:
        await self._write(writes.set_checkpoint, subscriber, position)

    async def get_progress(self, subscriber: str, key: AggregateKey) -> int | None:
        return await self._read(reads.get_progress, subscriber, key)

    async def set_progress(self, progress: Progress) -> None:
        """Raises ``ValueError`` for a negative sequence."""
        if progress.sequence < 0:
            raise ValueError(f"progress sequence must be >= 0, got {progress.sequence}")
        await self._write(writes.set_progress, (progress.subscriber, *key_params(progress.key), progress.sequence))

    # -- snapshots and dead letters ------------------------------------------------------------------
    async def drop_snapshots(self, domain: str, root: uuid.UUID | None = None) -> int:
        return await self._write(writes.drop_snapshots, domain, root)

    async def add_dead_letter(
        self, letter: types_pb2.AngzarrDeadLetter, *, subscriber: str | None = None
    ) -> int:
        return await self._write(writes.add_dead_letter, letter, subscriber)

    async def list_dead_letters(self, status: str | None = None) -> list[DeadLetterRecord]:
        return await self._read(reads.list_dead_letters, status)

    async def get_dead_letter(self, letter_id: int) -> DeadLetterRecord | None:
        return await self._read(reads.get_dead_letter, letter_id)

    async def update_dead_letter(
        self, letter_id: int, *, status: str, last_error: str | None = None, attempted: bool = False
    ) -> None:
        """Raises ``ValueError`` for an unknown status, ``DeadLetterNotFound`` for an unknown id."""
        await self._write(writes.update_dead_letter, letter_id, status, last_error, attempted)

    # -- reactions and the outbox --------------------------------------------------------------------
    async def record_reaction(self, reaction: NewReaction) -> RecordedReaction:
        return await self._write(writes.record_reaction, reaction)

    async def find_reaction(
        self, reactor: str, trigger: AggregateKey, trigger_sequence: int
    ) -> RecordedReaction | None:
        return await self._read(reads.find_reaction, reactor, trigger, trigger_sequence)

    async def claim_outbox(self, reactor: str, *, lease_seconds: float, limit: int = 16) -> list[OutboxRecord]:
        return await self._write(outbox.claim, reactor, lease_seconds, limit)

    async def settle_outbox(
        self, entry_id: int, status: str, *, result: bytes | None = None, error: str = "",
        cancel_rest: bool = False,
    ) -> None:
        await self._write(outbox.settle, entry_id, status, result, error, cancel_rest)

    async def retry_outbox(self, entry_id: int, *, error: str, delay_seconds: float) -> None:
        await self._write(outbox.retry, entry_id, error, delay_seconds)

    async def pending_outbox(self, reactor: str | None = None) -> int:
        return await self._read(reads.pending_outbox, reactor)


def _in_transaction(fn: Callable[..., T]) -> Callable[..., T]:
    def run(conn: sqlite3.Connection, *args: Any) -> T:
        with reads.read_transaction(conn):
            return fn(conn, *args)

    return run


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)
