"""The tailer: one per subscriber, delivering the global log from a durable checkpoint (§6.3, §6.5).

Loop: read at most 256 whole commits with ``checkpoint < position <= watermark`` from the listened
domains, deliver each in order (the delivery skips what the progress covers, §6.6), store the
checkpoint (never backwards), then sleep in ``wait_for_commit`` until the next commit — no polling
delay. Failures: an unreachable subscriber is retried forever with backoff (its lag grows);
retryable errors up to ``delivery_max_attempts``; poison at once; then a dead letter, the progress
moves past the commit and the next commit follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import structlog

from ..observability import metrics
from ..store.base import CommitRecord, Progress, StoreError
from . import letters
from .records import POISON, UNREACHABLE, DeliveryError, Subscriber, commit_book, retry_delay

log = structlog.get_logger("angzarr.tailer")

BATCH = 256
IDLE_WAIT_SECONDS = 1.0
CHECKPOINT_EVERY_SECONDS = 0.1

Deliver = Callable[[CommitRecord, int], Awaitable[object]]


class Tailer:
    def __init__(self, runtime, subscriber: Subscriber, deliver: Deliver,
                 skip: Callable[[CommitRecord], bool] | None = None) -> None:
        self.rt = runtime
        self.subscriber = subscriber
        self.deliver = deliver
        self.skip = skip
        self.checkpoint = 0
        self.state = "stopped"
        self.last_error = ""
        self._saved = 0
        self._saved_at = 0.0
        self._task: asyncio.Task | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"tailer:{self.subscriber.key}")

    async def stop(self) -> None:
        """Stop at a commit boundary and save the checkpoint."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        with contextlib.suppress(StoreError):
            await self._save(force=True)
        self.state = "stopped"

    async def _run(self) -> None:
        key = self.subscriber.key
        while not self._stopping:
            try:
                self.checkpoint = self._saved = await self.rt.store.get_checkpoint(key)
                break
            except StoreError as exc:
                self.last_error = str(exc)
                await asyncio.sleep(1.0)
        while not self._stopping:
            try:
                self.state = "running"
                watermark = await self.rt.store.watermark()
                commits = await self.rt.store.read_log(self.checkpoint, domains=self.subscriber.listen, limit=BATCH)
                self._report_lag(watermark, commits[0] if commits else None)
                for commit in commits:
                    await self._deliver(commit)
                    self.checkpoint = max(self.checkpoint, commit.last_position)
                    await self._save()
                if len(commits) < BATCH:
                    # read_log saw every matching commit up to a watermark >= this one
                    self.checkpoint = max(self.checkpoint, watermark)
                    await self._save(force=True)
                    self.state = "idle"
                    await self.rt.store.wait_for_commit(self.checkpoint, IDLE_WAIT_SECONDS)
            except asyncio.CancelledError:
                raise
            except StoreError as exc:
                self.state, self.last_error = "store unavailable", str(exc)
                log.warning("tailer store error", subscriber=key, error=str(exc))
                await asyncio.sleep(1.0)
            except Exception as exc:  # noqa: BLE001 - our bug: say so, back off, keep the subscriber alive
                self.state, self.last_error = "error", f"{type(exc).__name__}: {exc}"
                log.exception("tailer failed", subscriber=key)
                await asyncio.sleep(1.0)

    def _report_lag(self, watermark: int, oldest: CommitRecord | None) -> None:
        """``angzarr.subscriber.lag.*``: positions behind the watermark, age of the next commit."""
        attrs = {"subscriber": self.subscriber.key}
        metrics.subscriber_lag_events.set(max(0, watermark - self.checkpoint) if oldest else 0, attrs)
        seconds = 0.0
        if oldest is not None and oldest.pages and oldest.pages[0].HasField("created_at"):
            created = oldest.pages[0].created_at
            seconds = max(0.0, time.time() - (created.seconds + created.nanos / 1e9))
        metrics.subscriber_lag_seconds.set(seconds, attrs)

    async def _save(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.checkpoint > self._saved and (force or now - self._saved_at >= CHECKPOINT_EVERY_SECONDS):
            await self.rt.store.set_checkpoint(self.subscriber.key, self.checkpoint)
            self._saved, self._saved_at = self.checkpoint, now

    async def _deliver(self, commit: CommitRecord) -> None:
        """Deliver with retries; dead-letter poison or exhausted commits and move past them."""
        if self.skip is not None and self.skip(commit):
            return
        await self.rt.sync_settled(commit.key)  # a synchronous request delivers its own commit
        attempt = 0
        while True:
            try:
                await self.deliver(commit, commit.last_position)
                self.last_error = ""
                return
            except DeliveryError as exc:
                self.last_error = str(exc)
                kind = exc.kind
                if kind == UNREACHABLE:
                    attempt += 1
                    self.state = "waiting for subscriber"
                    await asyncio.sleep(retry_delay(min(attempt, 10)))
                    continue
                attempt += 1
                if kind != POISON and attempt < self.rt.limits.delivery_max_attempts:
                    self.state = "retrying"
                    await asyncio.sleep(retry_delay(attempt))
                    continue
                letter_id = await letters.record_event(
                    self.rt, self.subscriber, commit_book(commit), exc.code, exc.message, attempt,
                    transient=kind != POISON,
                )
                log.warning("event dead-lettered", subscriber=self.subscriber.key, domain=commit.key.domain,
                            root=commit.key.root.hex, sequence=commit.last_sequence, letter_id=letter_id,
                            error=str(exc))
                await self.rt.store.set_progress(Progress(self.subscriber.key, commit.key, commit.last_sequence))
                return
