"""Decoding the poker events a client reads: one lookup from full message name to generated class."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from google.protobuf.message import Message

from angzarr_client import type_name_from_url
from angzarr_client.proto.angzarr import types_pb2
from poker_contracts import hand_pb2, player_pb2, table_pb2

_MODULES = (player_pb2, table_pb2, hand_pb2)
_CLASSES: dict[str, type[Message]] = {
    descriptor.full_name: getattr(module, name)
    for module in _MODULES
    for name, descriptor in module.DESCRIPTOR.message_types_by_name.items()
}


@dataclass(frozen=True, slots=True)
class Event:
    """One decoded event with where it was committed."""

    domain: str
    root: bytes
    sequence: int
    correlation_id: str
    message: Message

    @property
    def name(self) -> str:
        """The event's short message name, e.g. ``HandEnded``."""
        return self.message.DESCRIPTOR.name


def decode_page(page: types_pb2.EventPage) -> Message | None:
    """The page's event as its generated poker class; ``None`` for a page without a known poker event."""
    if page.WhichOneof("payload") != "event":
        return None
    cls = _CLASSES.get(type_name_from_url(page.event.type_url))
    if cls is None:
        return None
    msg = cls()
    msg.ParseFromString(page.event.value)
    return msg


def book_events(book: types_pb2.EventBook) -> Iterator[Event]:
    """The decoded poker events of a book, in order (pages of other types are skipped)."""
    cover = book.cover
    for page in book.pages:
        msg = decode_page(page)
        if msg is not None:
            yield Event(cover.domain, bytes(cover.root.value), page.header.sequence, cover.correlation_id, msg)


def all_events(books: Iterable[types_pb2.EventBook]) -> list[Event]:
    """The decoded poker events of several books, in book order."""
    return [event for book in books for event in book_events(book)]
