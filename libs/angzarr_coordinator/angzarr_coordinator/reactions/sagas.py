"""Sagas: one reaction per trigger commit, recorded with its outbox (spec/coordinator.md §4.2, §6.6).

``SagaDelivery.react`` runs under the (saga, trigger aggregate) delivery lock: it skips commits the
progress already covers, first reacts to earlier undelivered commits of the aggregate, calls
``SagaService.Handle`` with the destinations' ``next_sequence``s (calling once more when the commands
target aggregates the map misstated), validates the output and records the reaction, its outbox
entries and the progress in one transaction. Dispatch happens after the lock is released.
"""

from __future__ import annotations

import time
import uuid

from angzarr_client.proto.angzarr import saga_pb2, types_pb2

from ..observability import metrics, tracer
from ..richerror import RpcFailure
from ..store.base import AggregateKey, CommitRecord, NewReaction, Progress, RecordedReaction
from . import outputs
from .records import DeliveryError, Subscriber, commit_book, commit_cover


class ReactorDelivery:
    """What sagas and process managers share: progress, catch-up and the source book."""

    def __init__(self, runtime, subscriber: Subscriber) -> None:
        self.rt = runtime
        self.subscriber = subscriber
        # (trigger aggregate, trigger sequence) of an inline reaction → the trigger sequence of the
        # reaction before it (the progress it was recorded on), so inline dispatch can wait for that
        # reaction's entries to settle first (§4.1 ordering). Taken by ``previous_reaction``.
        self._previous: dict[tuple[AggregateKey, int], int] = {}

    def note_previous(self, key: AggregateKey, trigger_sequence: int, previous: int | None) -> None:
        if previous is not None and len(self._previous) < 10_000:
            self._previous[(key, trigger_sequence)] = previous

    def previous_reaction(self, key: AggregateKey, trigger_sequence: int) -> int | None:
        return self._previous.pop((key, trigger_sequence), None)

    async def pending_commits(self, commit: CommitRecord, progress: int | None) -> list[CommitRecord]:
        """``commit`` preceded by the aggregate's commits after ``progress`` not yet delivered.

        They sit after this subscriber's checkpoint in the log: the tailer only passes a commit once
        it is delivered or dead-lettered (and progress then covers it).
        """
        if commit.first_sequence == (0 if progress is None else progress + 1):
            return [commit]
        if progress is not None and progress >= commit.first_sequence:
            return [commit]  # cannot happen at commit boundaries; deliver as given
        earlier: list[CommitRecord] = []
        position = await self.rt.store.get_checkpoint(self.subscriber.key)
        while position < commit.first_position - 1:
            batch = await self.rt.store.read_log(position, domains=[commit.key.domain], limit=256)
            if not batch:
                break
            for c in batch:
                if c.first_position >= commit.first_position:
                    position = commit.first_position
                    break
                if c.key == commit.key and c.last_sequence > (-1 if progress is None else progress):
                    earlier.append(c)
                position = c.last_position
        return [*earlier, commit]

    async def source_book(self, commit: CommitRecord) -> types_pb2.EventBook:
        book = commit_book(commit)
        try:
            pages = await self.rt.aggregates.upcasters.upcast(commit.key.domain, list(commit.pages))
        except RpcFailure as failure:  # an upcaster failure is a retryable delivery failure
            raise DeliveryError(failure.code, failure.message) from None
        del book.pages[:]
        book.pages.extend(pages)
        return book

    async def destination_sequences(self, pairs: list[tuple[str, uuid.UUID]]) -> dict[str, int]:
        """``D`` → next sequence of the first target in D; ``D/<root hex>`` → each target's."""
        out: dict[str, int] = {}
        for domain, root in pairs:
            seq = await self.rt.aggregates.next_sequence(AggregateKey(domain, root))
            out.setdefault(domain, seq)
            out[f"{domain}/{root.hex}"] = seq
        return out


def _targets(commands) -> list[tuple[str, uuid.UUID]]:
    out = []
    for book in commands:
        if len(book.cover.root.value) == 16:
            pair = (book.cover.domain, uuid.UUID(bytes=book.cover.root.value))
            if pair not in out:
                out.append(pair)
    return out


class SagaDelivery(ReactorDelivery):
    async def react(
        self, commit: CommitRecord, *, sync_mode: int = 0, cascade_error_mode: int = 0,
        checkpoint: int | None = None, inline: bool = False,
    ) -> list[RecordedReaction]:
        """React to ``commit`` (after earlier undelivered commits of its aggregate).

        Returns the reactions recorded now (``fresh``) or found recorded; empty when progress already
        covers the commit. ``inline`` records the entries already claimed for the caller to dispatch.
        Raises ``DeliveryError`` (nothing recorded for the failing commit).
        """
        sub, key = self.subscriber, commit.key
        out: list[RecordedReaction] = []
        async with self.rt.locks.lock(sub.key, key):
            progress = await self.rt.store.get_progress(sub.key, key)
            if progress is not None and progress >= commit.last_sequence:
                return out
            for c in await self.pending_commits(commit, progress):
                cp = checkpoint if c is commit else None
                if inline:
                    self.note_previous(key, c.last_sequence, progress)
                out.append(await self._react_one(c, sync_mode, cascade_error_mode, cp, inline))
                progress = c.last_sequence
        if not inline:
            self.rt.wake_dispatcher(sub.reactor)
        return out

    async def _react_one(
        self, commit: CommitRecord, sync_mode: int, cascade_error_mode: int, checkpoint: int | None, inline: bool
    ) -> RecordedReaction:
        sub, key = self.subscriber, commit.key
        existing = await self.rt.store.find_reaction(sub.reactor, key, commit.last_sequence)
        if existing is not None:
            return existing
        started = time.perf_counter()
        outcome = "error"
        attrs = {"angzarr.domain": key.domain, "angzarr.root": key.root.hex,
                 "angzarr.correlation_id": commit.correlation_id, "angzarr.subscriber": sub.key}
        try:
            with tracer.start_as_current_span("saga.orchestrate", attributes=attrs):
                source = await self.source_book(commit)
                pairs = [(d, key.root) for d in sub.emits if d in self.rt.command_domains]
                destinations = await self.destination_sequences(pairs)
                request = saga_pb2.SagaHandleRequest(
                    source=source, sync_mode=sync_mode, cascade_error_mode=cascade_error_mode,
                    destination_sequences=destinations,
                )
                reply = await self.rt.calls.saga(sub, request)
                targets = _targets(reply.commands)
                if any(f"{d}/{r.hex}" not in destinations for d, r in targets):
                    actual = await self.destination_sequences(targets)
                    request.destination_sequences.clear()
                    request.destination_sequences.update(actual)
                    reply = await self.rt.calls.saga(sub, request)  # sagas are pure: the second reply is used
                outputs.validate(sub, reply.commands, reply.events, self.rt.command_domains, self.rt.known_domains)
                entries = outputs.entries(
                    sub, key, commit.last_sequence, commit_cover(commit), commit.last_sequence,
                    commit.correlation_id, reply.commands, reply.events,
                )
                recorded = await self.rt.store.record_reaction(NewReaction(
                    reactor=sub.reactor, trigger=key, trigger_sequence=commit.last_sequence, entries=entries,
                    progress=[Progress(sub.key, key, commit.last_sequence)],
                    checkpoint=(sub.key, checkpoint) if checkpoint is not None else None,
                    lease_seconds=self.rt.lease_seconds if inline else 0.0,
                ))
            outcome = "ok"
            return recorded
        finally:
            metrics.saga_duration.record((time.perf_counter() - started) * 1000, {"saga": sub.name, "outcome": outcome})
