"""Replaying dead letters the CLI marked ``replay_requested`` (spec/coordinator.md §8).

Release 1 replays command dead letters (a MANUAL sequence mismatch, a revocation sent to the queue):
the command goes through ``HandleCommand`` again, over the runtime's own listener, so it takes exactly
the path a client's command takes. ``dlq replay --rebase`` (metadata ``angzarr.replay.rebase``) first
restamps the first page with the aggregate's current next sequence. The row becomes ``replayed``, or
``open`` again with the new failure as ``last_error``. Other kinds (reaction entries, rejection notices,
poison events) are left to the reactions runtime (``angzarr_coordinator.reactions.replay``).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import grpc
import structlog

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, types_pb2
from angzarr_coordinator.inspect import REPLAY_REBASE_KEY
from angzarr_coordinator.store.base import AggregateKey, DeadLetterRecord, EventStore, StoreError

log = structlog.get_logger("angzarr.replay")

POLL_SECONDS = 0.5
REPLAYABLE = ("command_handler",)


class DeadLetterReplayer:
    """Polls for requested replays and performs them through ``target`` (a listener of ours)."""

    def __init__(self, store: EventStore, target: str, *, timeout: float = 30.0) -> None:
        self._store = store
        self._target = target
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        async with grpc.aio.insecure_channel(self._target) as channel:
            stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
            while True:
                try:
                    for record in await self._store.list_dead_letters("replay_requested"):
                        await self.replay(stub, record)
                except StoreError as e:
                    log.warning("replay_poll_failed", error=str(e))
                await asyncio.sleep(POLL_SECONDS)

    async def replay(self, stub: command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub,
                     record: DeadLetterRecord) -> None:
        letter = record.letter
        if letter.source_component_type not in REPLAYABLE or not letter.HasField("rejected_command"):
            return  # reaction entries, notices and poison events: the reactions runtime replays them
        book = types_pb2.CommandBook()
        book.CopyFrom(letter.rejected_command)
        rebase = letter.metadata.get(REPLAY_REBASE_KEY) == "true"
        if rebase and book.pages:
            key = AggregateKey(book.cover.domain, uuid.UUID(bytes=book.cover.root.value))
            book.pages[0].header.sequence = await self._store.next_sequence(key)
        try:
            await stub.HandleCommand(types_pb2.CommandRequest(command=book), timeout=self._timeout)
        except grpc.aio.AioRpcError as e:
            error = f"{e.code().name}: {e.details()}"
            await self._store.update_dead_letter(record.id, status="open", last_error=error, attempted=True)
            log.warning("replay_failed", dead_letter=record.id, error=error)
            return
        await self._store.update_dead_letter(record.id, status="replayed", attempted=True)
        log.info("replayed", dead_letter=record.id, domain=book.cover.domain, rebase=rebase)
