"""Per-aggregate lock stripes and a bounded cache of loaded aggregates.

The cache holds what the store returned for an aggregate (newest snapshot, later pages, next sequence)
in its stored form, least recently used first out once ``capacity_bytes`` is exceeded. It is only a
shortcut: a stale entry (another coordinator wrote) is caught by the store's sequence check at append
time and reloaded. Lock stripes serialise commands on one aggregate within this process with a fixed
amount of memory, whatever the number of aggregates.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

from opentelemetry import metrics as otel_metrics

from angzarr_client.proto.angzarr import types_pb2

from .store.base import AggregateKey


@dataclass(slots=True)
class AggregateState:
    """An aggregate as the handler will see it (before upcasting)."""

    snapshot: types_pb2.Snapshot | None
    pages: list[types_pb2.EventPage]
    next_sequence: int
    snapshot_sequence: int | None = None  # newest stored snapshot, for DEFAULT retention
    nbytes: int = field(default=0)

    def measure(self) -> int:
        """Approximate size in bytes (computed once; ``extended`` keeps it current incrementally)."""
        if not self.nbytes:
            self.nbytes = 64 + page_bytes(self.pages) + (self.snapshot.ByteSize() if self.snapshot else 0)
        return self.nbytes

    def extended(self, pages: list[types_pb2.EventPage], next_sequence: int) -> AggregateState:
        """A new state with ``pages`` appended (this one is left as is for readers holding it)."""
        return AggregateState(
            self.snapshot, self.pages + pages, next_sequence, self.snapshot_sequence,
            self.measure() + page_bytes(pages),
        )


def page_bytes(pages: list[types_pb2.EventPage]) -> int:
    return sum(p.ByteSize() + 4 for p in pages)


_live_caches: weakref.WeakSet[AggregateCache] = weakref.WeakSet()
_gauge_lock = threading.Lock()
_gauge_registered = False


def _observe_cache_bytes(_options):
    yield otel_metrics.Observation(sum(cache.bytes for cache in list(_live_caches)))


def _register_gauge() -> None:
    """One ``angzarr.cache.bytes`` gauge per process, summing every live cache (§11)."""
    global _gauge_registered
    with _gauge_lock:
        if _gauge_registered:
            return
        otel_metrics.get_meter("angzarr").create_observable_gauge(
            "angzarr.cache.bytes", callbacks=[_observe_cache_bytes], unit="By",
            description="approximate bytes held by aggregate caches",
        )
        _gauge_registered = True


class AggregateCache:
    """LRU of ``AggregateState`` bounded by approximate serialized size."""

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self._entries: OrderedDict[AggregateKey, AggregateState] = OrderedDict()
        self.bytes = 0
        _live_caches.add(self)
        _register_gauge()

    def get(self, key: AggregateKey) -> AggregateState | None:
        state = self._entries.get(key)
        if state is not None:
            self._entries.move_to_end(key)
        return state

    def put(self, key: AggregateKey, state: AggregateState) -> None:
        self.discard(key)
        size = state.measure()
        # An aggregate bigger than an eighth of the cache would evict everything else for one reader.
        if size > self.capacity // 8:
            return
        self._entries[key] = state
        self.bytes += size
        while self.bytes > self.capacity and self._entries:
            _, old = self._entries.popitem(last=False)
            self.bytes -= old.nbytes

    def discard(self, key: AggregateKey) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old.nbytes

    def __len__(self) -> int:
        return len(self._entries)


class LockStripes:
    """A fixed set of asyncio locks; an aggregate always maps to the same one."""

    def __init__(self, stripes: int = 1024) -> None:
        self._locks = [asyncio.Lock() for _ in range(stripes)]

    def lock(self, key: AggregateKey) -> asyncio.Lock:
        return self._locks[hash(key) % len(self._locks)]
