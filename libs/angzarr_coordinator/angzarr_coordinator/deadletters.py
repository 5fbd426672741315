"""Dead letters the command pipeline writes (spec/coordinator.md §8).

The pipeline records three kinds: a MANUAL sequence mismatch (``sequence_mismatch`` details), a
revocation asking for the dead-letter queue, and a rejection notice no compensation handler matched.
Each is an ``AngzarrDeadLetter`` stored with status ``open``; the CLI lists and replays them.
"""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from angzarr_client.proto.angzarr import types_pb2

from .observability import metrics
from .store.base import EventStore

COMPONENT_AGGREGATE = "command_handler"
COMPONENT_COMPENSATION = "compensation"


def _letter(book: types_pb2.CommandBook, reason: str, component: str, kind: str) -> types_pb2.AngzarrDeadLetter:
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    letter = types_pb2.AngzarrDeadLetter(
        rejection_reason=reason,
        occurred_at=now,
        source_component=component,
        source_component_type=kind,
    )
    letter.cover.CopyFrom(book.cover)
    letter.rejected_command.CopyFrom(book)
    return letter


def sequence_mismatch(
    book: types_pb2.CommandBook, expected: int, actual: int, strategy: int, reason: str
) -> types_pb2.AngzarrDeadLetter:
    letter = _letter(book, reason, book.cover.domain, COMPONENT_AGGREGATE)
    letter.sequence_mismatch.CopyFrom(
        types_pb2.SequenceMismatchDetails(expected_sequence=expected, actual_sequence=actual, merge_strategy=strategy)
    )
    return letter


def revoked(book: types_pb2.CommandBook, reason: str) -> types_pb2.AngzarrDeadLetter:
    return _letter(book, reason, book.cover.domain, COMPONENT_AGGREGATE)


def no_compensation(
    notice_book: types_pb2.CommandBook, rejected: types_pb2.CommandBook | None, reason: str
) -> types_pb2.AngzarrDeadLetter:
    """A rejection notice nothing compensated: the dead letter holds the rejected command."""
    letter = _letter(rejected if rejected is not None else notice_book, reason, notice_book.cover.domain,
                     COMPONENT_COMPENSATION)
    letter.cover.CopyFrom(notice_book.cover)
    return letter


async def record(store: EventStore, letter: types_pb2.AngzarrDeadLetter) -> int:
    """Store ``letter``; return its id. Raises what the store raises."""
    letter_id = await store.add_dead_letter(letter)
    metrics.deadletter_total.add(1, {"source": letter.source_component_type})
    return letter_id
