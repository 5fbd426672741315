"""The command pipeline: HandleCommand and the decide-and-append loop (spec/coordinator.md §3.1-3.4).

validate → normalise → dedupe (deferred commands) → lock → load → check the sequence → decide
(``CommandHandlerService.Handle``) → stamp → append (races per merge strategy) → publish → sync mode.
An error status always means nothing of the request was stored; the only trace a failure may leave
is the dead letter a MANUAL mismatch or a revocation asks for.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass

import grpc
import structlog

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2

from . import deadletters, replay
from .aggregates import Aggregates, response_cover
from .cache import AggregateState, LockStripes
from .downstream import Downstream, sync_window
from .handlers import BusinessChannels
from .observability import metrics, tracer
from .richerror import RpcFailure
from .routing import Routes
from .stamping import new_pages, stamp
from .store.base import CommitRecord, DuplicateCommit, NewCommit, SequenceConflict
from .topology import Limits
from .validation import CommandTarget, cascade_error_mode, check_cascade_id, command_target, sync_mode

log = structlog.get_logger("angzarr.pipeline")

COMMUTATIVE = types_pb2.MERGE_COMMUTATIVE
STRICT = types_pb2.MERGE_STRICT
MANUAL = types_pb2.MERGE_MANUAL
_CHECKED = frozenset({STRICT, MANUAL})
_STRATEGY_NAMES = {v: k for k, v in types_pb2.MergeStrategy.items()}


@dataclass(slots=True)
class Decided:
    """The outcome of one command: the handler's last reply and the commit, if any."""

    reply: command_handler_pb2.BusinessResponse | None
    commit: CommitRecord | None
    duplicate: bool
    state: AggregateState | None
    snapshot: types_pb2.Snapshot | None = None  # stored by a no-op reply


def backoff(attempt: int) -> float:
    """Jittered 2 ms·2ⁿ, at most 50 ms, before re-deciding after a lost append race."""
    return min(0.050, 0.002 * 2**attempt) * random.uniform(0.5, 1.0)


def normalised(book: types_pb2.CommandBook) -> types_pb2.CommandBook:
    """A copy of ``book`` whose empty correlation id is a new UUID4."""
    copy = types_pb2.CommandBook()
    copy.CopyFrom(book)
    if not copy.cover.correlation_id:
        copy.cover.correlation_id = str(uuid.uuid4())
    return copy


