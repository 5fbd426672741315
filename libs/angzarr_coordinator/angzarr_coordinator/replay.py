"""Folding an oversized aggregate into a snapshot with ``CommandHandlerService.Replay`` (spec/coordinator.md §7).

When a domain sets ``snapshots.replay_when_oversized`` and the context a handler would receive is over
``max_message_bytes``, the pages are sent to ``Replay`` in chunks that fit, each call continuing from the
state the previous one returned. The result is stored as a TRANSIENT snapshot at the aggregate's last
sequence, so this command and later ones load the snapshot plus the pages after it.
"""

from __future__ import annotations

import grpc

from angzarr_client.proto.angzarr import command_handler_pb2, command_handler_pb2_grpc, types_pb2

from .cache import AggregateState
from .handlers import BusinessChannels, map_handler_error, trace_metadata
from .page_runs import page_runs
from .store.base import AggregateKey, EventStore, NewCommit, SequenceConflict
from .upcasting import Upcasters


def replay_chunks(pages: list[types_pb2.EventPage], budget: int) -> list[list[types_pb2.EventPage]]:
    """Consecutive runs of pages of at most ``budget`` bytes (a bigger lone page goes alone)."""
    return page_runs(pages, budget)


async def fold(
    key: AggregateKey,
    state: AggregateState,
    endpoint: str,
    channels: BusinessChannels,
    upcasters: Upcasters,
    store: EventStore,
    budget: int,
    timeout: float,
) -> AggregateState:
    """Replay ``state`` into a TRANSIENT snapshot, store it and return the folded state.

    Raises ``RpcFailure`` mapped from the handler's ``Replay`` errors (§3.3). If the aggregate moved
    meanwhile the snapshot is not stored (the next command folds again) but the folded state is
    still returned for this decision, which the append's sequence check then guards.
    """
    stub = command_handler_pb2_grpc.CommandHandlerServiceStub(channels.channel(endpoint))
    base = state.snapshot
    for run in replay_chunks(state.pages, budget):
        request = command_handler_pb2.ReplayRequest(events=await upcasters.upcast(key.domain, run))
        if base is not None:
            request.base_snapshot.CopyFrom(base)
        try:
            reply = await stub.Replay(request, timeout=timeout, metadata=trace_metadata())
        except grpc.aio.AioRpcError as err:
            raise map_handler_error(err, key.domain, endpoint, timeout) from None
        base = types_pb2.Snapshot(
            sequence=run[-1].header.sequence, state=reply.state, retention=types_pb2.RETENTION_TRANSIENT
        )
    if base is None or base is state.snapshot:
        return state
    try:
        await store.append(NewCommit(key, state.next_sequence, [], "", snapshot=base))
    except SequenceConflict:
        pass
    return AggregateState(base, [], state.next_sequence, base.sequence)
