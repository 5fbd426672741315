"""SIMPLE and CASCADE sync modes (spec/coordinator.md §3.5).

``Cascade`` is the pipeline's ``Downstream``. Per commit: projectors, then sagas, then process
managers, in topology order. SIMPLE stops after the projectors. CASCADE records each reaction with
its entries claimed for this request and dispatches them inline with the request's modes, so the
targets run the same way, recursively; every downstream commit is returned in ``cascade_books``
(depth-first), projections of all levels in ``projections``. One ``CascadeState`` per request (a
context variable, so nested in-process calls share it) tracks depth, commit count, the first failure
and the reaction commands that succeeded, for the error modes:

- FAIL_FAST: after a failure no new reaction starts synchronously; the log runs the rest.
- CONTINUE: every reaction runs; one ``CascadeError`` per failure.
- COMPENSATE: stop; the failed reaction is compensated (§4.5); then every earlier successful reaction
  command is reported to its source as rejected ("cascade compensated: …"), newest first.
- DEAD_LETTER: as CONTINUE, and each failure becomes a dead letter ("; dead letter N").

The origin committed before any of this: failures never change the response status.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import uuid
from dataclasses import dataclass, field

import structlog

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2

from ..downstream import DownstreamResult
from ..store.base import AggregateKey, CommitRecord, NewReaction, OutboxEntry, OutboxRecord, StoreError
from . import letters
from .outbox import notice_entry
from .records import COMMAND, COMPENSATED_SUFFIX, DONE, REJECTED, DeliveryError, Subscriber, commit_book

log = structlog.get_logger("angzarr.cascade")

ASYNC, SIMPLE, CASCADE = types_pb2.SYNC_MODE_ASYNC, types_pb2.SYNC_MODE_SIMPLE, types_pb2.SYNC_MODE_CASCADE
FAIL_FAST = types_pb2.CASCADE_ERROR_FAIL_FAST
CONTINUE = types_pb2.CASCADE_ERROR_CONTINUE
COMPENSATE = types_pb2.CASCADE_ERROR_COMPENSATE
DEAD_LETTER = types_pb2.CASCADE_ERROR_DEAD_LETTER
EARLIER_WAIT_SECONDS = 5.0  # how long inline dispatch waits for an earlier reaction's entries to settle


@dataclass(slots=True)
class CascadeState:
    mode: int
    depth: int = 0
    commits: int = 0
    stopped: bool = False
    failure: str | None = None
    succeeded: list[tuple[Subscriber, OutboxRecord]] = field(default_factory=list)
    # Results of nested commits by (aggregate, last sequence): a compensation's reply cannot carry
    # its downstream work, so the dispatcher of the notice picks it up here.
    nested: dict[tuple, DownstreamResult] = field(default_factory=dict)
    # Outbox entries this request claimed, and those of them it gave back to the dispatcher.
    claimed: set[int] = field(default_factory=set)
    released: set[int] = field(default_factory=set)


_STATE: contextvars.ContextVar[CascadeState | None] = contextvars.ContextVar("angzarr_cascade", default=None)


def merge(into: DownstreamResult, other: DownstreamResult) -> None:
    into.projections.extend(other.projections)
    into.cascade_books.extend(other.cascade_books)
    into.cascade_errors.extend(other.cascade_errors)


class Cascade:
    def __init__(self, runtime) -> None:
        self.rt = runtime

    @contextlib.asynccontextmanager
    async def sync_window(self, key, sync_mode: int):
        """Around a SIMPLE/CASCADE request's decision and delivery: the tailers wait for it to end
        before delivering the aggregate's new commits, so the request delivers its own commit."""
        if sync_mode not in (SIMPLE, CASCADE):
            yield
            return
        self.rt.sync_begin(key)
        try:
            yield
        finally:
            self.rt.sync_end(key)

    async def after_commit(
        self, commit: CommitRecord, book: types_pb2.EventBook, sync_mode: int, cascade_error_mode: int
    ) -> DownstreamResult:
        """Run the sync mode for a durable commit; never raises (failures are ``cascade_errors``)."""
        result = DownstreamResult()
        if sync_mode not in (SIMPLE, CASCADE) or not commit.pages:
            return result
        state = _STATE.get()
        token = None
        if state is None and sync_mode == CASCADE:
            state = CascadeState(cascade_error_mode)
            token = _STATE.set(state)
        try:
            await self._projectors(commit, result, state if sync_mode == CASCADE else None)
            # On a sidecar, the components other services host run on their sidecars (remote_cascade).
            remote = getattr(self.rt, "remote_cascade", None)
            if remote is not None and sync_mode == SIMPLE:
                await remote.after_commit(commit, book, sync_mode, None, result)
            if sync_mode == CASCADE and state is not None:
                await self._reactors(commit, result, state)
                if remote is not None:
                    await remote.after_commit(commit, book, sync_mode, state, result)
                if token is not None and state.mode == COMPENSATE and state.failure is not None:
                    await self._compensate_successes(state, result)
        except Exception:  # noqa: BLE001 - the origin committed: never fail it; the log delivers the rest
            log.exception("cascade failed", domain=commit.key.domain, root=commit.key.root.hex)
            result.cascade_errors.append(command_handler_pb2.CascadeError(
                component_name="cascade", component_type="cascade", source_domain=commit.key.domain,
                error_message="INTERNAL: the cascade stopped on an internal error; the log delivers the rest",
            ))
        finally:
            if token is not None:
                _STATE.reset(token)
            elif state is not None and sync_mode == CASCADE:
                state.nested[(commit.key, commit.last_sequence)] = result
        return result

    # -- projectors ----------------------------------------------------------------------------------
    async def _projectors(self, commit: CommitRecord, result: DownstreamResult, state: CascadeState | None) -> None:
        for sub in self.rt.listening(self.rt.projectors, commit.key.domain):
            try:
                projection = await self.rt.projector(sub).deliver(commit)
            except DeliveryError as exc:
                error = _error(sub.name, "projector", str(exc), commit.key.domain)
                if state is not None and state.mode == DEAD_LETTER:
                    letter_id = await letters.record_event(self.rt, sub, commit_book(commit), exc.code, exc.message,
                                                           1, transient=exc.kind != "poison")
                    error.error_message += f"; dead letter {letter_id}"
                result.cascade_errors.append(error)
                if state is not None:
                    _failed(state, error.error_message)
                continue
            if projection is not None:
                result.projections.append(projection)

    # -- sagas and process managers ------------------------------------------------------------------
    async def _reactors(self, commit: CommitRecord, result: DownstreamResult, state: CascadeState) -> None:
        domain = commit.key.domain
        reactors = [*self.rt.listening(self.rt.sagas, domain), *self.rt.listening(self.rt.pms, domain)]
        if state.stopped or not reactors:
            return
        if state.depth >= self.rt.limits.cascade_max_depth:
            result.cascade_errors.append(_error(
                "cascade", "cascade",
                f"RESOURCE_EXHAUSTED: cascade depth {self.rt.limits.cascade_max_depth} reached at "
                f"{domain}/{commit.key.root.hex} sequence {commit.last_sequence}; its reactions are left to the log",
                domain))
            return
        state.depth += 1
        try:
            for sub in reactors:
                if state.stopped:
                    return
                if sub.kind == "saga":
                    await self._saga(sub, commit, result, state)
                elif commit.correlation_id:
                    await self._pm(sub, commit, result, state)
        finally:
            state.depth -= 1

    async def _saga(self, sub: Subscriber, commit: CommitRecord, result: DownstreamResult, state: CascadeState) -> None:
        try:
            reactions = await self.rt.saga(sub).react(
                commit, sync_mode=CASCADE, cascade_error_mode=state.mode, inline=True)
        except DeliveryError as exc:
            await self._reactor_failed(sub, commit, exc, result, state)
            return
        for reaction in reactions:
            await self.run_entries(sub, reaction.entries, commit.key.domain, result, state)

    async def _pm(self, sub: Subscriber, commit: CommitRecord, result: DownstreamResult, state: CascadeState) -> None:
        try:
            reactions = await self.rt.pm(sub).react(
                commit, sync_mode=CASCADE, cascade_error_mode=state.mode, inline=True)
        except DeliveryError as exc:
            await self._reactor_failed(sub, commit, exc, result, state)
            return
        for reaction in reactions:
            if reaction.commit is not None and reaction.recorded.fresh and reaction.commit.pages:
                state.commits += 1
                book = commit_book(reaction.commit)
                result.cascade_books.append(book)
                merge(result, await self.after_commit(reaction.commit, book, CASCADE, state.mode))
            await self.run_entries(sub, reaction.recorded.entries, commit.key.domain, result, state)

    async def _reactor_failed(self, sub: Subscriber, commit: CommitRecord, exc: DeliveryError,
                              result: DownstreamResult, state: CascadeState) -> None:
        error = _error(sub.name, sub.kind, str(exc), commit.key.domain)
        if state.mode == DEAD_LETTER:
            letter_id = await letters.record_event(self.rt, sub, commit_book(commit), exc.code, exc.message, 1,
                                                   transient=exc.kind != "poison")
            error.error_message += f"; dead letter {letter_id}"
        result.cascade_errors.append(error)
        _failed(state, error.error_message)

    async def run_entries(self, sub: Subscriber, entries: list[OutboxRecord], source_domain: str,
                          result: DownstreamResult, state: CascadeState, *, sync_mode: int = CASCADE) -> None:
        """Dispatch a reaction's claimed entries in order with the request's modes."""
        pending = sorted((e for e in entries if e.status == "pending"), key=lambda e: e.index)
        state.claimed.update(e.id for e in pending)
        if pending and not await self._earlier_settled(sub, pending[0], state):
            result.cascade_errors.append(_error(
                sub.name, sub.kind,
                f"UNAVAILABLE: earlier reaction commands of {pending[0].trigger.domain}/"
                f"{pending[0].trigger.root.hex} are still being delivered; these follow them from the outbox",
                source_domain))
            await self._hand_back(sub, pending, state)
            return
        for i, record in enumerate(pending):
            if state.stopped or state.commits >= self.rt.limits.cascade_max_commits:
                if not state.stopped:
                    result.cascade_errors.append(_error(
                        "cascade", "cascade",
                        f"RESOURCE_EXHAUSTED: cascade reached {self.rt.limits.cascade_max_commits} commits; "
                        "the remaining reaction commands are left to the log", source_domain))
                    state.stopped = True
                await self._hand_back(sub, pending[i:], state)
                return
            outcome = await self.rt.sender.dispatch(
                record, sync_mode=sync_mode, cascade_error_mode=state.mode, inline=True)
            sent = outcome.sent
            if outcome.status == DONE:
                if sent.events is not None and sent.events.pages:
                    state.commits += 1
                    result.cascade_books.append(sent.events)
                    _nested(state, sent.events)  # the response carries it already
                result.cascade_books.extend(sent.cascade_books)
                result.projections.extend(sent.projections)
                result.cascade_errors.extend(sent.cascade_errors)
                if record.entry.kind == COMMAND:
                    state.succeeded.append((sub, record))
                continue
            error = _error(sub.name, "command", outcome.error, record.entry.target_domain)
            if state.mode == DEAD_LETTER:
                letter_id = outcome.letter_id
                if letter_id is None:
                    letter_id = await letters.record_cascade_failure(
                        self.rt, record.reactor, record.entry.kind, record.entry.request, record.entry.reaction_id,
                        outcome.error)
                error.error_message += f"; dead letter {letter_id}"
            result.cascade_errors.append(error)
            _failed(state, error.error_message)
            if outcome.status == REJECTED:
                for notice in outcome.notices:  # the failed reaction is compensated now
                    done = await self.rt.sender.dispatch(notice, sync_mode=sync_mode,
                                                         cascade_error_mode=state.mode, inline=True)
                    if done.status == DONE and done.sent.events is not None and done.sent.events.pages:
                        state.commits += 1
                        result.cascade_books.append(done.sent.events)
                        merge(result, _nested(state, done.sent.events))
            else:
                state.released.add(record.id)  # retried (or dead-lettered) by the dispatcher now
                await self._hand_back(sub, pending[i + 1:], state)
            return

    async def _earlier_settled(self, sub: Subscriber, first: OutboxRecord, state: CascadeState) -> bool:
        """Whether the entries of the reaction before this one (same reactor and trigger aggregate)
        have settled, waiting a bounded time for them: entries go out in trigger order (§4.1).

        Entries this very request still holds do not count: a reaction command whose own cascade
        reaches the same aggregate again cannot settle before its nested reactions run. Entries it
        gave back to the dispatcher (failed, or left to the log) do."""
        delivery = self.rt.delivery_of(sub)
        previous = delivery.previous_reaction(first.trigger, first.trigger_sequence) if delivery else None
        if previous is None:
            return True
        deadline = asyncio.get_running_loop().time() + EARLIER_WAIT_SECONDS
        while True:
            found = await self.rt.store.find_reaction(first.reactor, first.trigger, previous)
            held = state.claimed - state.released
            if found is None or all(e.status != "pending" or e.id in held for e in found.entries):
                return True
            if asyncio.get_running_loop().time() >= deadline:
                return False
            self.rt.wake_dispatcher(first.reactor)
            await asyncio.sleep(0.02)

    async def _hand_back(self, sub: Subscriber, records: list[OutboxRecord], state: CascadeState) -> None:
        """Release entries claimed for this request to the outbox dispatcher."""
        state.released.update(r.id for r in records)
        for record in records:
            try:
                await self.rt.store.retry_outbox(record.id, error="left to the outbox dispatcher", delay_seconds=0)
            except StoreError as exc:
                log.warning("hand back failed; the lease expires instead", entry=record.id, error=str(exc))
        if records:
            self.rt.wake_dispatcher(sub.reactor)

    async def _compensate_successes(self, state: CascadeState, result: DownstreamResult) -> None:
        """COMPENSATE: tell the sources of earlier successful reaction commands, newest first.

        The notices are recorded in the outbox first (one reaction per compensated reaction, under
        ``<reactor>#compensated``), so a crash does not lose them, then sent in order."""
        reason = f"cascade compensated: {state.failure}"
        newest_first = list(reversed(state.succeeded))
        groups: dict[tuple, list[OutboxEntry]] = {}
        for _, record in newest_first:
            book = types_pb2.CommandBook.FromString(record.entry.request)
            groups.setdefault((record.reactor, record.trigger, record.trigger_sequence), []).append(notice_entry(
                book, reason, record.reactor, record.entry.reaction_id + ";compensated", self.rt.pm_domains,
                record.entry.traceparent))
        stored: dict[str, OutboxRecord] = {}
        for (reactor, trigger, sequence), notices in groups.items():
            recorded = await self.rt.store.record_reaction(NewReaction(
                reactor=reactor + COMPENSATED_SUFFIX, trigger=trigger, trigger_sequence=sequence,
                entries=notices, lease_seconds=self.rt.lease_seconds))
            if recorded.fresh:
                stored.update((e.entry.reaction_id, e) for e in recorded.entries)
        for sub, record in newest_first:
            notice = stored.get(record.entry.reaction_id + ";compensated;rejected")
            if notice is None:
                continue  # already recorded by an earlier attempt: the dispatcher sends it
            outcome = await self.rt.sender.dispatch(notice, inline=True)
            sent = outcome.sent
            message = reason if sent.ok else f"{reason}; the notice failed: {outcome.error}"
            result.cascade_errors.append(_error(sub.name, "compensation", message, notice.entry.target_domain))
            if sent.ok and sent.events is not None and sent.events.pages:
                result.cascade_books.append(sent.events)


def _error(name: str, kind: str, message: str, source_domain: str) -> command_handler_pb2.CascadeError:
    return command_handler_pb2.CascadeError(
        component_name=name, component_type=kind, error_message=message, source_domain=source_domain)


def _nested(state: CascadeState, book: types_pb2.EventBook) -> DownstreamResult:
    """Take the downstream result recorded for the commit ``book`` holds (empty if none)."""
    key = (AggregateKey(book.cover.domain, uuid.UUID(bytes=book.cover.root.value)), book.pages[-1].header.sequence)
    return state.nested.pop(key, None) or DownstreamResult()


def _failed(state: CascadeState, message: str) -> None:
    if state.mode in (FAIL_FAST, COMPENSATE):
        state.stopped = True
    if state.failure is None:
        state.failure = message
