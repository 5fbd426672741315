"""HandleCompensation: a rejection notice delivered to its source aggregate (spec/coordinator.md §3.8).

The notice (``Notification(RejectionNotification)`` as the first command page) is decided like any
command, without sequence checks, deduplicated by provenance. Events are appended; a reply without
pages is a handled notice; a revocation (no rejection handler matched) leaves a "no compensation"
dead letter. The handler's reply is returned unchanged except that ``events`` become the stored commit.
"""

from __future__ import annotations

import dataclasses

import structlog

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_client.typeurl import type_name_from_url

from . import deadletters
from .downstream import sync_window
from .observability import metrics
from .pipeline import COMMUTATIVE, CommandPipeline, normalised
from .richerror import invalid
from .validation import cascade_error_mode, check_cascade_id, sync_mode

log = structlog.get_logger("angzarr.compensation")

NOTIFICATION = "angzarr.Notification"
REJECTION = "angzarr.RejectionNotification"


def rejected_command(notice: types_pb2.Notification) -> types_pb2.CommandBook | None:
    """The command a rejection notice reports, if its payload is a ``RejectionNotification``."""
    if type_name_from_url(notice.payload.type_url) != REJECTION:
        return None
    rejection = types_pb2.RejectionNotification()
    try:
        rejection.ParseFromString(notice.payload.value)
    except Exception:  # noqa: BLE001 - a corrupt payload just means we cannot name the command
        return None
    return rejection.rejected_command


class Compensations:
    def __init__(self, pipeline: CommandPipeline) -> None:
        self.pipeline = pipeline

    async def handle(
        self, request: types_pb2.CommandRequest, reaction_id: str | None = None
    ) -> command_handler_pb2.BusinessResponse:
        """Apply a rejection notice. Raises ``RpcFailure`` (nothing stored) per §3.3/§3.4."""
        pipeline = self.pipeline
        target = pipeline.target_of(request.command, reaction_id)
        check_cascade_id(request)
        first = request.command.pages[0].command
        if type_name_from_url(first.type_url) != NOTIFICATION:
            raise invalid(
                "HandleCompensation expects an angzarr.Notification as the first command page, got "
                f"{first.type_url!r}"
            )
        notice = types_pb2.Notification()
        try:
            notice.ParseFromString(first.value)
        except Exception:  # noqa: BLE001 - protobuf raises DecodeError subclasses of Exception
            raise invalid("HandleCompensation: the angzarr.Notification payload cannot be decoded") from None
        # Strategy and sequence are ignored: a notice is always decided on the current state.
        target = dataclasses.replace(target, expected=None, strategy=COMMUTATIVE)
        book = normalised(request.command)
        async with sync_window(pipeline.downstream, target.key, sync_mode(request.sync_mode)):
            decided = await pipeline.decide(target, book)
            if decided.commit is not None:
                events = await pipeline.aggregates.commit_book(decided.commit, book.cover)
                if not decided.duplicate:
                    await pipeline.downstream.after_commit(
                        decided.commit, events, sync_mode(request.sync_mode),
                        cascade_error_mode(request.cascade_error_mode),
                    )
                return command_handler_pb2.BusinessResponse(events=events)
        reply = decided.reply or command_handler_pb2.BusinessResponse()
        if reply.WhichOneof("result") == "revocation":
            await self._unhandled(book, notice, reply.revocation)
        return reply

    async def _unhandled(
        self,
        book: types_pb2.CommandBook,
        notice: types_pb2.Notification,
        revocation: command_handler_pb2.RevocationResponse,
    ) -> None:
        reason = f"no compensation: {revocation.reason or 'no rejection handler matched'}"
        letter = deadletters.no_compensation(book, rejected_command(notice), reason)
        await deadletters.record(self.pipeline.store, letter)
        if revocation.escalate:
            log.error("compensation escalated", domain=book.cover.domain,
                      correlation_id=book.cover.correlation_id, reason=revocation.reason)
            metrics.command_total.add(1, {"domain": book.cover.domain, "outcome": "escalated"})


__all__ = ["Compensations", "rejected_command"]
