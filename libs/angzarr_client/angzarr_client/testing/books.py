"""Build books and requests for handler tests without any infrastructure."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from google.protobuf.message import Message

from angzarr_client.books import new_cover, next_sequence, root_of
from angzarr_client.errors import InvalidArgumentError
from angzarr_client.handlers.compensation import notification_command_book, rejection_notification
from angzarr_client.ids import to_uuid
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.timestamps import now
from angzarr_client.typeurl import pack

__all__ = [
    "TEST_NAMESPACE",
    "build_command_book",
    "build_contextual_command",
    "build_event_book",
    "build_rejection",
    "uuid_for",
]

# Fixed namespace so ids derived by uuid_for are stable across runs and machines.
TEST_NAMESPACE = uuid.UUID("6f0d4b8e-58a1-4c3e-9d7a-2b1e0c9f8a71")


def uuid_for(name: str) -> uuid.UUID:
    """A deterministic UUID for a test name: ``uuid5(TEST_NAMESPACE, name)``."""
    return uuid.uuid5(TEST_NAMESPACE, str(name))


def _cover(domain: str, root: Any, correlation_id: str) -> types_pb2.Cover:
    return new_cover(domain, to_uuid(root) if root is not None else None, correlation_id)


def build_event_book(
    events: Iterable[Message | types_pb2.EventPage],
    *,
    domain: str = "test",
    root: Any = None,
    start_sequence: int = 0,
    snapshot: tuple[int, Message] | None = None,
    correlation_id: str = "",
) -> types_pb2.EventBook:
    """An ``EventBook`` of ``events`` (messages or pages) at consecutive sequences.

    Pages get ``created_at`` when they lack one; their sequence is renumbered. ``snapshot`` is
    ``(sequence, state message)``. ``root`` is anything ``to_uuid`` accepts; ``None`` leaves it unset.

    Raises:
        InvalidArgumentError: an item that is neither a message nor a page, or a bad snapshot.
    """
    book = types_pb2.EventBook(cover=_cover(domain, root, correlation_id))
    stamp = now()
    for offset, item in enumerate(events):
        page = book.pages.add()
        if isinstance(item, types_pb2.EventPage):
            page.CopyFrom(item)
        elif isinstance(item, Message):
            page.event.CopyFrom(pack(item))
        else:
            raise InvalidArgumentError(
                f"build_event_book: expected messages or EventPages, got {type(item).__name__}"
            )
        page.header.sequence = start_sequence + offset
        if not page.HasField("created_at"):
            page.created_at.CopyFrom(stamp)
    if snapshot is not None:
        try:
            sequence, state = snapshot
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError("snapshot must be a (sequence, state) pair") from exc
        if not isinstance(state, Message):
            raise InvalidArgumentError(
                f"snapshot state must be a protobuf message, got {type(state).__name__}"
            )
        book.snapshot.sequence = sequence
        book.snapshot.state.CopyFrom(pack(state))
    return book


def build_command_book(
    command: Message,
    *,
    domain: str,
    root: Any = None,
    sequence: int = 0,
    correlation_id: str | None = None,
    merge_strategy: int = types_pb2.MERGE_COMMUTATIVE,
) -> types_pb2.CommandBook:
    """A one-page ``CommandBook`` for ``command``.

    ``root=None`` gives a fresh random root; ``correlation_id=None`` a fresh UUID string.

    Raises:
        InvalidArgumentError: ``command`` is not a message, or an empty domain.
    """
    if not isinstance(command, Message):
        raise InvalidArgumentError(f"build_command_book: expected a message, got {type(command).__name__}")
    cid = str(uuid.uuid4()) if correlation_id is None else correlation_id
    book = types_pb2.CommandBook(cover=_cover(domain, root if root is not None else uuid.uuid4(), cid))
    page = book.pages.add()
    page.header.sequence = sequence
    page.merge_strategy = merge_strategy
    page.command.CopyFrom(pack(command))
    return book


def build_contextual_command(
    command: Message | types_pb2.CommandBook,
    prior: types_pb2.EventBook | Iterable[Message] | None = None,
    **cover: Any,
) -> types_pb2.ContextualCommand:
    """A ``ContextualCommand`` (what ``CommandHandlerService.Handle`` receives).

    ``command`` is a ``CommandBook``, or a message wrapped by :func:`build_command_book` with the
    ``cover`` keywords (``domain`` defaults to ``"test"``; ``root``, ``correlation_id``,
    ``sequence``, ``merge_strategy``). ``prior`` is an ``EventBook`` or messages, which get the
    command's domain and root; the command's sequence defaults to the prior history's next one.

    Raises:
        InvalidArgumentError: as for the builders used.
    """
    if isinstance(command, types_pb2.CommandBook):
        if cover:
            raise InvalidArgumentError(
                "cover keywords only apply when command is a message, not a CommandBook"
            )
        book = types_pb2.CommandBook()
        book.CopyFrom(command)
    else:
        options = dict(cover)
        options.setdefault("domain", "test")
        if options.get("root") is None:
            prior_root = root_of(prior) if isinstance(prior, types_pb2.EventBook) else None
            options["root"] = prior_root or uuid.uuid4()
        book = build_command_book(command, **options)
    request = types_pb2.ContextualCommand(command=book)
    if prior is None:
        return request
    if isinstance(prior, types_pb2.EventBook):
        request.events.CopyFrom(prior)
    else:
        request.events.CopyFrom(
            build_event_book(
                list(prior),
                domain=book.cover.domain,
                root=root_of(book),
                correlation_id=book.cover.correlation_id,
            )
        )
    if not isinstance(command, types_pb2.CommandBook) and "sequence" not in cover:
        book_page = request.command.pages[0]
        book_page.header.sequence = next_sequence(request.events)
    return request


def build_rejection(
    rejected_command: types_pb2.CommandBook, reason: str, *, reactor: str = "", reaction_id: str = ""
) -> types_pb2.CommandBook:
    """The ``CommandBook`` a coordinator sends to the source of a rejected reaction command.

    One page holding ``Notification(RejectionNotification(rejected_command, reason))`` with the
    ``reactor`` metadata; wrap it with :func:`build_contextual_command` for a router.

    Raises:
        InvalidArgumentError: ``rejected_command`` is not a ``CommandBook``.
    """
    notice = rejection_notification(rejected_command, reason, reactor=reactor, reaction_id=reaction_id)
    return notification_command_book(notice)
