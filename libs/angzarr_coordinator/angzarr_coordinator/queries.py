"""EventQueryService: stored events by aggregate or correlation id (spec/coordinator.md §5.1).

Queries return stored bytes (never upcast, never snapshots); every book carries its aggregate's true
``next_sequence``. ``GetEvents`` streams large aggregates in consecutive chunks of at most
``CHUNK_PAGES`` pages or ``CHUNK_BYTES`` bytes with the same cover; ``GetEventBook`` refuses a book
over the message limit with ``RESOURCE_EXHAUSTED``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf import empty_pb2

from angzarr_client.proto.angzarr import query_pb2_grpc, types_pb2

from .page_runs import page_runs
from .richerror import RpcFailure
from .store.base import AggregateKey, EventStore
from .topology import Limits
from .validation import QuerySpec, query_spec

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHUNK_PAGES = 1000
CHUNK_BYTES = 1024 * 1024


def _cover(key: AggregateKey, correlation_id: str | None) -> types_pb2.Cover:
    return types_pb2.Cover(
        domain=key.domain, root=types_pb2.UUID(value=key.root.bytes), correlation_id=correlation_id or ""
    )


def _selected(page: types_pb2.EventPage, spec: QuerySpec) -> bool:
    seq = page.header.sequence
    if seq < spec.lower or (spec.upper is not None and seq > spec.upper):
        return False
    if spec.sequences is not None and seq not in spec.sequences:
        return False
    if spec.as_of_time is not None:
        # Compared in nanoseconds like the store does: any stored created_at compares, even one a
        # handler set outside the datetime range.
        created = page.created_at.seconds * 1_000_000_000 + page.created_at.nanos
        if created > _ns(spec.as_of_time):
            return False
    return True


def _ns(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def chunks(pages: list[types_pb2.EventPage]) -> list[list[types_pb2.EventPage]]:
    """Split pages into runs of at most ``CHUNK_PAGES`` pages and ``CHUNK_BYTES`` bytes (a lone page
    bigger than that still goes alone)."""
    return page_runs(pages, CHUNK_BYTES, CHUNK_PAGES)


class EventQueries:
    """The query logic, independent of the servicer so the CLI and tests can reuse it."""

    def __init__(self, store: EventStore, limits: Limits, known_domains: frozenset[str]) -> None:
        self.store = store
        self.limits = limits
        self.known = known_domains

    def spec(self, query: types_pb2.Query) -> QuerySpec:
        return query_spec(query, self.limits, self.known)

    async def books(self, spec: QuerySpec) -> AsyncIterator[types_pb2.EventBook]:
        """Every matching book, large ones in chunks (what ``GetEvents`` streams)."""
        if spec.key is not None:
            async for book in self._aggregate_chunks(spec.key, spec):
                yield book
            return
        for key, pages in await self.store.by_correlation(spec.correlation_id, domain=spec.domain, root=spec.root):
            selected = [p for p in pages if _selected(p, spec)]
            next_sequence = await self.store.next_sequence(key)
            cover = _cover(key, spec.correlation_id)
            for run in chunks(selected) or [[]]:
                yield types_pb2.EventBook(cover=cover, pages=run, next_sequence=next_sequence)

    async def _aggregate_chunks(self, key: AggregateKey, spec: QuerySpec) -> AsyncIterator[types_pb2.EventBook]:
        cover = _cover(key, None)
        cursor = spec.lower
        sent = False
        while True:
            loaded = await self.store.load(
                key,
                use_snapshot=False,
                from_sequence=cursor,
                to_sequence=spec.upper,
                as_of_time=spec.as_of_time,
                sequences=spec.sequences,
                limit=CHUNK_PAGES,
            )
            for run in chunks(loaded.pages):
                sent = True
                yield types_pb2.EventBook(cover=cover, pages=run, next_sequence=loaded.next_sequence)
            if len(loaded.pages) < CHUNK_PAGES:
                break
            cursor = loaded.pages[-1].header.sequence + 1
        if not sent:
            yield types_pb2.EventBook(cover=cover, next_sequence=loaded.next_sequence)

    async def book(self, spec: QuerySpec) -> types_pb2.EventBook:
        """One book: the aggregate, or the first aggregate of a correlation id (``GetEventBook``)."""
        if spec.key is not None:
            loaded = await self.store.load(
                spec.key,
                use_snapshot=False,
                from_sequence=spec.lower,
                to_sequence=spec.upper,
                as_of_time=spec.as_of_time,
                sequences=spec.sequences,
            )
            book = types_pb2.EventBook(cover=_cover(spec.key, None), pages=loaded.pages,
                                       next_sequence=loaded.next_sequence)
        else:
            found = await self.store.by_correlation(spec.correlation_id, domain=spec.domain, root=spec.root)
            if not found:
                book = types_pb2.EventBook(cover=types_pb2.Cover(correlation_id=spec.correlation_id))
            else:
                key, pages = found[0]
                book = types_pb2.EventBook(
                    cover=_cover(key, spec.correlation_id),
                    pages=[p for p in pages if _selected(p, spec)],
                    next_sequence=await self.store.next_sequence(key),
                )
        if book.ByteSize() > self.limits.max_message_bytes:
            raise RpcFailure(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"the event book is {book.ByteSize()} bytes, over the message limit of "
                f"{self.limits.max_message_bytes} bytes; use GetEvents or a range",
            )
        return book


class EventQueryServicer(query_pb2_grpc.EventQueryServiceServicer):
    """gRPC face of ``EventQueries``; ``guard`` wraps each call (draining, error mapping)."""

    def __init__(self, queries: EventQueries, guard) -> None:
        self.queries = queries
        self.guard = guard

    async def GetEventBook(self, request, context):
        async with self.guard(context, "GetEventBook"):
            return await self.queries.book(self.queries.spec(request))

    async def GetEvents(self, request, context):
        async with self.guard(context, "GetEvents"):
            spec = self.queries.spec(request)
            async for book in self.queries.books(spec):
                await context.write(book)

    async def Synchronize(self, request_iterator, context):
        async with self.guard(context, "Synchronize"):
            async for query in request_iterator:
                spec = self.queries.spec(query)
                async for book in self.queries.books(spec):
                    await context.write(book)

    async def GetAggregateRoots(self, request: empty_pb2.Empty, context):
        async with self.guard(context, "GetAggregateRoots"):
            for key in await self.queries.store.aggregate_roots():
                await context.write(types_pb2.AggregateRoot(domain=key.domain, root=types_pb2.UUID(value=key.root.bytes)))
