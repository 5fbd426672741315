"""Process managers: stateful reactions keyed by correlation id (spec/coordinator.md §4.3).

PM state is an aggregate in domain ``<name>`` under the correlation-derived root. Per trigger commit,
under the (PM, trigger aggregate) delivery lock and the PM aggregate's lock: load the state,
``Prepare`` → destinations, their ``next_sequence``s, ``Handle``, then one transaction with the
stamped process events, the reaction record, its outbox and the progress (a lost race repeats, ≤ 5).
Commands get ``source`` = the PM cover and ``source_seq`` = the PM's last sequence. A rejected PM
command comes back as a trigger holding the Notification; a reply that sets nothing then is a dead
letter "no compensation".
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import grpc

from angzarr_client.ids import correlation_root
from angzarr_client.proto.angzarr import command_handler_pb2, process_manager_pb2, types_pb2

from ..compensation import rejected_command
from ..deadletters import no_compensation
from ..deadletters import record as record_letter
from ..observability import metrics, tracer
from ..richerror import RpcFailure
from ..stamping import stamp
from ..store.base import (
    AggregateKey,
    CommitRecord,
    DuplicateCommit,
    NewCommit,
    NewReaction,
    Progress,
    RecordedReaction,
    SequenceConflict,
)
from . import outputs
from .records import DeliveryError, commit_book
from .sagas import ReactorDelivery

MAX_DESTINATIONS = 64
MAX_ATTEMPTS = 5
NOTIFICATION = "angzarr.Notification"


@dataclass(slots=True)
class PmReaction:
    """A recorded PM reaction and the state commit it wrote (None: no process events)."""

    recorded: RecordedReaction
    commit: CommitRecord | None
    unhandled: bool = False  # a notice no rejection handler matched


def pm_key(name: str, correlation_id: str) -> AggregateKey:
    return AggregateKey(name, correlation_root(correlation_id))


class PmDelivery(ReactorDelivery):
    async def react(
        self, commit: CommitRecord, *, sync_mode: int = 0, cascade_error_mode: int = 0,
        checkpoint: int | None = None, inline: bool = False,
    ) -> list[PmReaction]:
        """React to ``commit`` (after earlier undelivered commits of its aggregate); empty when the
        progress covers it or it has no correlation id. Raises ``DeliveryError``."""
        sub, key = self.subscriber, commit.key
        out: list[PmReaction] = []
        async with self.rt.locks.lock(sub.key, key):
            progress = await self.rt.store.get_progress(sub.key, key)
            if progress is not None and progress >= commit.last_sequence:
                return out
            for c in await self.pending_commits(commit, progress):
                if not c.correlation_id:
                    continue
                cp = checkpoint if c is commit else None
                if inline:
                    self.note_previous(key, c.last_sequence, progress)
                progress = c.last_sequence
                trigger = await self.source_book(c)
                out.append(await self.react_to(trigger, key, c.last_sequence, sync_mode, cascade_error_mode, cp,
                                               inline, progress=True))
        if not inline:
            self.rt.wake_dispatcher(sub.reactor)
        return out

    async def react_to(
        self, trigger: types_pb2.EventBook, trigger_key: AggregateKey, trigger_sequence: int, sync_mode: int,
        cascade_error_mode: int, checkpoint: int | None, inline: bool, *, progress: bool,
    ) -> PmReaction:
        """Steps 1-6 for one trigger book. Raises ``DeliveryError``."""
        sub = self.subscriber
        cid = trigger.cover.correlation_id
        state_key = pm_key(sub.name, cid)
        started = time.perf_counter()
        outcome = "error"
        attrs = {"angzarr.domain": trigger_key.domain, "angzarr.root": trigger_key.root.hex,
                 "angzarr.correlation_id": cid, "angzarr.subscriber": sub.key}
        try:
            with tracer.start_as_current_span("pm.orchestrate", attributes=attrs) as span:
                async with self.rt.pipeline.stripes.lock(state_key):
                    for attempt in range(1, MAX_ATTEMPTS + 1):
                        span.set_attribute("angzarr.attempts", attempt)
                        existing = await self.rt.store.find_reaction(sub.reactor, trigger_key, trigger_sequence)
                        if existing is not None:
                            outcome = "duplicate"
                            return PmReaction(existing, existing.commit)
                        try:
                            result = await self._attempt(trigger, trigger_key, trigger_sequence, state_key,
                                                         sync_mode, cascade_error_mode, checkpoint, inline, progress,
                                                         fresh=attempt > 1)
                        except SequenceConflict:
                            self.rt.aggregates.cache.discard(state_key)
                            continue
                        except DuplicateCommit:
                            continue  # another delivery recorded it: found on the next pass
                        outcome = "ok"
                        return result
            raise DeliveryError(grpc.StatusCode.ABORTED,
                                f"{sub.key}: state {state_key.root} kept moving during {MAX_ATTEMPTS} attempts")
        finally:
            metrics.pm_duration.record((time.perf_counter() - started) * 1000, {"pm": sub.name, "outcome": outcome})

    async def _attempt(
        self, trigger: types_pb2.EventBook, trigger_key: AggregateKey, trigger_sequence: int,
        state_key: AggregateKey, sync_mode: int, cascade_error_mode: int, checkpoint: int | None, inline: bool,
        progress: bool, *, fresh: bool,
    ) -> PmReaction:
        sub, rt = self.subscriber, self.rt
        cid = trigger.cover.correlation_id
        state, _ = await rt.aggregates.load(state_key, fresh=fresh)
        pm_cover = types_pb2.Cover(domain=sub.name, root=types_pb2.UUID(value=state_key.root.bytes),
                                   correlation_id=cid)
        try:
            process_state = await rt.aggregates.context_book(state_key, state, pm_cover)
        except RpcFailure as failure:
            raise DeliveryError(failure.code, failure.message) from None
        prepared = await rt.calls.pm_prepare(sub, process_manager_pb2.ProcessManagerPrepareRequest(
            trigger=trigger, process_state=process_state))
        if len(prepared.destinations) > MAX_DESTINATIONS:
            raise DeliveryError(grpc.StatusCode.INVALID_ARGUMENT,
                                f"{sub.key} prepared {len(prepared.destinations)} destinations (at most 64)")
        pairs = []
        for d in prepared.destinations:
            if d.domain not in rt.command_domains or len(d.root.value) != 16:
                raise DeliveryError(grpc.StatusCode.INVALID_ARGUMENT,
                                    f"{sub.key} prepared an invalid destination '{d.domain}'")
            pairs.append((d.domain, uuid.UUID(bytes=d.root.value)))
        destinations = await self.destination_sequences(pairs)
        reply = await rt.calls.pm_handle(sub, process_manager_pb2.ProcessManagerHandleRequest(
            trigger=trigger, process_state=process_state, destination_sequences=destinations))
        unhandled = _is_notice(trigger) and not (
            reply.HasField("process_events") or reply.commands or reply.facts)
        outputs.validate(sub, reply.commands, reply.facts, rt.command_domains, rt.known_domains)
        pages = list(reply.process_events.pages)
        last_sequence = state.next_sequence + len(pages) - 1 if pages else state.next_sequence - 1
        source_seq = max(0, last_sequence)
        entries = outputs.entries(sub, trigger_key, trigger_sequence, pm_cover, source_seq, cid,
                                  reply.commands, reply.facts)
        reaction = NewReaction(
            reactor=sub.reactor, trigger=trigger_key, trigger_sequence=trigger_sequence, entries=entries,
            progress=[Progress(sub.key, trigger_key, trigger_sequence)] if progress else [],
            checkpoint=(sub.key, checkpoint) if checkpoint is not None else None,
            lease_seconds=rt.lease_seconds if inline else 0.0,
        )
        if unhandled:
            await record_letter(rt.store, no_compensation(
                _notice_book(trigger), _rejected_of(trigger),
                "no compensation: no rejection handler of the process manager matched"))
        if not pages:
            return PmReaction(await rt.store.record_reaction(reaction), None, unhandled)
        # a returned snapshot is stored under the same retention rules as an aggregate's (§7)
        snapshot = rt.pipeline._snapshot_to_store(
            state_key.domain, command_handler_pb2.BusinessResponse(events=reply.process_events), state, last_sequence)
        commit = NewCommit(key=state_key, expected_next_sequence=state.next_sequence,
                           pages=stamp(pages, state.next_sequence), correlation_id=cid, snapshot=snapshot,
                           reaction=reaction)
        record = await rt.pipeline._append(commit)
        rt.aggregates.after_commit(state_key, state, record)
        found = await rt.store.find_reaction(sub.reactor, trigger_key, trigger_sequence)
        recorded = found if found is not None else RecordedReaction(True, [], record)
        recorded.fresh = True
        return PmReaction(recorded, record, unhandled)

    async def notice(self, book: types_pb2.CommandBook, sync_mode: int, cascade_error_mode: int,
                     inline: bool = False):
        """A rejected PM command returns as a trigger: the PM cover and one page holding the notice.

        Returns the PM reaction (``inline``: its entries claimed for the caller). Raises ``DeliveryError``.
        """
        first = book.pages[0]
        source_seq = first.header.angzarr_deferred.source_seq if first.header.HasField("angzarr_deferred") else 0
        trigger = types_pb2.EventBook(cover=book.cover)
        page = trigger.pages.add()
        page.header.sequence = source_seq
        page.event.CopyFrom(first.command)
        key = AggregateKey(book.cover.domain, uuid.UUID(bytes=book.cover.root.value))
        return await self.react_to(trigger, key, source_seq, sync_mode, cascade_error_mode, None, inline,
                                   progress=False)


def _is_notice(trigger: types_pb2.EventBook) -> bool:
    return any(p.event.type_url.rsplit("/", 1)[-1] == NOTIFICATION for p in trigger.pages)


def _notice_book(trigger: types_pb2.EventBook) -> types_pb2.CommandBook:
    book = types_pb2.CommandBook(cover=trigger.cover)
    page = book.pages.add()
    page.command.CopyFrom(trigger.pages[0].event)
    return book


def _rejected_of(trigger: types_pb2.EventBook) -> types_pb2.CommandBook | None:
    notice = types_pb2.Notification()
    try:
        notice.ParseFromString(trigger.pages[0].event.value)
    except Exception:  # noqa: BLE001 - a corrupt notice still gets its dead letter
        return None
    return rejected_command(notice)


__all__ = ["PmDelivery", "PmReaction", "commit_book", "pm_key"]
