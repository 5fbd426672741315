"""Event and command books: the next-sequence rule (R2), cover accessors and event packing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from google.protobuf.message import Message

from .errors import InvalidArgumentError
from .ids import UUIDLike, proto_to_uuid, uuid_to_proto
from .proto.angzarr import types_pb2
from .timestamps import now
from .typeurl import pack

__all__ = [
    "DEFAULT_EDITION",
    "CORRELATION_ID_HEADER",
    "next_sequence",
    "cover_of",
    "domain_of",
    "correlation_id_of",
    "root_of",
    "edition_of",
    "new_cover",
    "pack_event",
    "pack_events",
    "correlated_metadata",
]

DEFAULT_EDITION = "angzarr"
CORRELATION_ID_HEADER = "x-correlation-id"
_MAX_SEQUENCE = 2**32 - 1


def next_sequence(book: types_pb2.EventBook | None) -> int:
    """The sequence the next event of this history gets (R2).

    The last page's ``header.sequence`` + 1; else the snapshot's ``sequence`` + 1; else 0. The book's
    own ``next_sequence`` field is deliberately ignored.
    """
    if book is None:
        return 0
    if not isinstance(book, types_pb2.EventBook):
        raise InvalidArgumentError(f"next_sequence needs an EventBook, got {type(book).__name__}")
    if book.pages:
        return book.pages[-1].header.sequence + 1
    if book.HasField("snapshot"):
        return book.snapshot.sequence + 1
    return 0


def cover_of(x: Message | None) -> types_pb2.Cover | None:
    """The ``Cover`` of a book, query or other message with a ``cover`` field (or the cover itself).

    Returns ``None`` for ``None`` or a message whose cover is unset.

    Raises:
        InvalidArgumentError: ``x`` has no cover field.
    """
    if x is None:
        return None
    if isinstance(x, types_pb2.Cover):
        return x
    if isinstance(x, Message) and "cover" in x.DESCRIPTOR.fields_by_name:
        return x.cover if x.HasField("cover") else None
    raise InvalidArgumentError(f"{type(x).__name__} has no cover")


def domain_of(x: Message | None) -> str:
    """The cover's domain, or ``""``."""
    cover = cover_of(x)
    return cover.domain if cover is not None else ""


def correlation_id_of(x: Message | None) -> str:
    """The cover's correlation id, or ``""``."""
    cover = cover_of(x)
    return cover.correlation_id if cover is not None else ""


def root_of(x: Message | None) -> uuid.UUID | None:
    """The cover's root as a UUID, or ``None`` when unset.

    Raises:
        InvalidArgumentError: the root does not hold 16 bytes.
    """
    cover = cover_of(x)
    if cover is None or not cover.HasField("root"):
        return None
    return proto_to_uuid(cover.root)


def edition_of(x: Message | None) -> str:
    """The cover's edition name, or ``"angzarr"`` (the main timeline) when unset."""
    cover = cover_of(x)
    if cover is None or not cover.edition.name:
        return DEFAULT_EDITION
    return cover.edition.name


def new_cover(
    domain: str,
    root: UUIDLike | None = None,
    correlation_id: str = "",
    edition: str | types_pb2.Edition | None = None,
) -> types_pb2.Cover:
    """A new ``Cover``. ``root=None`` leaves the root unset; ``edition=None`` the edition.

    Raises:
        InvalidArgumentError: empty domain, malformed root, or non-string correlation id.
    """
    if not isinstance(domain, str) or not domain:
        raise InvalidArgumentError("a cover needs a non-empty domain")
    if not isinstance(correlation_id, str):
        raise InvalidArgumentError(f"correlation_id must be a string, got {type(correlation_id).__name__}")
    cover = types_pb2.Cover(domain=domain, correlation_id=correlation_id)
    if root is not None:
        cover.root.CopyFrom(uuid_to_proto(root))
    if isinstance(edition, types_pb2.Edition):
        cover.edition.CopyFrom(edition)
    elif isinstance(edition, str):
        cover.edition.name = edition
    elif edition is not None:
        raise InvalidArgumentError(f"edition must be a name or an Edition, got {type(edition).__name__}")
    return cover


def pack_event(
    event: Message, sequence: int = 0, *, cover: types_pb2.Cover | None = None
) -> types_pb2.EventBook:
    """A one-page ``EventBook`` holding ``event`` at ``sequence``, stamped ``created_at=now()``.

    Raises:
        InvalidArgumentError: ``event`` is not a message or ``sequence`` is outside 0..2³²-1.
    """
    return pack_events([event], sequence, cover=cover)


def pack_events(
    events: Iterable[Message], start_sequence: int = 0, *, cover: types_pb2.Cover | None = None
) -> types_pb2.EventBook:
    """An ``EventBook`` with one page per event, at consecutive sequences from ``start_sequence``.

    Raises:
        InvalidArgumentError: a non-message event, or a sequence outside 0..2³²-1.
    """
    _check_sequence(start_sequence)
    if isinstance(events, Message) or not isinstance(events, Iterable):
        raise InvalidArgumentError(f"pack_events needs an iterable of messages, got {type(events).__name__}")
    book = types_pb2.EventBook()
    if cover is not None:
        if not isinstance(cover, types_pb2.Cover):
            raise InvalidArgumentError(f"cover must be an angzarr.Cover, got {type(cover).__name__}")
        book.cover.CopyFrom(cover)
    stamp = now()
    for offset, event in enumerate(events):
        sequence = start_sequence + offset
        _check_sequence(sequence)
        page = book.pages.add()
        page.header.sequence = sequence
        page.created_at.CopyFrom(stamp)
        page.event.CopyFrom(pack(event))
    return book


def correlated_metadata(cid: str) -> list[tuple[str, str]]:
    """gRPC metadata carrying the correlation id: ``[("x-correlation-id", cid)]``, or ``[]`` when empty."""
    if not cid:
        return []
    return [(CORRELATION_ID_HEADER, cid)]


def _check_sequence(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= _MAX_SEQUENCE:
        raise InvalidArgumentError(f"sequence must be an integer in 0..{_MAX_SEQUENCE}, got {n!r}")
