"""``SpeculativeClient``: dry runs of commands, sagas, projectors and process managers (nothing persists)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from ..errors import InvalidArgumentError
from ..proto.angzarr import (
    command_handler_pb2,
    command_handler_pb2_grpc,
    process_manager_pb2,
    process_manager_pb2_grpc,
    projector_pb2,
    projector_pb2_grpc,
    saga_pb2,
    saga_pb2_grpc,
    types_pb2,
)
from ..timestamps import parse_timestamp, to_timestamp
from .base import BaseClient, check_book

__all__ = ["SpeculativeClient", "SpeculateAggregateRequest"]

_CH = "/angzarr.CommandHandlerCoordinatorService/"
_SAGA = "/angzarr.SagaCoordinatorService/"
_PROJECTOR = "/angzarr.ProjectorCoordinatorService/"
_PM = "/angzarr.ProcessManagerCoordinatorService/"

PointInTime = types_pb2.TemporalQuery | int | timestamp_pb2.Timestamp | _dt.datetime | str


def _temporal(point: PointInTime) -> types_pb2.TemporalQuery:
    if isinstance(point, types_pb2.TemporalQuery):
        copy = types_pb2.TemporalQuery()
        copy.CopyFrom(point)
        return copy
    if isinstance(point, bool):
        raise InvalidArgumentError(f"point_in_time cannot be a bool, got {point!r}")
    if isinstance(point, int):
        if not 0 <= point < 2**32:
            raise InvalidArgumentError(f"point_in_time sequence must be in 0..2^32-1, got {point}")
        return types_pb2.TemporalQuery(as_of_sequence=point)
    if isinstance(point, timestamp_pb2.Timestamp):
        return types_pb2.TemporalQuery(as_of_time=point)
    if isinstance(point, _dt.datetime):
        return types_pb2.TemporalQuery(as_of_time=to_timestamp(point))
    if isinstance(point, str):
        return types_pb2.TemporalQuery(as_of_time=parse_timestamp(point))
    raise InvalidArgumentError(
        f"point_in_time must be a TemporalQuery, a sequence, a Timestamp, a datetime or RFC 3339 text, "
        f"got {type(point).__name__}"
    )


def _last_position(events: types_pb2.EventBook | Iterable[types_pb2.EventPage]) -> int | None:
    """The sequence of the last event in ``events`` (or its snapshot); ``None`` when empty."""
    if isinstance(events, types_pb2.EventBook):
        if events.pages:
            return events.pages[-1].header.sequence
        if events.HasField("snapshot"):
            return events.snapshot.sequence
        return None
    pages = list(events)
    for page in pages:
        if not isinstance(page, types_pb2.EventPage):
            raise InvalidArgumentError(
                f"events must be an EventBook or EventPages, got {type(page).__name__}"
            )
    return pages[-1].header.sequence if pages else None


@dataclass
class SpeculateAggregateRequest:
    """A speculative command for :meth:`SpeculativeClient.aggregate` (a Python type, not a message).

    An explicit ``point_in_time`` is used as given. Otherwise the command runs as of the last event in
    ``events`` (or its snapshot): only that position is sent, so ``events`` must be a prefix of stored
    history. Empty or absent ``events`` mean current state.

    Raises:
        InvalidArgumentError: both ``events`` and ``point_in_time`` given, or a value of the wrong type.
    """

    command: types_pb2.CommandBook
    events: types_pb2.EventBook | Iterable[types_pb2.EventPage] | None = None
    point_in_time: PointInTime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.command, types_pb2.CommandBook):
            raise InvalidArgumentError(
                f"command must be an angzarr.CommandBook, got {type(self.command).__name__}"
            )
        if self.events is not None and self.point_in_time is not None:
            raise InvalidArgumentError("give either events or point_in_time, not both")
        if self.events is not None and not isinstance(self.events, types_pb2.EventBook):
            self.events = list(self.events)  # a generator would otherwise be consumed once
        self._where()  # validate now, in the call that received the values

    def _where(self) -> tuple[types_pb2.TemporalQuery | None, int | None]:
        point = _temporal(self.point_in_time) if self.point_in_time is not None else None
        position = _last_position(self.events) if self.events is not None else None
        return point, position

    def to_proto(self) -> command_handler_pb2.SpeculateCommandHandlerRequest:
        """The ``SpeculateCommandHandlerRequest`` to send."""
        request = command_handler_pb2.SpeculateCommandHandlerRequest()
        request.command.CopyFrom(self.command)
        point, position = self._where()
        if point is not None:
            request.point_in_time.CopyFrom(point)
        elif position is not None:
            request.point_in_time.as_of_sequence = position
        return request


class SpeculativeClient(BaseClient):
    """Speculative execution across the coordinator services; nothing is persisted."""

    def _init_stubs(self, channel: grpc.Channel) -> None:
        self._ch_stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
        self._saga_stub = saga_pb2_grpc.SagaCoordinatorServiceStub(channel)
        self._projector_stub = projector_pb2_grpc.ProjectorCoordinatorServiceStub(channel)
        self._pm_stub = process_manager_pb2_grpc.ProcessManagerCoordinatorServiceStub(channel)

    @classmethod
    def from_stubs(
        cls, command_handler_stub: Any, saga_stub: Any, projector_stub: Any, pm_stub: Any, **kw: Any
    ) -> SpeculativeClient:
        """A client on four prebuilt stubs (test seam; no channel)."""
        client = cls._bare(**kw)
        client._ch_stub = command_handler_stub
        client._saga_stub = saga_stub
        client._projector_stub = projector_stub
        client._pm_stub = pm_stub
        return client

    @property
    def stubs(self) -> tuple[Any, Any, Any, Any]:
        """The raw command-handler, saga, projector and process-manager coordinator stubs."""
        return self._ch_stub, self._saga_stub, self._projector_stub, self._pm_stub

    def command_handler(
        self,
        request: command_handler_pb2.SpeculateCommandHandlerRequest | SpeculateAggregateRequest,
        timeout: float | None = None,
    ) -> command_handler_pb2.CommandResponse:
        """``HandleSyncSpeculative``: the events the command would produce.

        Raises:
            InvalidArgumentError: a malformed request or bad timeout.
            ConnectionError: the client is closed.
            GRPCError: the RPC failed.
        """
        if isinstance(request, SpeculateAggregateRequest):
            request = request.to_proto()
        if not isinstance(request, command_handler_pb2.SpeculateCommandHandlerRequest):
            raise InvalidArgumentError(
                "expected a SpeculateCommandHandlerRequest or SpeculateAggregateRequest, "
                f"got {type(request).__name__}"
            )
        check_book(request.command, types_pb2.CommandBook, "request.command")
        return self._unary(
            self._ch_stub.HandleSyncSpeculative,
            _CH + "HandleSyncSpeculative",
            request,
            timeout=timeout,
            cid=request.command.cover.correlation_id,
            idempotent=True,
        )

    aggregate = command_handler

    def projector(
        self, request: projector_pb2.SpeculateProjectorRequest, timeout: float | None = None
    ) -> types_pb2.Projection:
        """The projector coordinator's ``HandleSpeculative``. Raises: as :meth:`command_handler`."""
        if not isinstance(request, projector_pb2.SpeculateProjectorRequest):
            raise InvalidArgumentError(f"expected a SpeculateProjectorRequest, got {type(request).__name__}")
        check_book(request.events, types_pb2.EventBook, "request.events")
        return self._unary(
            self._projector_stub.HandleSpeculative,
            _PROJECTOR + "HandleSpeculative",
            request,
            timeout=timeout,
            cid=request.events.cover.correlation_id,
            idempotent=True,
        )

    def saga(
        self, request: saga_pb2.SpeculateSagaRequest, timeout: float | None = None
    ) -> saga_pb2.SagaResponse:
        """The saga coordinator's ``ExecuteSpeculative``. Raises: as :meth:`command_handler`."""
        if not isinstance(request, saga_pb2.SpeculateSagaRequest):
            raise InvalidArgumentError(f"expected a SpeculateSagaRequest, got {type(request).__name__}")
        check_book(request.request.source, types_pb2.EventBook, "request.request.source")
        return self._unary(
            self._saga_stub.ExecuteSpeculative,
            _SAGA + "ExecuteSpeculative",
            request,
            timeout=timeout,
            cid=request.request.source.cover.correlation_id,
            idempotent=True,
        )

    def process_manager(
        self, request: process_manager_pb2.SpeculatePmRequest, timeout: float | None = None
    ) -> process_manager_pb2.ProcessManagerHandleResponse:
        """The PM coordinator's ``HandleSpeculative``. The trigger needs a correlation id.

        Raises: as :meth:`command_handler`; ``InvalidArgumentError`` for a trigger without correlation id.
        """
        if not isinstance(request, process_manager_pb2.SpeculatePmRequest):
            raise InvalidArgumentError(f"expected a SpeculatePmRequest, got {type(request).__name__}")
        trigger = request.request.trigger
        check_book(trigger, types_pb2.EventBook, "request.request.trigger")
        if not trigger.cover.correlation_id:
            raise InvalidArgumentError(
                "process manager trigger has no correlation id: "
                "set request.request.trigger.cover.correlation_id"
            )
        return self._unary(
            self._pm_stub.HandleSpeculative,
            _PM + "HandleSpeculative",
            request,
            timeout=timeout,
            cid=trigger.cover.correlation_id,
            idempotent=True,
        )
