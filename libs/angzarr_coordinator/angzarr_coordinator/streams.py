"""EventStreamService.Subscribe: a correlation id's commits, history then live (spec/coordinator.md §5.2).

One cursor over the global log (``cursor < position <= watermark``, that correlation id) is read until
empty, then again after each new commit, so history and live traffic join with no gap or duplicate.
A slow client holds back only its own batch; nothing is dropped. Streams end with ``UNAVAILABLE`` at
shutdown.
"""

from __future__ import annotations

import asyncio

import grpc

from angzarr_client.proto.angzarr import stream_pb2_grpc, types_pb2

from .richerror import RpcFailure, invalid
from .store.base import CommitRecord, EventStore
from .validation import check_correlation_id

BATCH = 256
# Waiters re-check this often even without a wake-up, so shutdown is noticed promptly.
WAIT_SLICE = 0.5


def commit_book(commit: CommitRecord) -> types_pb2.EventBook:
    cover = types_pb2.Cover(
        domain=commit.key.domain,
        root=types_pb2.UUID(value=commit.key.root.bytes),
        correlation_id=commit.correlation_id,
    )
    return types_pb2.EventBook(cover=cover, pages=commit.pages, next_sequence=commit.last_sequence + 1)


class EventStreams(stream_pb2_grpc.EventStreamServiceServicer):
    def __init__(self, store: EventStore, max_streams: int, guard, stopping: asyncio.Event) -> None:
        self.store = store
        self.max_streams = max_streams
        self.guard = guard
        self.stopping = stopping
        self.active = 0

    async def Subscribe(self, request: types_pb2.EventStreamFilter, context):
        async with self.guard(context, "Subscribe"):
            correlation_id = request.correlation_id
            if not correlation_id:
                raise invalid("Subscribe needs a correlation id (EventStreamFilter.correlation_id)")
            check_correlation_id(correlation_id)
            if self.active >= self.max_streams:
                raise RpcFailure(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"{self.active} streams are open, the limit is {self.max_streams}; retry later",
                )
            self.active += 1
            try:
                await self._follow(correlation_id, context)
            finally:
                self.active -= 1

    async def _follow(self, correlation_id: str, context) -> None:
        cursor = 0
        while not self.stopping.is_set():
            seen = await self.store.watermark()
            commits = await self.store.read_log(cursor, correlation_id=correlation_id, limit=BATCH)
            for commit in commits:
                await context.write(commit_book(commit))
                cursor = max(cursor, commit.last_position)
            if commits:
                continue
            # Nothing new up to ``seen`` (read_log never passes the watermark): wait for a commit.
            await self.store.wait_for_commit(seen, WAIT_SLICE)
        raise RpcFailure(grpc.StatusCode.UNAVAILABLE, "the coordinator is shutting down; resubscribe elsewhere")
