"""Per-(subscriber, aggregate) delivery locks (spec/coordinator.md §6.6).

A synchronous request and the tailer both deliver under the lock, so each reads the progress, sends
exactly the commits after it and advances it: work happens once. A fixed set of stripes keeps memory
bounded; a lock is never held while another delivery lock is taken (reaction commands are dispatched
after release), so stripes shared by unrelated pairs cannot deadlock.
"""

from __future__ import annotations

import asyncio

from ..store.base import AggregateKey


class DeliveryLocks:
    def __init__(self, stripes: int = 1024) -> None:
        self._locks = [asyncio.Lock() for _ in range(stripes)]

    def lock(self, subscriber: str, key: AggregateKey) -> asyncio.Lock:
        return self._locks[hash((subscriber, key)) % len(self._locks)]
