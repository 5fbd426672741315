"""The process's watermark reader (spec/coordinator.md §6.2, §6.7).

One per store object (one per process in deployment). It reads, in one REPEATABLE READ transaction,
the snapshot's ``xmin``/``xmax``, the log's head and the positions above the watermark, and lets
``GapTracker`` advance the watermark. It runs:

* after each of this process's appends (so an acknowledged commit is readable at once when no older
  transaction holds a lower position);
* when ``NOTIFY angzarr_log`` arrives on its own ``LISTEN`` connection (other processes' appends);
* every 500 ms anyway, every 20 ms while a gap is pending, and all along while the ``LISTEN``
  connection is being re-established with backoff.

Concurrent requests for a refresh share one: a caller waits for a refresh that started after its call.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from angzarr_coordinator.observability import metrics
from angzarr_coordinator.store.postgres.gaps import GapTracker, Snapshot
from angzarr_coordinator.store.postgres.writes import NOTIFY_CHANNEL

log = structlog.get_logger("angzarr.store.postgres")

POLL_INTERVAL = 0.5
GAP_POLL_INTERVAL = 0.02
# Positions read per statement; a longer backlog is read in several statements of one snapshot.
BATCH = 50_000
_RECONNECT_FIRST, _RECONNECT_MAX = 0.1, 5.0

_SNAPSHOT = (
    "SELECT pg_snapshot_xmin(s), pg_snapshot_xmax(s), (SELECT COALESCE(MAX(position), 0) FROM events) "
    "FROM pg_current_snapshot() AS s"
)
_POSITIONS = "SELECT position FROM events WHERE position > $1 ORDER BY position LIMIT $2"


class WatermarkReader:
    """Keeps ``watermark`` (the highest position below which no event can still appear) current and
    wakes waiters when it moves.

    ``pool`` serves the refresh transactions; ``listen`` opens the dedicated ``LISTEN`` connection
    (``None``: poll only, e.g. behind a transaction-pooling proxy where ``LISTEN`` does not work).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        listen: Callable[[], Awaitable[asyncpg.Connection]] | None,
        *,
        poll_interval: float = POLL_INTERVAL,
        gap_poll_interval: float = GAP_POLL_INTERVAL,
    ) -> None:
        self._pool = pool
        self._listen = listen
        self._poll_interval = poll_interval
        self._gap_poll_interval = gap_poll_interval
        self._tracker = GapTracker()
        self._refresh_lock = asyncio.Lock()
        self._refreshes_started = 0
        self._refreshes_done = 0
        self._poke = asyncio.Event()
        self._stopping = asyncio.Event()
        self._waiters: set[asyncio.Future[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._gap_since: float | None = None
        self.listener_connects = 0  # LISTEN connections established (for tests and metrics)
        self.listener_pid: int | None = None  # server process of the LISTEN connection while it is up

    @property
    def watermark(self) -> int:
        return self._tracker.watermark

    @property
    def listening(self) -> bool:
        return self.listener_pid is not None

    @property
    def gap_pending(self) -> bool:
        return self._tracker.gap_pending

    @property
    def gap_wait(self) -> float:
        """Seconds the watermark has been held back by a gap (0 without one): ``angzarr.log.gap_wait``."""
        return 0.0 if self._gap_since is None else time.monotonic() - self._gap_since

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self, *, catch_up: float) -> None:
        """First refresh, then up to ``catch_up`` seconds for transactions in flight to end, then the
        background tasks. Raises what the first refresh raises (the caller translates it)."""
        await self.refresh()
        deadline = time.monotonic() + catch_up
        while self.gap_pending and time.monotonic() < deadline:
            await asyncio.sleep(self._gap_poll_interval)
            await self.refresh()
        self._tasks = [asyncio.create_task(self._poll_loop(), name="angzarr-watermark-poll")]
        if self._listen is not None:
            self._tasks.append(asyncio.create_task(self._listen_loop(), name="angzarr-watermark-listen"))

    async def stop(self) -> None:
        self._stopping.set()
        self._poke.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._wake_all()

    def abandon(self, positions: list[int]) -> None:
        """Positions this process's failed appends took: never filled, passed without waiting."""
        self._tracker.abandon(positions)

    # -- refreshing --------------------------------------------------------------------------------
    async def refresh(self) -> int:
        """Advance the watermark from a snapshot taken after this call; return it.

        Raises the driver's errors (connection lost, server down).
        """
        seen = self._refreshes_started
        async with self._refresh_lock:
            # Refreshes run one at a time, numbered as they start. One numbered after ``seen``
            # started after this call; if one has already succeeded, its result answers this call.
            if self._refreshes_done > seen:
                return self._tracker.watermark
            self._refreshes_started += 1
            number = self._refreshes_started
            await self._refresh_once()
            self._refreshes_done = number
        return self._tracker.watermark

    async def _refresh_once(self) -> None:
        before = self._tracker.watermark
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            xmin, xmax, head = await conn.fetchrow(_SNAPSHOT)
            snapshot = Snapshot(int(xmin), int(xmax), head)
            while True:
                mark = self._tracker.watermark
                positions = [r[0] for r in await conn.fetch(_POSITIONS, mark, BATCH)]
                complete = len(positions) < BATCH
                self._tracker.advance(snapshot, positions, complete=complete)
                if complete or self._tracker.watermark != positions[-1]:
                    break
        if self._tracker.gap_pending:
            if self._gap_since is None:
                self._gap_since = time.monotonic()
        elif self._gap_since is not None:
            # Lag, never loss: how long an open transaction held the watermark back (§6.2).
            metrics.log_gap_wait.record((time.monotonic() - self._gap_since) * 1000.0)
            self._gap_since = None
        if self._tracker.watermark != before:
            self._wake_all()

    # -- waiting -----------------------------------------------------------------------------------
    async def wait(self, after_position: int, timeout: float) -> int:
        """Block until the watermark passes ``after_position``, ``timeout`` passes or the reader
        stops; return the watermark."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while self._tracker.watermark <= after_position and not self._stopping.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.add(future)
            try:
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                pass
            finally:
                self._waiters.discard(future)
        return self._tracker.watermark

    def _wake_all(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for future in waiters:
            if not future.done():
                future.set_result(None)

    # -- background --------------------------------------------------------------------------------
    async def _poll_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            interval = self._gap_poll_interval if self.gap_pending else self._poll_interval
            if failures:
                interval = max(interval, min(_RECONNECT_MAX, _RECONNECT_FIRST * 2 ** (failures - 1)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), interval)
            self._poke.clear()
            if self._stopping.is_set():
                break
            try:
                await self.refresh()
                failures = 0
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                failures += 1
                log.warning("watermark refresh failed", error=str(exc), failures=failures)
            except Exception:  # a bug must not stop delivery for the life of the process
                failures += 1
                log.exception("watermark refresh crashed", failures=failures)

    async def _listen_loop(self) -> None:
        delay = _RECONNECT_FIRST
        while not self._stopping.is_set():
            conn: asyncpg.Connection | None = None
            try:
                assert self._listen is not None
                conn = await self._listen()
                lost = asyncio.Event()
                conn.add_termination_listener(_setter(lost))
                await conn.add_listener(NOTIFY_CHANNEL, self._notified)
                self.listener_connects += 1
                self.listener_pid = conn.get_server_pid()
                delay = _RECONNECT_FIRST
                self._poke.set()  # commits may have landed while we were not listening
                stop = asyncio.ensure_future(self._stopping.wait())
                dropped = asyncio.ensure_future(lost.wait())
                try:
                    await asyncio.wait({stop, dropped}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stop.cancel()
                    dropped.cancel()
                if not self._stopping.is_set():
                    log.warning("LISTEN connection lost; reconnecting")
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("LISTEN connection failed", error=str(exc), retry_in=delay)
            finally:
                self.listener_pid = None
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            if self._stopping.is_set():
                break
            # Polling goes on meanwhile; jitter keeps a fleet of sidecars from reconnecting in step.
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(_RECONNECT_MAX, delay * 2)

    def _notified(self, _conn: object, _pid: int, _channel: str, _payload: str) -> None:
        self._poke.set()


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _conn: event.set()
