"""Delivering commits to projectors (spec/coordinator.md §4.4, §6.6).

A projector gets, per aggregate, one ``EventBook`` holding every page after its progress up to the
commit being delivered, in order and gap-free; progress advances after success. The newest
``Projection`` per (projector, aggregate) is kept in a capped LRU so a SIMPLE request the tailer beat
still returns the projection.

In standalone mode (one process owns the store), each delivery also remembers, in memory, the sequence it delivered per aggregate (a capped LRU). The
next delivery to the same aggregate starts from there without reading the store first, and the durable
progress write runs in the background instead of holding up the next delivery: one store round trip and
one fsync wait less per commit on the tailer's serial path. A crash before that write lands only
redelivers, which the projector tolerates (§6.4; the crash window of §6.6). The store stays
authoritative: whenever memory would make a delivery reload earlier pages (progress moved elsewhere,
e.g. past a dead-lettered commit, or nothing is remembered), the stored progress is read as before.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

import structlog

from angzarr_client.proto.angzarr import types_pb2

from ..observability import metrics, tracer
from ..richerror import RpcFailure
from ..store.base import AggregateKey, CommitRecord, Progress, StoreError
from .records import DeliveryError, Subscriber, commit_cover

log = structlog.get_logger("angzarr.projector")

PROJECTION_LRU = 10_000
DELIVERED_LRU = 100_000  # aggregates whose delivered sequence one projector remembers
MAX_PENDING_PROGRESS_WRITES = 256  # beyond this, a delivery waits for its own progress write


class Projections:
    """The newest projection per (projector, aggregate), at most ``capacity`` of them."""

    def __init__(self, capacity: int = PROJECTION_LRU) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[str, AggregateKey], types_pb2.Projection] = OrderedDict()

    def put(self, subscriber: str, key: AggregateKey, projection: types_pb2.Projection) -> None:
        self._items[(subscriber, key)] = projection
        self._items.move_to_end((subscriber, key))
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, subscriber: str, key: AggregateKey, at_least: int) -> types_pb2.Projection | None:
        projection = self._items.get((subscriber, key))
        return projection if projection is not None and projection.sequence >= at_least else None


class ProjectorDelivery:
    """Delivers to one projector with the progress rules; shared by requests and the tailer."""

    def __init__(self, runtime, subscriber: Subscriber) -> None:
        self.rt = runtime
        self.subscriber = subscriber
        self._delivered: OrderedDict[AggregateKey, int] = OrderedDict()
        self._writes: set[asyncio.Task] = set()
        # Only a process that is the store's sole deliverer may trust its memory: standalone (SQLite's
        # process lock). A sidecar may have replicas delivering too, so it reads and writes the store
        # on every delivery as before.
        self._remembers = runtime.coordinator.routes.sidecar_domain is None

    async def deliver(self, commit: CommitRecord) -> types_pb2.Projection | None:
        """Deliver ``commit`` (and any earlier undelivered pages of its aggregate).

        Returns the projection, or the cached one when the commit was already delivered (``None`` if
        it has left the cache). Raises ``DeliveryError``; progress is then unchanged.
        """
        sub, key = self.subscriber, commit.key
        async with self.rt.locks.lock(sub.key, key):
            progress = await self._progress(key, commit.first_sequence)
            if progress is not None and progress >= commit.last_sequence:
                return self.rt.projections.get(sub.key, key, commit.last_sequence)
            start = 0 if progress is None else progress + 1
            pages = list(commit.pages)
            if start < commit.first_sequence:  # earlier commits are still undelivered: send them first
                loaded = await self.rt.store.load(
                    key, use_snapshot=False, from_sequence=start, to_sequence=commit.last_sequence
                )
                pages = list(loaded.pages)
            elif start > commit.first_sequence:
                pages = [p for p in pages if p.header.sequence >= start]
            book = types_pb2.EventBook(cover=commit_cover(commit), next_sequence=commit.last_sequence + 1)
            book.pages.extend(await self.upcast(key.domain, pages))
            projection = await self.call(book)
            self._remember(key, commit.last_sequence)
            await self._store_progress(Progress(sub.key, key, commit.last_sequence))
            self.rt.projections.put(sub.key, key, projection)
            return projection

    async def _progress(self, key: AggregateKey, first_sequence: int) -> int | None:
        """The delivered sequence of ``key``: remembered when it leads straight to ``first_sequence``,
        else the store's (or the larger of both). Raises ``StoreError``."""
        if not self._remembers:
            return await self.rt.store.get_progress(self.subscriber.key, key)
        known = self._delivered.get(key)
        if known is not None and known >= first_sequence - 1:
            return known
        stored = await self.rt.store.get_progress(self.subscriber.key, key)
        if known is None:
            return stored
        return known if stored is None else max(known, stored)

    def _remember(self, key: AggregateKey, sequence: int) -> None:
        if not self._remembers:
            return
        if sequence > self._delivered.get(key, -1):
            self._delivered[key] = sequence
        self._delivered.move_to_end(key)
        while len(self._delivered) > DELIVERED_LRU:
            self._delivered.popitem(last=False)

    async def _store_progress(self, progress: Progress) -> None:
        """Write the progress in the background (waits only while too many writes are pending)."""
        if not self._remembers or len(self._writes) >= MAX_PENDING_PROGRESS_WRITES:
            await self._write_progress(progress)
            return
        task = asyncio.create_task(self._write_progress(progress))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write_progress(self, progress: Progress) -> None:
        try:
            await self.rt.store.set_progress(progress)
        except StoreError as exc:
            # Memory still knows the delivery; after a restart the commit is delivered again (§6.4).
            log.warning("projector progress not stored", subscriber=progress.subscriber,
                        domain=progress.key.domain, root=progress.key.root.hex, sequence=progress.sequence,
                        error=str(exc))

    async def upcast(self, domain: str, pages: list[types_pb2.EventPage]) -> list[types_pb2.EventPage]:
        try:
            return await self.rt.aggregates.upcasters.upcast(domain, pages)
        except RpcFailure as failure:
            raise DeliveryError(failure.code, failure.message) from None

    async def call(self, book: types_pb2.EventBook) -> types_pb2.Projection:
        """``ProjectorService.Handle`` under a ``projector.handle`` span. Raises ``DeliveryError``."""
        sub = self.subscriber
        started = time.perf_counter()
        outcome = "error"
        attrs = {"angzarr.domain": book.cover.domain, "angzarr.root": book.cover.root.value.hex(),
                 "angzarr.correlation_id": book.cover.correlation_id, "angzarr.subscriber": sub.key}
        try:
            with tracer.start_as_current_span("projector.handle", attributes=attrs):
                projection = await self.rt.calls.project(sub, book)
            outcome = "ok"
        finally:
            metrics.projector_duration.record(
                (time.perf_counter() - started) * 1000, {"projector": sub.name, "outcome": outcome}
            )
        if not projection.projector:
            projection.projector = sub.name
        return projection
