"""``CommandHandlerClient`` (alias ``AggregateClient``): commands and facts to a coordinator."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import grpc

from ..errors import InvalidArgumentError
from ..proto.angzarr import command_handler_pb2, command_handler_pb2_grpc, types_pb2
from .base import BaseClient, check_book

if TYPE_CHECKING:
    from ..builder import CommandBuilder

__all__ = ["CommandHandlerClient", "AggregateClient", "check_enum"]

_SERVICE = "/angzarr.CommandHandlerCoordinatorService/"


def check_enum(value: object, enum: Any, name: str) -> int:
    """A valid value of a protobuf enum.

    Raises:
        InvalidArgumentError: not one of the enum's numbers.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value not in enum.values():
        names = ", ".join(enum.keys())
        raise InvalidArgumentError(f"{name} must be one of {names}, got {value!r}")
    return value


def first_external_id(book: types_pb2.EventBook) -> str:
    """The facts' idempotency key: the first non-empty ``external_deferred.external_id``, or ``""``."""
    for page in book.pages:
        if (
            page.header.WhichOneof("sequence_type") == "external_deferred"
            and page.header.external_deferred.external_id
        ):
            return page.header.external_deferred.external_id
    return ""


class CommandHandlerClient(BaseClient):
    """Sends commands (``HandleCommand``), speculative commands and facts (``HandleEvent``)."""

    def _init_stubs(self, channel: grpc.Channel) -> None:
        self._stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)

    @classmethod
    def from_stub(cls, stub: Any, **kw: Any) -> CommandHandlerClient:
        """A client on a prebuilt stub (test seam; no channel)."""
        client = cls._bare(**kw)
        client._stub = stub
        return client

    @property
    def stub(self) -> Any:
        """The raw ``CommandHandlerCoordinatorServiceStub``."""
        return self._stub

    # -- RPCs ---------------------------------------------------------------------------------

    def handle(
        self,
        command: types_pb2.CommandBook,
        timeout: float | None = None,
        *,
        sync_mode: int = types_pb2.SYNC_MODE_ASYNC,
        cascade_error_mode: int = types_pb2.CASCADE_ERROR_FAIL_FAST,
    ) -> command_handler_pb2.CommandResponse:
        """Send ``command`` wrapped in a ``CommandRequest`` (ASYNC, FAIL_FAST by default).

        Raises:
            InvalidArgumentError: no domain, no pages, a page without payload, a bad mode or timeout.
            ConnectionError: the client is closed.
            GRPCError: the RPC failed (rejections keep the handler's code).
        """
        check_book(command, types_pb2.CommandBook, "command")
        request = types_pb2.CommandRequest(
            sync_mode=check_enum(sync_mode, types_pb2.SyncMode, "sync_mode"),
            cascade_error_mode=check_enum(
                cascade_error_mode, types_pb2.CascadeErrorMode, "cascade_error_mode"
            ),
        )
        request.command.CopyFrom(command)
        return self.handle_command(request, timeout)

    def handle_command(
        self, request: types_pb2.CommandRequest, timeout: float | None = None
    ) -> command_handler_pb2.CommandResponse:
        """``HandleCommand``. Not idempotent: after DEADLINE_EXCEEDED it is never resent.

        Raises: as :meth:`handle`.
        """
        if not isinstance(request, types_pb2.CommandRequest):
            raise InvalidArgumentError(f"expected an angzarr.CommandRequest, got {type(request).__name__}")
        check_book(request.command, types_pb2.CommandBook, "request.command")
        return self._unary(
            self._stub.HandleCommand,
            _SERVICE + "HandleCommand",
            request,
            timeout=timeout,
            cid=request.command.cover.correlation_id,
            idempotent=False,
        )

    def handle_sync_speculative(
        self, request: command_handler_pb2.SpeculateCommandHandlerRequest, timeout: float | None = None
    ) -> command_handler_pb2.CommandResponse:
        """``HandleSyncSpeculative``: run the command against current or historical state, persist nothing.

        Raises: as :meth:`handle`.
        """
        if not isinstance(request, command_handler_pb2.SpeculateCommandHandlerRequest):
            raise InvalidArgumentError(
                f"expected an angzarr.SpeculateCommandHandlerRequest, got {type(request).__name__}"
            )
        check_book(request.command, types_pb2.CommandBook, "request.command")
        return self._unary(
            self._stub.HandleSyncSpeculative,
            _SERVICE + "HandleSyncSpeculative",
            request,
            timeout=timeout,
            cid=request.command.cover.correlation_id,
            idempotent=True,
        )

    def inject_fact(
        self,
        events: types_pb2.EventBook,
        *,
        sync_mode: int = types_pb2.SYNC_MODE_ASYNC,
        route_to_handler: bool = False,
        timeout: float | None = None,
    ) -> command_handler_pb2.FactInjectionResponse:
        """``HandleEvent``: record facts. A page must carry ``external_deferred.external_id`` (the
        idempotency key). Not idempotent on the wire, so DEADLINE_EXCEEDED is not retried.

        Raises:
            InvalidArgumentError: no domain, no pages, no external id, a bad mode or timeout.
            ConnectionError, GRPCError: as :meth:`handle`.
        """
        check_book(events, types_pb2.EventBook, "facts")
        if not first_external_id(events):
            raise InvalidArgumentError(
                "facts need an idempotency key: set pages[i].header.external_deferred.external_id"
            )
        request = types_pb2.EventRequest(
            sync_mode=check_enum(sync_mode, types_pb2.SyncMode, "sync_mode"),
            route_to_handler=bool(route_to_handler),
        )
        request.events.CopyFrom(events)
        return self._unary(
            self._stub.HandleEvent,
            _SERVICE + "HandleEvent",
            request,
            timeout=timeout,
            cid=events.cover.correlation_id,
            idempotent=False,
        )

    # -- builders -----------------------------------------------------------------------------

    def command(self, domain: str, root: Any) -> CommandBuilder:
        """A :class:`~angzarr_client.builder.CommandBuilder` for an existing aggregate."""
        from ..builder import CommandBuilder

        return CommandBuilder(self, domain, root)

    def command_new(self, domain: str) -> CommandBuilder:
        """A command builder for a new aggregate, with a fresh ``uuid4`` root (see ``.root``)."""
        from ..builder import CommandBuilder

        return CommandBuilder(self, domain, uuid.uuid4())


AggregateClient = CommandHandlerClient
