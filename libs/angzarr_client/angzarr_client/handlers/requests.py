"""Checks on incoming handler requests, shared by every command-handler router."""

from __future__ import annotations

from angzarr_client.errors import InvalidArgumentError
from angzarr_client.proto.angzarr import types_pb2

__all__ = ["require_command_book", "with_pages"]


def require_command_book(request: types_pb2.ContextualCommand, domain: str) -> types_pb2.CommandBook:
    """The request's ``CommandBook`` after checking it can be handled by ``domain``.

    Raises:
        InvalidArgumentError: not a ``ContextualCommand``, a missing or empty book, a page without
            a ``command`` payload, or a cover domain other than ``domain``.
    """
    if not isinstance(request, types_pb2.ContextualCommand):
        raise InvalidArgumentError(f"expected an angzarr.ContextualCommand, got {type(request).__name__}")
    if not request.HasField("command") or not request.command.pages:
        raise InvalidArgumentError("the request has no command book, or the book has no pages")
    book = request.command
    for index, page in enumerate(book.pages):
        if page.WhichOneof("payload") != "command":
            raise InvalidArgumentError(f"command page {index} has no command payload")
    if book.cover.domain and book.cover.domain != domain:
        raise InvalidArgumentError(
            f"command for domain {book.cover.domain!r} sent to the {domain!r} command handler"
        )
    return book


def with_pages(history: types_pb2.EventBook, pages: list[types_pb2.EventPage]) -> types_pb2.EventBook:
    """A copy of ``history`` with ``pages`` appended."""
    book = types_pb2.EventBook()
    book.CopyFrom(history)
    book.pages.extend(pages)
    return book
