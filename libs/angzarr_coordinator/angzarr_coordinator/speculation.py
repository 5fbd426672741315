"""HandleSyncSpeculative: what a command would do, persisting nothing (spec/coordinator.md §3.7).

The handler decides against the current state or a point in the past (``as_of_sequence``: pages up
to N, a snapshot at or below N may seed them; ``as_of_time``: pages created up to T). No sequence
check, dedupe or lock; the would-be pages are stamped from that point's next sequence and shown to the
domain's projectors' ``HandleSpeculative`` (those answering ``UNIMPLEMENTED`` are skipped). Nothing is
stored, published or dead-lettered.
"""

from __future__ import annotations

import grpc

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2

from .aggregates import response_cover
from .cache import AggregateState
from .pipeline import CommandPipeline, normalised
from .richerror import RpcFailure
from .stamping import new_pages, stamp
from .store.base import AggregateKey, Loaded
from .validation import timestamp_to_datetime


def point_next_sequence(loaded: Loaded) -> int:
    """Next sequence as of the loaded point: last page + 1, else snapshot + 1, else 0."""
    if loaded.pages:
        return loaded.pages[-1].header.sequence + 1
    if loaded.snapshot is not None:
        return loaded.snapshot.sequence + 1
    return 0


class Speculation:
    def __init__(self, pipeline: CommandPipeline) -> None:
        self.pipeline = pipeline

    async def speculate(self, request: command_handler_pb2.SpeculateCommandHandlerRequest) -> command_handler_pb2.CommandResponse:
        """Run a command without effects. Raises ``RpcFailure`` per §3.4 (minus sequence rows)."""
        p = self.pipeline
        target = p.target_of(request.command)
        book = normalised(request.command)
        endpoint = p.routes.endpoint(target.key.domain)
        state = await self._state(target.key, request)
        context = await p.aggregates.context_book(target.key, state, book.cover)
        reply = await p.channels.handle(
            target.key.domain, endpoint, types_pb2.ContextualCommand(events=context, command=book)
        )
        if reply.WhichOneof("result") == "revocation":
            raise RpcFailure(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"Command revoked: {reply.revocation.reason or 'no reason given'}",
            )
        pages = stamp(new_pages(reply, list(context.pages)), state.next_sequence)
        events = types_pb2.EventBook(
            cover=response_cover(book.cover, book.cover.correlation_id),
            pages=pages,
            next_sequence=state.next_sequence + len(pages),
        )
        response = command_handler_pb2.CommandResponse(events=events)
        if pages:
            for name, projector_endpoint in p.routes.projector_endpoints(target.key.domain):
                projection = await p.channels.project_speculative(projector_endpoint, events)
                if projection is not None:
                    if not projection.projector:
                        projection.projector = name
                    response.projections.append(projection)
        return response

    async def _state(
        self, key: AggregateKey, request: command_handler_pb2.SpeculateCommandHandlerRequest
    ) -> AggregateState:
        p = self.pipeline
        point = request.point_in_time.WhichOneof("point_in_time") if request.HasField("point_in_time") else None
        if point is None:
            # From the store, not the cache: another replica may have written (§3.7: current state).
            state, _ = await p.aggregates.load(key, fresh=True, remember=False)
            return state
        if point == "as_of_sequence":
            use_snapshot = p.aggregates.snapshots_read(key.domain)
            loaded = await p.store.load(
                key, use_snapshot=use_snapshot, to_sequence=request.point_in_time.as_of_sequence
            )
        else:
            moment = timestamp_to_datetime(request.point_in_time.as_of_time)
            loaded = await p.store.load(key, use_snapshot=False, as_of_time=moment)
        snapshot = loaded.snapshot if point == "as_of_sequence" else None
        pages = list(loaded.pages)
        if snapshot is not None and pages and pages[0].header.sequence <= snapshot.sequence:
            pages = [pg for pg in pages if pg.header.sequence > snapshot.sequence]
        loaded = Loaded(key, snapshot, pages, loaded.next_sequence)
        return AggregateState(snapshot, pages, point_next_sequence(loaded))
