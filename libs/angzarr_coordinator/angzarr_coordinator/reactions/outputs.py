"""Turning what a saga or process manager returned into outbox entries (spec/coordinator.md §4.1-4.3).

Every command page gets ``angzarr_deferred{source, source_seq}`` (replacing any sequence the reactor
stamped), an empty correlation id becomes the trigger's, and each entry carries its reaction id.
Facts without an external id get ``<reaction id>;fact``. Output is validated first: a known domain
and a 16-byte root on every command and fact, pages present.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import grpc
from opentelemetry import propagate

from angzarr_client.proto.angzarr import types_pb2

from ..store.base import AggregateKey, OutboxEntry
from .records import COMMAND, FACT, DeliveryError, Subscriber, reaction_id


def _bad(subscriber: Subscriber, message: str) -> DeliveryError:
    return DeliveryError(grpc.StatusCode.INVALID_ARGUMENT, f"{subscriber.key} returned {message}")


def validate(
    subscriber: Subscriber,
    commands: Sequence[types_pb2.CommandBook],
    facts: Sequence[types_pb2.EventBook],
    command_domains: Collection[str],
    known_domains: Collection[str],
) -> None:
    """Raise ``DeliveryError`` (poison: INVALID_ARGUMENT) for output the coordinator cannot send."""
    _check_books(subscriber, commands, "command", "command", command_domains, "unknown command domain")
    _check_books(subscriber, facts, "fact", "event", known_domains, "unknown domain")


def _check_books(
    subscriber: Subscriber,
    books: Sequence[types_pb2.CommandBook] | Sequence[types_pb2.EventBook],
    what: str,
    payload: str,
    domains: Collection[str],
    unknown: str,
) -> None:
    """Each book: a domain among ``domains``, a 16-byte root, pages that all carry ``payload``."""
    for i, book in enumerate(books):
        if book.cover.domain not in domains:
            raise _bad(subscriber, f"{what} {i} for {unknown} '{book.cover.domain}'")
        if len(book.cover.root.value) != 16:
            raise _bad(subscriber, f"{what} {i} without a 16-byte root")
        if not book.pages or any(p.WhichOneof("payload") != payload for p in book.pages):
            raise _bad(subscriber, f"{what} {i} without pages or with a page lacking its {payload}")


def _traceparent() -> str:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent", "")


def entries(
    subscriber: Subscriber,
    trigger: AggregateKey,
    trigger_sequence: int,
    source: types_pb2.Cover,
    source_seq: int,
    correlation_id: str,
    commands: Sequence[types_pb2.CommandBook],
    facts: Sequence[types_pb2.EventBook],
) -> list[OutboxEntry]:
    """The ordered outbox entries: commands, then facts (the order the reactor returned them)."""
    out: list[OutboxEntry] = []
    traceparent = _traceparent()
    for book in commands:
        index = len(out)
        stamped = types_pb2.CommandBook()
        stamped.CopyFrom(book)
        if not stamped.cover.correlation_id:
            stamped.cover.correlation_id = correlation_id
        for page in stamped.pages:
            page.header.Clear()
            page.header.angzarr_deferred.source.CopyFrom(source)
            page.header.angzarr_deferred.source_seq = source_seq
        rid = reaction_id(subscriber, trigger, trigger_sequence, index)
        out.append(OutboxEntry(COMMAND, stamped.cover.domain, rid, stamped.SerializeToString(), traceparent))
    for book in facts:
        index = len(out)
        rid = reaction_id(subscriber, trigger, trigger_sequence, index)
        stamped = types_pb2.EventBook()
        stamped.CopyFrom(book)
        if not stamped.cover.correlation_id:
            stamped.cover.correlation_id = correlation_id
        if not any(p.header.external_deferred.external_id for p in stamped.pages):
            stamped.pages[0].header.Clear()
            stamped.pages[0].header.external_deferred.external_id = f"{rid};fact"
        out.append(OutboxEntry(FACT, stamped.cover.domain, rid, stamped.SerializeToString(), traceparent))
    return out
