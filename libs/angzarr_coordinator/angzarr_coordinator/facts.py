"""HandleEvent: injecting facts, idempotent by external id (spec/coordinator.md §3.6).

A fact is stored as given (release 1 does not route it to the handler): pages are re-stamped from the
aggregate's ``next_sequence``, the external id is recorded in the same transaction, and a repeat or a
lost key race returns the first commit with ``already_processed``.
"""

from __future__ import annotations

import asyncio
import uuid

import grpc

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2

from .downstream import sync_window
from .observability import tracer
from .pipeline import CommandPipeline, backoff
from .richerror import RpcFailure
from .stamping import stamp
from .store.base import CommitRecord, DuplicateCommit, NewCommit, SequenceConflict
from .validation import fact_target, sync_mode


class Facts:
    def __init__(self, pipeline: CommandPipeline) -> None:
        self.pipeline = pipeline

    async def handle(self, request: types_pb2.EventRequest) -> command_handler_pb2.FactInjectionResponse:
        """Store a fact once. Raises ``RpcFailure`` (nothing stored) per §3.6."""
        p = self.pipeline
        target = fact_target(request.events, p.limits, p.routes.known_domains)
        if p.routes.sidecar_domain is not None and target.key.domain != p.routes.sidecar_domain:
            raise RpcFailure(
                grpc.StatusCode.NOT_FOUND,
                f"this coordinator takes facts for domain '{p.routes.sidecar_domain}' only, "
                f"not '{target.key.domain}'",
            )
        key = target.key
        cover = types_pb2.Cover()
        cover.CopyFrom(request.events.cover)
        cover.correlation_id = target.correlation_id or str(uuid.uuid4())
        async with sync_window(p.downstream, key, sync_mode(request.sync_mode)):
            with tracer.start_as_current_span("fact.inject", attributes={"angzarr.domain": key.domain}):
                existing = await p.store.find_external(key, target.external_id)
                if existing is not None:
                    return await self._response(existing, cover, already=True)
                async with p.stripes.lock(key):
                    record, lost_race = await self._append(key, target.external_id, request.events.pages, cover)
            if lost_race:  # a concurrent injection of the same fact stored it first
                return await self._response(record, cover, already=True)
            response = await self._response(record, cover, already=False)
            result = await p.downstream.after_commit(
                record, response.events, sync_mode(request.sync_mode), types_pb2.CASCADE_ERROR_DEAD_LETTER
            )
        response.projections.extend(result.projections)
        response.cascade_books.extend(result.cascade_books)
        return response

    async def _append(self, key, external_id: str, pages, cover: types_pb2.Cover) -> tuple[CommitRecord, bool]:
        """Append with sequence races re-stamped; return the commit and whether another one won."""
        p = self.pipeline
        fresh = False
        for attempt in range(1, p.limits.commutative_max_attempts + 1):
            state, _ = await p.aggregates.load(key, fresh=fresh)
            commit = NewCommit(
                key=key,
                expected_next_sequence=state.next_sequence,
                pages=stamp(pages, state.next_sequence),
                correlation_id=cover.correlation_id,
                external_id=external_id,
            )
            try:
                record = await p._append(commit)
            except SequenceConflict:
                p.aggregates.cache.discard(key)
                fresh = True
                await asyncio.sleep(backoff(attempt))
                continue
            except DuplicateCommit as dup:
                return dup.existing, True
            p.aggregates.after_commit(key, state, record)
            return record, False
        raise RpcFailure(
            grpc.StatusCode.ABORTED,
            f"Sequence conflict: {key.domain}/{key.root} kept moving during {p.limits.commutative_max_attempts} "
            "attempts to store the fact; nothing was stored, retry later",
        )

    async def _response(
        self, record: CommitRecord, cover: types_pb2.Cover, *, already: bool
    ) -> command_handler_pb2.FactInjectionResponse:
        events = await self.pipeline.aggregates.commit_book(record, cover)
        return command_handler_pb2.FactInjectionResponse(events=events, already_processed=already)
