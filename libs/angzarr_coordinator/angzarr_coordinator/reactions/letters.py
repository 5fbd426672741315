"""Dead letters written by the reaction runtime (spec/coordinator.md §6.5, §8).

Two kinds: a poison (or exhausted) event at a subscriber — ``rejected_events`` with
``event_processing_failed`` and the subscriber — and a faulty or exhausted outbox entry — the command
(or the fact as ``rejected_events``) with metadata naming the entry kind and reaction id, so a replay
redispatches it with its original provenance.
"""

from __future__ import annotations

import grpc
from google.protobuf import timestamp_pb2

from angzarr_client.proto.angzarr import types_pb2

from ..observability import metrics
from ..store.base import OutboxRecord
from .records import FACT, Subscriber, describe

OUTBOX_KIND_KEY = "angzarr.outbox.kind"
REACTION_ID_KEY = "angzarr.reaction_id"
REACTOR_KEY = "angzarr.reactor"


def _now() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    return ts


async def _store(runtime, letter: types_pb2.AngzarrDeadLetter, subscriber: str | None) -> int:
    letter_id = await runtime.store.add_dead_letter(letter, subscriber=subscriber)
    metrics.deadletter_total.add(1, {"source": letter.source_component_type})
    return letter_id


def poison_event(
    subscriber: Subscriber, book: types_pb2.EventBook, code: grpc.StatusCode, message: str, attempts: int,
    transient: bool,
) -> types_pb2.AngzarrDeadLetter:
    letter = types_pb2.AngzarrDeadLetter(
        rejection_reason=describe(code, message), occurred_at=_now(),
        source_component=subscriber.name, source_component_type=subscriber.kind,
    )
    letter.cover.CopyFrom(book.cover)
    letter.rejected_events.CopyFrom(book)
    letter.event_processing_failed.CopyFrom(types_pb2.EventProcessingFailedDetails(
        error=describe(code, message), retry_count=attempts, is_transient=transient,
    ))
    return letter


async def record_event(runtime, subscriber: Subscriber, book: types_pb2.EventBook, code: grpc.StatusCode,
                       message: str, attempts: int, transient: bool) -> int:
    return await _store(runtime, poison_event(subscriber, book, code, message, attempts, transient), subscriber.key)


async def record_entry(runtime, record: OutboxRecord, code: grpc.StatusCode, message: str, attempts: int,
                       transient: bool) -> int:
    """Dead-letter an outbox entry that cannot be delivered; return the letter id."""
    subscriber = runtime.subscriber_of(record.reactor)
    entry = record.entry
    letter = types_pb2.AngzarrDeadLetter(
        rejection_reason=describe(code, message), occurred_at=_now(),
        source_component=subscriber.name if subscriber else record.reactor,
        source_component_type=subscriber.kind if subscriber else "reaction",
    )
    if entry.kind == FACT:
        book = types_pb2.EventBook.FromString(entry.request)
        letter.rejected_events.CopyFrom(book)
    else:
        book = types_pb2.CommandBook.FromString(entry.request)
        letter.rejected_command.CopyFrom(book)
    letter.cover.CopyFrom(book.cover)
    letter.event_processing_failed.CopyFrom(types_pb2.EventProcessingFailedDetails(
        error=describe(code, message), retry_count=attempts, is_transient=transient,
    ))
    letter.metadata[OUTBOX_KIND_KEY] = entry.kind
    letter.metadata[REACTION_ID_KEY] = entry.reaction_id
    letter.metadata[REACTOR_KEY] = record.reactor
    return await _store(runtime, letter, subscriber.key if subscriber else None)


async def record_cascade_failure(runtime, reactor: str, kind: str, request: bytes, reaction_id: str,
                                 error: str) -> int:
    """CASCADE ``DEAD_LETTER``: the failed reaction command (or fact) as a replayable dead letter."""
    subscriber = runtime.subscriber_of(reactor)
    letter = types_pb2.AngzarrDeadLetter(
        rejection_reason=error, occurred_at=_now(),
        source_component=subscriber.name if subscriber else reactor,
        source_component_type=subscriber.kind if subscriber else "reaction",
    )
    if kind == FACT:
        book = types_pb2.EventBook.FromString(request)
        letter.rejected_events.CopyFrom(book)
    else:
        book = types_pb2.CommandBook.FromString(request)
        letter.rejected_command.CopyFrom(book)
    letter.cover.CopyFrom(book.cover)
    letter.metadata[OUTBOX_KIND_KEY] = kind
    letter.metadata[REACTION_ID_KEY] = reaction_id
    letter.metadata[REACTOR_KEY] = reactor
    return await _store(runtime, letter, subscriber.key if subscriber else None)
