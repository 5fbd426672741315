"""Replaying dead letters the CLI marked ``replay_requested`` (spec/coordinator.md §8).

The CLI only marks rows; the coordinator hosting the component or domain replays them and records
``replayed`` or the new failure (status back to ``open`` with the error). The CLI runs in another
process, so requests are picked up by a light poll (every half second); nothing is auto-deleted.

| letter | replay |
|---|---|
| poison event at a subscriber (``rejected_events`` + subscriber) | deliver the book to that subscriber only |
| outbox entry (metadata ``angzarr.outbox.kind``) | redispatch with the original reaction id |
| no compensation (source type ``compensation``) | resend the rejection notice |

MANUAL mismatches and revocations (``command_handler``) are replayed through HandleCommand by
``angzarr_coordinator.replay``.
"""

from __future__ import annotations

import asyncio
import contextlib

import grpc
import structlog

from angzarr_client.handlers import notification_command_book, rejection_notification
from angzarr_client.proto.angzarr import types_pb2

from ..deadletters import COMPONENT_AGGREGATE, COMPONENT_COMPENSATION
from ..richerror import RpcFailure
from ..store.base import CommitRecord, DeadLetterRecord, StoreError
from .letters import OUTBOX_KIND_KEY, REACTION_ID_KEY
from .records import PROJECTOR, SAGA, DeliveryError, describe, key_of_cover

log = structlog.get_logger("angzarr.replay")

POLL_SECONDS = 0.5


class Replayer:
    def __init__(self, runtime) -> None:
        self.rt = runtime
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dead-letter-replay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                for record in await self.rt.store.list_dead_letters("replay_requested"):
                    if self.hosts(record):
                        await self.replay(record)
            except StoreError as exc:
                log.warning("dead-letter replay: store error", error=str(exc))
            await asyncio.sleep(POLL_SECONDS)

    def hosts(self, record: DeadLetterRecord) -> bool:
        """Whether this process replays the letter: reaction letters of a subscriber it hosts (or of
        any subscriber when it hosts the whole topology); command letters are the command path's."""
        letter = record.letter
        if letter.source_component_type == COMPONENT_AGGREGATE and not letter.metadata.get(OUTBOX_KIND_KEY):
            return False  # MANUAL mismatches and revocations: replayed through HandleCommand (replay.py)
        sidecar = self.rt.routes.sidecar_domain
        if record.subscriber:
            return sidecar is None or self.rt.subscriber_of(record.subscriber) is not None
        return sidecar is None or letter.cover.domain == sidecar

    async def replay(self, record: DeadLetterRecord) -> None:
        try:
            await self._replay(record)
        except (RpcFailure, DeliveryError) as exc:
            error = describe(exc.code, exc.message)
            await self.rt.store.update_dead_letter(record.id, status="open", last_error=error, attempted=True)
            log.info("dead letter replay failed", letter_id=record.id, error=error)
            return
        await self.rt.store.update_dead_letter(record.id, status="replayed", attempted=True)
        log.info("dead letter replayed", letter_id=record.id)

    async def _replay(self, record: DeadLetterRecord) -> None:
        """Raises ``RpcFailure``/``DeliveryError`` with the new failure."""
        letter = record.letter
        kind = letter.metadata.get(OUTBOX_KIND_KEY)
        if kind:
            request = (letter.rejected_events if letter.HasField("rejected_events")
                       else letter.rejected_command).SerializeToString()
            sent = await self.rt.sender.send(kind, request, letter.metadata.get(REACTION_ID_KEY, ""), 0, 0)
            if not sent.ok:
                raise RpcFailure(sent.code, sent.message)
            return
        if record.subscriber and letter.HasField("rejected_events"):
            await self._redeliver(record.subscriber, letter.rejected_events)
            return
        if letter.source_component_type == COMPONENT_COMPENSATION:
            notice = rejection_notification(letter.rejected_command, letter.rejection_reason)
            notice.cover.CopyFrom(letter.cover)
            reply = await self.rt.compensations.handle(
                types_pb2.CommandRequest(command=notification_command_book(notice)))
            if reply.WhichOneof("result") == "revocation":
                raise RpcFailure(grpc.StatusCode.FAILED_PRECONDITION,
                                 "no compensation: still no rejection handler matched")
            return
        raise RpcFailure(grpc.StatusCode.UNIMPLEMENTED, "this dead letter has no replay path")

    async def _redeliver(self, subscriber_key: str, book: types_pb2.EventBook) -> None:
        """Deliver a poison commit to its subscriber only (progress already moved past it)."""
        sub = self.rt.subscriber_of(subscriber_key)
        if sub is None:
            raise RpcFailure(grpc.StatusCode.NOT_FOUND,
                             f"no subscriber '{subscriber_key}' in this topology; nothing to deliver the events to")
        if sub.kind == PROJECTOR:
            await self.rt.projector(sub).call(book)
            return
        key = key_of_cover(book.cover)
        commit = CommitRecord(key, book.cover.correlation_id, list(book.pages), 0, 0)
        if sub.kind == SAGA:
            await self.rt.saga(sub)._react_one(commit, 0, 0, None, False)
        else:
            await self.rt.pm(sub).react_to(book, key, commit.last_sequence, 0, 0, None, False, progress=False)
        self.rt.wake_dispatcher(sub.reactor)
