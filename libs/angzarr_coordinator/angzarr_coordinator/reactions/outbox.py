"""Sending outbox entries and settling them (spec/coordinator.md §4.1, §4.5).

``OutboxSender.dispatch`` sends one entry (a reaction command, a fact, a rejection notice to an
aggregate through HandleCompensation, or a notice back to a process manager) to the coordinator
serving its target domain, and settles it by the target's reply:

| reply | entry | then |
|---|---|---|
| OK (or a dedupe hit) | done (result = the commit) | — |
| business rejection | rejected, later entries cancelled | the rejection notice is recorded for the source |
| transient | retried 100 ms·2ⁿ ≤ 30 s | after ``dispatch_max_attempts``: dead letter, rest cancelled |
| other | dead-lettered, rest cancelled | no compensation |

A notice that fails is dead-lettered, never compensated. ``OutboxDispatcher`` runs the loop of one
reactor: claim the dispatchable entries (at most one per trigger aggregate, each after the earlier
ones settled), send them concurrently, sleep until woken (a new reaction) or a retry falls due.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import grpc
import structlog
from opentelemetry import propagate

from angzarr_client.handlers import notification_command_book, rejection_notification
from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2

from ..observability import metrics, tracer
from ..richerror import RpcFailure
from ..store.base import NewReaction, OutboxEntry, OutboxRecord, StoreError, StoreUnavailable
from . import letters
from .records import (
    COMMAND,
    COMPENSATED_SUFFIX,
    COMPENSATION,
    DONE,
    FACT,
    FAULTY,
    NOTICE_SUFFIX,
    PM_NOTICE,
    REJECTED,
    TRANSIENT,
    describe,
    dispatch_class,
    retry_delay,
)

log = structlog.get_logger("angzarr.outbox")

IDLE_WAKE_SECONDS = 0.5


@dataclass(slots=True)
class Sent:
    """What the target answered: OK with the commit and its downstream work, or a failure."""

    code: grpc.StatusCode = grpc.StatusCode.OK
    message: str = ""
    events: types_pb2.EventBook | None = None
    projections: list[types_pb2.Projection] = field(default_factory=list)
    cascade_books: list[types_pb2.EventBook] = field(default_factory=list)
    cascade_errors: list[command_handler_pb2.CascadeError] = field(default_factory=list)
    revoked: bool = False  # a notice no rejection handler matched (already dead-lettered by the target)

    @property
    def ok(self) -> bool:
        return self.code == grpc.StatusCode.OK


@dataclass(slots=True)
class Outcome:
    status: str  # DONE | REJECTED | TRANSIENT | FAULTY
    sent: Sent
    letter_id: int | None = None
    notices: list[OutboxRecord] = field(default_factory=list)  # recorded for the source on a rejection

    @property
    def error(self) -> str:
        return describe(self.sent.code, self.sent.message)


class OutboxSender:
    def __init__(self, runtime) -> None:
        self.rt = runtime

    # -- sending -----------------------------------------------------------------------------------
    async def send(self, kind: str, request: bytes, reaction_id: str, sync_mode: int, cascade_error_mode: int) -> Sent:
        """Send one entry in-process to the pipeline serving its domain, or, on a sidecar, to the peer
        coordinator owning its target domain (``rt.peers``); never raises for a reply."""
        peers = getattr(self.rt, "peers", None)  # set by the sidecar (angzarr_coordinator.peers)
        if peers is not None:
            sent = await peers.send(kind, request, reaction_id, sync_mode, cascade_error_mode)
            if sent is not None:
                return sent
        try:
            if kind == COMMAND:
                book = types_pb2.CommandBook.FromString(request)
                response = await self.rt.pipeline.handle_command(
                    types_pb2.CommandRequest(command=book, sync_mode=sync_mode, cascade_error_mode=cascade_error_mode),
                    reaction_id,
                )
                return Sent(events=response.events, projections=list(response.projections),
                            cascade_books=list(response.cascade_books), cascade_errors=list(response.cascade_errors))
            if kind == FACT:
                book = types_pb2.EventBook.FromString(request)
                response = await self.rt.facts.handle(types_pb2.EventRequest(events=book, sync_mode=sync_mode))
                return Sent(events=response.events, projections=list(response.projections),
                            cascade_books=list(response.cascade_books))
            if kind == COMPENSATION:
                book = types_pb2.CommandBook.FromString(request)
                reply = await self.rt.compensations.handle(
                    types_pb2.CommandRequest(command=book, sync_mode=sync_mode, cascade_error_mode=cascade_error_mode),
                    reaction_id,
                )
                events = reply.events if reply.WhichOneof("result") == "events" and reply.events.pages else None
                return Sent(events=events, revoked=reply.WhichOneof("result") == "revocation")
            if kind == PM_NOTICE:
                book = types_pb2.CommandBook.FromString(request)
                return await self.rt.pm_notice(book, sync_mode, cascade_error_mode)
            return Sent(grpc.StatusCode.UNIMPLEMENTED, f"unknown outbox entry kind {kind!r}")
        except RpcFailure as failure:
            return Sent(failure.code, failure.message)
        except StoreUnavailable as exc:
            return Sent(grpc.StatusCode.UNAVAILABLE, f"the event store is unavailable: {exc}")
        except Exception as exc:  # noqa: BLE001 - our bug: keep the entry, retry, and say so in the log
            log.exception("outbox send failed", kind=kind, reaction_id=reaction_id)
            return Sent(grpc.StatusCode.INTERNAL, f"{type(exc).__name__}: {exc}")

    # -- dispatching and settling ------------------------------------------------------------------
    async def dispatch(
        self, record: OutboxRecord, *, sync_mode: int = 0, cascade_error_mode: int = 0, inline: bool = False
    ) -> Outcome:
        """Send ``record`` and settle it per the table in the module docstring."""
        entry = record.entry
        parent = propagate.extract({"traceparent": entry.traceparent}) if entry.traceparent else None
        attrs = {"angzarr.domain": entry.target_domain, "angzarr.reaction": entry.reaction_id,
                 "angzarr.attempts": record.attempts + 1}
        with tracer.start_as_current_span("outbox.dispatch", context=parent, attributes=attrs):
            sent = await self.send(entry.kind, entry.request, entry.reaction_id, sync_mode, cascade_error_mode)
        if sent.ok:
            result = sent.events.SerializeToString() if sent.events is not None else None
            await self.rt.store.settle_outbox(record.id, "done", result=result)
            return Outcome(DONE, sent)
        status = dispatch_class(sent.code)
        is_notice = entry.kind in (COMPENSATION, PM_NOTICE)
        if status == REJECTED and not is_notice:
            notices = await self._record_notice(record, sent, inline)
            await self.rt.store.settle_outbox(record.id, "rejected", error=describe(sent.code, sent.message),
                                              cancel_rest=True)
            return Outcome(REJECTED, sent, notices=notices)
        if status == TRANSIENT and record.attempts + 1 < self.rt.limits.dispatch_max_attempts:
            await self.rt.store.retry_outbox(
                record.id, error=describe(sent.code, sent.message), delay_seconds=retry_delay(record.attempts + 1)
            )
            return Outcome(TRANSIENT, sent)
        letter_id = await letters.record_entry(self.rt, record, sent.code, sent.message, record.attempts + 1,
                                               transient=status == TRANSIENT)
        await self.rt.store.settle_outbox(record.id, "dead_lettered", error=describe(sent.code, sent.message),
                                          cancel_rest=True)
        return Outcome(status if status != REJECTED else FAULTY, sent, letter_id=letter_id)

    async def _record_notice(self, record: OutboxRecord, sent: Sent, inline: bool) -> list[OutboxRecord]:
        """Record the rejection notice for the command's source (§4.5); return it if fresh."""
        book = types_pb2.CommandBook.FromString(record.entry.request)
        entry = notice_entry(book, describe(sent.code, sent.message), record.reactor, record.entry.reaction_id,
                             self.rt.pm_domains, record.entry.traceparent)
        recorded = await self.rt.store.record_reaction(NewReaction(
            reactor=record.reactor + NOTICE_SUFFIX, trigger=record.trigger,
            trigger_sequence=record.trigger_sequence, entries=[entry],
            lease_seconds=self.rt.lease_seconds if inline else 0.0,
        ))
        if not inline:
            self.rt.wake_dispatcher(record.reactor)
        return [e for e in recorded.entries if e.status == "pending"] if recorded.fresh else []


