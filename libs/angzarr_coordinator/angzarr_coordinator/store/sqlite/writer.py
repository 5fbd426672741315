"""The single writer thread: group commit with one SAVEPOINT per job.

Every write of the store is a *job* (a function of the writer's connection). The thread takes all
jobs queued while the previous transaction ran, runs them in one ``BEGIN IMMEDIATE`` transaction,
each inside a SAVEPOINT so a failing job is undone alone, commits once (one fsync for the group under
``synchronous=FULL``), then publishes the new watermark and only then answers the callers.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future as ThreadFuture
from pathlib import Path
from typing import Any

from angzarr_coordinator.store.base import StoreError, StoreUnavailable
from angzarr_coordinator.store.sqlite import reads
from angzarr_coordinator.store.sqlite.connection import connect, migrate

# Upper bound of jobs per transaction: keeps one transaction (and the callers' wait) short.
MAX_GROUP = 512


class _Job:
    __slots__ = ("fn", "args", "future", "result", "error")

    def __init__(self, fn: Callable[..., Any], args: tuple, future: asyncio.Future) -> None:
        self.fn, self.args, self.future = fn, args, future
        self.result: Any = None
        self.error: BaseException | None = None


def translate(exc: BaseException) -> BaseException:
    """Map sqlite3 errors to store errors; pass everything else (store errors, ValueError) through."""
    if isinstance(exc, sqlite3.OperationalError):
        return StoreUnavailable(f"the event store cannot write: {exc}")
    if isinstance(exc, sqlite3.Error):
        return StoreError(f"the event store rejected a write: {exc}")
    return exc


class Writer:
    """Owns the write connection and its thread."""

    def __init__(self, path: Path, *, synchronous: str, on_commit: Callable[[int], None]) -> None:
        self._path, self._synchronous, self._on_commit = path, synchronous, on_commit
        self._queue: collections.deque[_Job] = collections.deque()
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self.transactions = 0  # committed group transactions (for tests and metrics)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> ThreadFuture[int]:
        """Start the thread; the future resolves to the log's head position once the connection is
        open and migrated, or fails with ``StoreUnavailable`` / ``SchemaError``."""
        ready: ThreadFuture[int] = ThreadFuture()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="angzarr-sqlite-writer", daemon=True)
        self._thread.start()
        return ready

    def stop(self) -> None:
        """Finish the queued jobs, checkpoint the WAL (TRUNCATE) and close. Blocks; idempotent."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        """Queue ``fn(conn, *args)``; the returned future settles after the transaction commits.

        Raises ``StoreUnavailable`` once the store is closing.
        """
        future = asyncio.get_running_loop().create_future()
        with self._cond:
            if self._closing:
                raise StoreUnavailable("the event store is closed")
            self._queue.append(_Job(fn, args, future))
            self._cond.notify()
        return future

    # -- the thread ----------------------------------------------------------------------------------
    def _run(self, ready: ThreadFuture[int]) -> None:
        try:
            self._conn = connect(self._path, synchronous=self._synchronous, query_only=False)
            migrate(self._conn)
            head = reads.max_position(self._conn)
        except BaseException as exc:  # reported to open(); the thread ends
            if self._conn is not None:
                self._conn.close()
            with self._cond:
                self._closing = True
            ready.set_exception(exc)
            return
        ready.set_result(head)
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    break
                group = [self._queue.popleft() for _ in range(min(MAX_GROUP, len(self._queue)))]
            try:
                self._run_group(group)
            except BaseException as exc:  # never let the thread die with callers waiting
                try:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                self._fail_all(group, StoreUnavailable(f"the event store failed a write: {exc}"))
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass  # the WAL is replayed at next open; nothing is lost
        self._conn.close()

    def _run_group(self, group: list[_Job]) -> None:
        conn = self._conn
        assert conn is not None
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._fail_all(group, translate(exc))
            return
        for job in group:
            conn.execute("SAVEPOINT job")
            try:
                job.result = job.fn(conn, *job.args)
            except BaseException as exc:
                job.error = translate(exc)
                if not conn.in_transaction:
                    # SQLite aborted the whole transaction (e.g. disk full): nothing of the group
                    # was written.
                    self._fail_all(group, StoreUnavailable(f"the event store aborted a write: {exc}"))
                    return
                conn.execute("ROLLBACK TO job")
            conn.execute("RELEASE job")
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._fail_all(group, translate(exc))
            return
        self.transactions += 1
        # Publish the watermark before anyone hears back, so a caller's commit is readable from the
        # log as soon as its append returns.
        self._on_commit(reads.max_position(conn))
        for job in group:
            _settle(job.future, job.result, job.error)

    def _fail_all(self, group: list[_Job], error: BaseException) -> None:
        for job in group:
            _settle(job.future, None, error)


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    try:
        future.get_loop().call_soon_threadsafe(_set, future, result, error)
    except RuntimeError:
        pass  # the caller's event loop is gone; nobody is waiting


def _set(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled; the write stands (§3.4)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
