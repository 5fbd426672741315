"""``CommandRouter``: a command handler made of plain functions (function style, spec §10).

    router = CommandRouter("player", rebuild).on("RegisterPlayer", handle_register)

A handler is ``fn(command_book, command_any, state, seq)`` and returns ``None``, events, or an
``EventBook`` such as ``pack_event(e, seq)``; returned pages are renumbered from ``seq``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import Message

from angzarr_client.books import next_sequence
from angzarr_client.errors import InvalidArgumentError
from angzarr_client.handlers.command_handler import DOMAIN_PATTERN, is_valid_domain
from angzarr_client.handlers.compensation import NOTIFICATION_TYPE, CompensationContext
from angzarr_client.handlers.requests import require_command_book, with_pages
from angzarr_client.handlers.state_router import StateRouter
from angzarr_client.handlers.type_table import TypeTable
from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_client.timestamps import now
from angzarr_client.typeurl import pack, type_name_from_url, unpack

__all__ = ["CommandRouter"]

Handler = Callable[[types_pb2.CommandBook, AnyMessage, Any, int], Any]
RejectionHandler = Callable[[CompensationContext, Any, int], Any]

_ENVELOPES = (types_pb2.CommandBook, types_pb2.EventPage, types_pb2.CommandPage)


class CommandRouter:
    """Dispatch commands of one domain to registered functions.

    ``state`` is a :class:`StateRouter` or a ``rebuild(book) -> state`` function, which always
    receives a book (an empty one when there is no history).

    Raises:
        InvalidArgumentError: an invalid domain.
        TypeError: ``state`` is neither a ``StateRouter`` nor callable.
    """

    def __init__(self, domain: str, state: StateRouter[Any] | Callable[[types_pb2.EventBook], Any]) -> None:
        if not is_valid_domain(domain):
            raise InvalidArgumentError(
                f"CommandRouter domain must match {DOMAIN_PATTERN.pattern}, got {domain!r}"
            )
        if not (isinstance(state, StateRouter) or callable(state)):
            raise TypeError(f"CommandRouter needs a StateRouter or a rebuild function, got {state!r}")
        self._domain = domain
        self._state = state
        self._handlers: TypeTable[Handler] = TypeTable("command")
        self._rejections: dict[tuple[str, str], RejectionHandler] = {}

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def name(self) -> str:
        return self._domain

    def on(self, command: type[Message] | str, fn: Handler) -> CommandRouter:
        """Register ``fn`` for a command class or name pattern; returns the router.

        Raises:
            ValueError: the command is already registered.
            TypeError: ``fn`` is not callable.
        """
        if not callable(fn):
            raise TypeError(f"handler for {command!r} must be callable, got {fn!r}")
        self._handlers.add(command, fn)
        return self

    def on_rejected(self, domain: str, command: type[Message] | str, fn: RejectionHandler) -> CommandRouter:
        """Register ``fn(ctx, state, seq)`` for a rejected reaction command sent to ``domain``."""
        from angzarr_client.typeurl import full_name

        key = (domain, full_name(command))
        if key in self._rejections:
            raise ValueError(f"rejection handler for {domain}/{key[1]} is already registered")
        self._rejections[key] = fn
        return self

    def command_types(self) -> list[str]:
        return self._handlers.names()

    # -- handling -------------------------------------------------------------------------------

    def rebuild(self, book: types_pb2.EventBook | None) -> Any:
        """State for a history (an empty book when ``None``)."""
        history = book if book is not None else types_pb2.EventBook()
        if isinstance(self._state, StateRouter):
            return self._state.rebuild(history)
        return self._state(history)

    def dispatch(self, request: types_pb2.ContextualCommand) -> command_handler_pb2.BusinessResponse:
        """Run every page of the request's command book in order.

        Raises:
            InvalidArgumentError: a malformed request, a foreign domain, an unknown command type or
                undecodable payload.
            CommandRejectedError: a handler rejected a page (the whole book yields nothing).
            TypeError: a handler returned something other than events or an ``EventBook``.
        """
        book = require_command_book(request, self._domain)
        history = types_pb2.EventBook()
        if request.HasField("events"):
            history.CopyFrom(request.events)
        new_pages: list[types_pb2.EventPage] = []
        for index, page in enumerate(book.pages):
            current = with_pages(history, new_pages)
            state = self.rebuild(current)
            seq = next_sequence(current)
            if type_name_from_url(page.command.type_url) == NOTIFICATION_TYPE:
                result = self._compensate(page.command, state, seq)
                if isinstance(result, command_handler_pb2.RevocationResponse):
                    return command_handler_pb2.BusinessResponse(revocation=result)
            else:
                found = self._handlers.lookup(page.command.type_url)
                if found is None:
                    raise InvalidArgumentError(
                        f"command handler {self._domain!r} has no handler for {page.command.type_url!r} (page {index})"
                    )
                result = found[0](book, page.command, state, seq)
            new_pages.extend(_pages_from(result, seq, f"handler for {page.command.type_url}"))
        out = types_pb2.EventBook()
        out.cover.CopyFrom(book.cover)
        out.pages.extend(new_pages)
        return command_handler_pb2.BusinessResponse(events=out)

    def _compensate(self, payload: AnyMessage, state: Any, seq: int) -> Any:
        ctx = CompensationContext.from_notification(unpack(payload, types_pb2.Notification))
        fn = self._rejections.get((ctx.target_domain, ctx.rejected_command_type))
        if fn is None:
            return command_handler_pb2.RevocationResponse(
                emit_system_revocation=True,
                reason=f"CommandRouter({self._domain}) has no compensation for "
                f"{ctx.target_domain}/{ctx.rejected_command_type}",
            )
        return fn(ctx, state, seq)

    def replay(self, request: command_handler_pb2.ReplayRequest) -> command_handler_pb2.ReplayResponse:
        """Pack the state rebuilt from ``base_snapshot`` plus ``events``.

        Raises:
            NotImplementedError: the state is not a protobuf message.
            StateRebuildError: the history could not be applied.
        """
        book = types_pb2.EventBook()
        if request.HasField("base_snapshot"):
            book.snapshot.CopyFrom(request.base_snapshot)
        book.pages.extend(request.events)
        state = self.rebuild(book)
        if not isinstance(state, Message):
            raise NotImplementedError(
                f"replay needs protobuf state; {self._domain!r} uses {type(state).__name__}"
            )
        return command_handler_pb2.ReplayResponse(state=pack(state))


def _pages_from(result: Any, seq: int, where: str) -> list[types_pb2.EventPage]:
    """Pages for a handler's result, renumbered from ``seq`` and stamped with ``created_at``.

    Raises:
        TypeError: the result is not ``None``, an event, a list/tuple of events or an ``EventBook``.
    """
    if result is None or isinstance(result, command_handler_pb2.RevocationResponse):
        return []
    pages: list[types_pb2.EventPage] = []
    if isinstance(result, types_pb2.EventBook):
        for page in result.pages:
            copy = types_pb2.EventPage()
            copy.CopyFrom(page)
            pages.append(copy)
    else:
        events = list(result) if isinstance(result, list | tuple) else [result]
        for event in events:
            if not isinstance(event, Message) or isinstance(event, _ENVELOPES):
                raise TypeError(
                    f"{where} returned {type(event).__name__}; return events, an EventBook or None"
                )
            page = types_pb2.EventPage()
            page.event.CopyFrom(pack(event))
            pages.append(page)
    stamp = now()
    for offset, page in enumerate(pages):
        page.header.sequence = seq + offset
        if not page.HasField("created_at"):
            page.created_at.CopyFrom(stamp)
    return pages