def notice_entry(
    rejected: types_pb2.CommandBook, reason: str, reactor: str, reaction_id: str, pm_domains, traceparent: str = ""
) -> OutboxEntry:
    """The outbox entry carrying a rejection notice to the rejected command's source."""
    notice = rejection_notification(rejected, reason, reactor=reactor, reaction_id=reaction_id)
    book = notification_command_book(notice)
    kind = PM_NOTICE if notice.cover.domain in pm_domains else COMPENSATION
    return OutboxEntry(kind, notice.cover.domain, reaction_id + ";rejected", book.SerializeToString(), traceparent)


class OutboxDispatcher:
    """The dispatch loop of one reactor (and of its rejection notices)."""

    def __init__(self, runtime, reactor: str) -> None:
        self.rt = runtime
        self.reactors = (reactor, reactor + NOTICE_SUFFIX, reactor + COMPENSATED_SUFFIX)
        self.wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox:{self.reactors[0]}")

    async def stop(self) -> None:
        self._stopping = True
        self.wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        while not self._stopping:
            self.wake.clear()
            try:
                claimed: list[OutboxRecord] = []
                for reactor in self.reactors:
                    claimed += await self.rt.store.claim_outbox(reactor, lease_seconds=self.rt.lease_seconds)
                if claimed:
                    await asyncio.gather(*(self._dispatch(r) for r in claimed))
                    continue
                metrics.outbox_pending.set(await self.rt.store.pending_outbox(self.reactors[0]),
                                           {"reactor": self.reactors[0]})
            except StoreError as exc:
                log.warning("outbox claim failed", reactor=self.reactors[0], error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), IDLE_WAKE_SECONDS)

    async def _dispatch(self, record: OutboxRecord) -> None:
        try:
            await self.dispatch_one(record)
        except StoreError as exc:  # the lease expires and the entry is claimed again
            log.warning("outbox dispatch failed", reaction_id=record.entry.reaction_id, error=str(exc))

    async def dispatch_one(self, record: OutboxRecord) -> Outcome:
        outcome = await self.rt.sender.dispatch(record)
        if outcome.status != DONE:
            log.info("outbox entry not done", reaction_id=record.entry.reaction_id, outcome=outcome.status,
                     error=outcome.error, letter_id=outcome.letter_id)
        return outcome


__all__ = ["FACT", "Outcome", "OutboxDispatcher", "OutboxSender", "Sent", "notice_entry"]