class CommandPipeline:
    def __init__(
        self,
        aggregates: Aggregates,
        channels: BusinessChannels,
        routes: Routes,
        limits: Limits,
        stripes: LockStripes,
        downstream: Downstream,
    ) -> None:
        self.aggregates = aggregates
        self.store = aggregates.store
        self.channels = channels
        self.routes = routes
        self.limits = limits
        self.stripes = stripes
        self.downstream = downstream

    def target_of(self, book: types_pb2.CommandBook, reaction_id: str | None = None) -> CommandTarget:
        """Validate a command book against this coordinator's limits, known domains and sidecar domain.

        Raises:
            RpcFailure: the book is invalid or not for this coordinator (``validation.command_target``).
        """
        return command_target(
            book,
            self.limits,
            self.routes.known_domains,
            reaction_id=reaction_id,
            sidecar_domain=self.routes.sidecar_domain,
        )

    # -- HandleCommand -----------------------------------------------------------------------------
    async def handle_command(
        self, request: types_pb2.CommandRequest, reaction_id: str | None = None
    ) -> command_handler_pb2.CommandResponse:
        """Decide and commit one command. Raises ``RpcFailure`` (nothing stored) per §3.4."""
        target = self.target_of(request.command, reaction_id)
        check_cascade_id(request)
        modes = sync_mode(request.sync_mode), cascade_error_mode(request.cascade_error_mode)
        book = normalised(request.command)
        started = time.perf_counter()
        outcome = "error"
        try:
            async with sync_window(self.downstream, target.key, modes[0]):
                decided = await self.decide(target, book)
                response = await self._respond(decided, book, modes)
            outcome = "duplicate" if decided.duplicate else ("noop" if decided.commit is None else "committed")
            return response
        except RpcFailure as failure:
            outcome = failure.code.name.lower()
            raise
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            attrs = {"domain": target.key.domain, "outcome": outcome}
            metrics.command_total.add(1, attrs)
            metrics.command_duration.record(duration_ms, attrs)
            log.debug(
                "command",
                correlation_id=book.cover.correlation_id,
                domain=target.key.domain,
                root=target.key.root.hex,
                command_type=book.pages[0].command.type_url.rsplit("/", 1)[-1],
                duration_ms=round(duration_ms, 3),
                outcome=outcome,
            )

    async def _respond(
        self, decided: Decided, book: types_pb2.CommandBook, modes: tuple[int, int]
    ) -> command_handler_pb2.CommandResponse:
        if decided.commit is None:
            reply = decided.reply
            if reply is not None and reply.WhichOneof("result") == "revocation":
                await self._revoked(book, reply.revocation)
            events = types_pb2.EventBook(
                cover=response_cover(book.cover, book.cover.correlation_id),
                next_sequence=decided.state.next_sequence if decided.state else 0,
            )
            if decided.snapshot is not None:
                events.snapshot.CopyFrom(decided.snapshot)
            return command_handler_pb2.CommandResponse(events=events)
        events = await self.aggregates.commit_book(decided.commit, book.cover)
        response = command_handler_pb2.CommandResponse(events=events)
        if decided.duplicate:
            return response  # the first delivery ran the sync mode; the log covers the rest
        result = await self.downstream.after_commit(decided.commit, events, *modes)
        response.projections.extend(result.projections)
        response.cascade_errors.extend(result.cascade_errors)
        response.cascade_books.extend(result.cascade_books)
        return response

    async def _revoked(self, book: types_pb2.CommandBook, revocation: command_handler_pb2.RevocationResponse) -> None:
        message = f"Command revoked: {revocation.reason or 'no reason given'}"
        if revocation.escalate:
            log.error(
                "command revoked with escalation",
                domain=book.cover.domain,
                correlation_id=book.cover.correlation_id,
                reason=revocation.reason,
            )
            metrics.command_total.add(1, {"domain": book.cover.domain, "outcome": "escalated"})
        if revocation.send_to_dead_letter_queue:
            letter_id = await deadletters.record(self.store, deadletters.revoked(book, message))
            message += f"; recorded as dead letter {letter_id}"
        raise RpcFailure(grpc.StatusCode.FAILED_PRECONDITION, message)

    # -- the decide-and-append loop (commands and compensations) -----------------------------------
    async def decide(self, target: CommandTarget, book: types_pb2.CommandBook) -> Decided:
        """Dedupe, lock, load, check, call the handler and append, re-deciding lost races.

        Raises ``RpcFailure`` per §3.2-3.4; returns the handler's reply with the commit (``None`` when
        the reply holds no new pages).
        """
        key = target.key
        endpoint = self.routes.endpoint(key.domain, available_only=False)
        if target.provenance is not None:
            existing = await self.store.find_provenance(key, target.provenance)
            if existing is not None:  # a redelivery is answered even while the handler restarts
                return Decided(None, existing, True, None)
        self.routes.check_available(key.domain)
        checked = target.expected is not None and target.strategy in _CHECKED
        attrs = {"angzarr.domain": key.domain, "angzarr.root": key.root.hex,
                 "angzarr.correlation_id": book.cover.correlation_id}
        with tracer.start_as_current_span("aggregate.handle", attributes=attrs) as span:
            async with self.stripes.lock(key):
                if target.provenance is not None:
                    # A concurrent copy of this reaction (a redispatch racing the dispatcher) may have
                    # committed while we waited for the lock: answer with its result, do not decide again.
                    existing = await self.store.find_provenance(key, target.provenance)
                    if existing is not None:
                        return Decided(None, existing, True, None)
                fresh = False
                attempt = 0
                while True:
                    attempt += 1
                    span.set_attribute("angzarr.attempts", attempt)
                    state, cached = await self.aggregates.load(key, fresh=fresh)
                    if checked and target.expected != state.next_sequence:
                        if cached:  # the cache may be behind another coordinator: ask the store
                            state, cached = await self.aggregates.load(key, fresh=True)
                        if target.expected != state.next_sequence:
                            await self._mismatch(target, book)
                    if attempt == 1 and target.expected is not None and target.expected != state.next_sequence:
                        metrics.command_rebased.add(1, {"domain": key.domain})
                    if self.aggregates.oversized(key.domain, state, book):
                        state = await self._fold(key, endpoint, state)
                    context = await self.aggregates.context_book(key, state, book.cover)
                    with tracer.start_as_current_span("handler.call"):
                        reply = await self.channels.handle(
                            key.domain, endpoint, types_pb2.ContextualCommand(events=context, command=book)
                        )
                    pages = new_pages(reply, list(context.pages))
                    if not pages:
                        snapshot = await self._noop_snapshot(target, state, reply)
                        return Decided(reply, None, False, state, snapshot)
                    commit = NewCommit(
                        key=key,
                        expected_next_sequence=state.next_sequence,
                        pages=stamp(pages, state.next_sequence),
                        correlation_id=book.cover.correlation_id,
                        provenance=target.provenance,
                        snapshot=self._snapshot_to_store(key.domain, reply, state,
                                                         state.next_sequence + len(pages) - 1),
                    )
                    try:
                        record = await self._append(commit)
                    except SequenceConflict as conflict:
                        metrics.command_conflicts.add(1, {"domain": key.domain})
                        self.aggregates.cache.discard(key)
                        fresh = True
                        if checked:
                            await self._mismatch(target, book)
                        if attempt >= self.limits.commutative_max_attempts:
                            await self._exhausted(target, book, state.next_sequence, conflict.actual, attempt)
                        await asyncio.sleep(backoff(attempt))
                        continue
                    except DuplicateCommit as dup:  # a redelivery of the same reaction won
                        return Decided(reply, dup.existing, True, state)
                    state = self.aggregates.after_commit(key, state, record)
                    return Decided(reply, record, False, state)

    async def _fold(self, key, endpoint: str, state: AggregateState) -> AggregateState:
        folded = await replay.fold(
            key, state, endpoint, self.channels, self.aggregates.upcasters, self.store,
            budget=self.limits.max_message_bytes // 2, timeout=self.limits.handler_timeout,
        )
        self.aggregates.cache.put(key, folded)
        return folded

    async def _append(self, commit: NewCommit) -> CommitRecord:
        started = time.perf_counter()
        with tracer.start_as_current_span("aggregate.append"):
            try:
                record = await self.store.append(commit)
            except asyncio.CancelledError:
                # The caller went away; the write may still land. The cache must not pretend it did not.
                self.aggregates.cache.discard(commit.key)
                raise
        metrics.store_append_duration.record((time.perf_counter() - started) * 1000, {"domain": commit.key.domain})
        return record

    def _snapshot_to_store(
        self, domain: str, reply: command_handler_pb2.BusinessResponse, state: AggregateState, last_sequence: int
    ) -> types_pb2.Snapshot | None:
        """The snapshot to store with this commit under §7 retention rules, if any."""
        if reply.WhichOneof("result") != "events" or not reply.events.HasField("snapshot") or last_sequence < 0:
            return None
        given = reply.events.snapshot
        retention = given.retention if given.retention in types_pb2.SnapshotRetention.values() else 0
        if retention == types_pb2.RETENTION_DEFAULT:
            if not self.aggregates.snapshots_read(domain):
                return None  # newest stored snapshot unknown without snapshot reads: do not pile them up
            newest = state.snapshot_sequence
            if newest is not None and last_sequence - newest < self.limits.snapshot_every:
                return None
        snapshot = types_pb2.Snapshot(sequence=last_sequence, retention=retention)
        snapshot.state.CopyFrom(given.state)
        return snapshot

    async def _noop_snapshot(
        self, target: CommandTarget, state: AggregateState, reply: command_handler_pb2.BusinessResponse
    ) -> types_pb2.Snapshot | None:
        """A reply without pages may still carry a snapshot worth storing (§3.3)."""
        snapshot = self._snapshot_to_store(target.key.domain, reply, state, state.next_sequence - 1)
        if snapshot is None:
            return None
        try:
            record = await self._append(
                NewCommit(target.key, state.next_sequence, [], "", snapshot=snapshot)
            )
        except (SequenceConflict, DuplicateCommit):
            self.aggregates.cache.discard(target.key)
            return None  # optional: a newer state will bring its own snapshot
        self.aggregates.after_commit(target.key, state, record)
        return record.snapshot

    async def _mismatch(self, target: CommandTarget, book: types_pb2.CommandBook) -> None:
        """Raise the STRICT (FAILED_PRECONDITION) or MANUAL (ABORTED + dead letter) sequence error."""
        expected = target.expected or 0
        current = await self.aggregates.current_book(target.key, book.cover, expected)
        actual = current.next_sequence
        details = types_pb2.SequenceMismatchDetails(
            expected_sequence=expected, actual_sequence=actual, merge_strategy=target.strategy
        )
        message = f"Sequence mismatch: command expects {expected}, aggregate at {actual}; "
        if target.strategy == MANUAL:
            letter = deadletters.sequence_mismatch(book, expected, actual, target.strategy, message.rstrip("; "))
            letter_id = await deadletters.record(self.store, letter)
            raise RpcFailure(
                grpc.StatusCode.ABORTED, message + f"recorded as dead letter {letter_id} for manual review",
                (details, current),
            )
        raise RpcFailure(
            grpc.StatusCode.FAILED_PRECONDITION,
            message + f"reload the aggregate and resend at sequence {actual}, or use MERGE_COMMUTATIVE",
            (details, current),
        )

    async def _exhausted(
        self, target: CommandTarget, book: types_pb2.CommandBook, tried: int, actual: int, attempts: int
    ) -> None:
        current = await self.aggregates.current_book(target.key, book.cover, tried)
        details = types_pb2.SequenceMismatchDetails(
            expected_sequence=tried, actual_sequence=current.next_sequence, merge_strategy=target.strategy
        )
        raise RpcFailure(
            grpc.StatusCode.ABORTED,
            f"Sequence conflict: {target.key.domain}/{target.key.root} moved during each of {attempts} "
            f"decisions (last tried {tried}, store at {actual}); nothing was stored, retry later",
            (details, current),
        )
