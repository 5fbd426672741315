"""Loading aggregates for handlers: cache, store, snapshots and upcasting (spec/coordinator.md §3.1, §7).

``Aggregates`` is the one place that knows how an aggregate is read for a handler (newest snapshot
plus later pages, unless the domain turned snapshot reads off), how the cache follows a commit, and
how the books of responses and rich errors are built from stored state.
"""

from __future__ import annotations

import time

from angzarr_client.proto.angzarr import types_pb2

from .cache import AggregateCache, AggregateState
from .observability import metrics, tracer
from .store.base import AggregateKey, CommitRecord, EventStore
from .topology import Topology
from .upcasting import Upcasters

# Pages read for the book attached to a sequence error; more never fit its 4 KiB.
DETAIL_PAGES = 256


def response_cover(cover: types_pb2.Cover, correlation_id: str) -> types_pb2.Cover:
    """The cover of a response: the command's domain and root, the effective correlation id, no edition."""
    return types_pb2.Cover(domain=cover.domain, root=cover.root, correlation_id=correlation_id)


class Aggregates:
    def __init__(
        self,
        store: EventStore,
        topology: Topology,
        cache: AggregateCache,
        upcasters: Upcasters,
        max_message_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.store = store
        self.cache = cache
        self.upcasters = upcasters
        self._snapshot_reads = {
            s.command_handler.domain: s.command_handler.snapshots_read for s in topology.services if s.command_handler
        }
        self._replay_when_oversized = frozenset(
            s.command_handler.domain
            for s in topology.services
            if s.command_handler and s.command_handler.snapshots_replay_when_oversized
        )
        self.max_message_bytes = max_message_bytes

    def snapshots_read(self, domain: str) -> bool:
        return self._snapshot_reads.get(domain, True)

    def oversized(self, domain: str, state: AggregateState, command: types_pb2.CommandBook) -> bool:
        """Whether the domain folds this context with ``Replay`` because it would not fit a message."""
        return (
            domain in self._replay_when_oversized
            and bool(state.pages)
            and state.measure() + command.ByteSize() > self.max_message_bytes
        )

    async def load(
        self, key: AggregateKey, *, fresh: bool = False, remember: bool = True
    ) -> tuple[AggregateState, bool]:
        """The aggregate's current state and whether it came from the cache (``fresh`` skips it).

        Only callers holding the aggregate's lock may ``remember`` what they read: an unlocked
        reader could otherwise put back a state older than a commit that just landed."""
        if not fresh:
            cached = self.cache.get(key)
            if cached is not None:
                return cached, True
        use_snapshot = self.snapshots_read(key.domain)
        started = time.perf_counter()
        with tracer.start_as_current_span("aggregate.load", attributes={"angzarr.domain": key.domain}):
            loaded = await self.store.load(key, use_snapshot=use_snapshot)
        metrics.store_load_duration.record((time.perf_counter() - started) * 1000, {"domain": key.domain})
        snapshot_sequence = loaded.snapshot.sequence if loaded.snapshot is not None else None
        state = AggregateState(
            snapshot=loaded.snapshot if use_snapshot else None,
            pages=list(loaded.pages),
            next_sequence=loaded.next_sequence,
            snapshot_sequence=snapshot_sequence if use_snapshot else None,
        )
        if remember:
            self.cache.put(key, state)
        return state, False

    def after_commit(self, key: AggregateKey, before: AggregateState, commit: CommitRecord) -> AggregateState:
        """Update the cache with a commit appended on top of ``before``; return the new state."""
        if not commit.pages and commit.snapshot is None:
            return before
        next_sequence = commit.last_sequence + 1 if commit.pages else before.next_sequence
        if commit.snapshot is not None and self.snapshots_read(key.domain):
            state = AggregateState(commit.snapshot, [], next_sequence, commit.snapshot.sequence)
        else:
            state = before.extended(list(commit.pages), next_sequence)
        self.cache.put(key, state)
        return state

    async def context_book(self, key: AggregateKey, state: AggregateState, cover: types_pb2.Cover) -> types_pb2.EventBook:
        """The ``EventBook`` a handler decides on: snapshot and later pages, upcast when configured."""
        pages = await self.upcasters.upcast(key.domain, state.pages)
        book = types_pb2.EventBook(cover=cover, pages=pages, next_sequence=state.next_sequence)
        if state.snapshot is not None:
            book.snapshot.CopyFrom(state.snapshot)
        return book

    async def current_book(self, key: AggregateKey, cover: types_pb2.Cover, unseen_from: int) -> types_pb2.EventBook:
        """The stored state for a sequence error: true ``next_sequence`` and pages from ``unseen_from``."""
        loaded = await self.store.load(key, use_snapshot=False, from_sequence=unseen_from, limit=DETAIL_PAGES)
        return types_pb2.EventBook(
            cover=response_cover(cover, cover.correlation_id), pages=loaded.pages, next_sequence=loaded.next_sequence
        )

    async def next_sequence(self, key: AggregateKey) -> int:
        cached = self.cache.get(key)
        return cached.next_sequence if cached is not None else await self.store.next_sequence(key)

    async def commit_book(self, commit: CommitRecord, cover: types_pb2.Cover) -> types_pb2.EventBook:
        """A stored commit as a response book: pages as stored, the aggregate's current next sequence."""
        book = types_pb2.EventBook(
            cover=response_cover(cover, commit.correlation_id or cover.correlation_id),
            pages=commit.pages,
            next_sequence=await self.next_sequence(commit.key),
        )
        if commit.snapshot is not None:
            book.snapshot.CopyFrom(commit.snapshot)
        return book
