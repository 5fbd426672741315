"""gRPC servicers for built routers, and the one table mapping exceptions to status codes (§14).

A servicer never answers UNKNOWN: every exception a handler raises becomes a deliberate status.

| Raised                   | Status                                                   |
|--------------------------|----------------------------------------------------------|
| CommandRejectedError     | its ``status_code``, message verbatim (logged at info)   |
| InvalidArgumentError     | INVALID_ARGUMENT                                         |
| StateRebuildError        | INTERNAL, ``cannot rebuild state: ...``                  |
| NotImplementedError      | UNIMPLEMENTED                                            |
| anything else            | INTERNAL, ``<component> failed: <Type>: <msg>`` (logged with traceback) |
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import grpc
import structlog

from angzarr_client.errors import CommandRejectedError, InvalidArgumentError, StateRebuildError
from angzarr_client.proto.angzarr import (
    command_handler_pb2,
    command_handler_pb2_grpc,
    process_manager_pb2,
    process_manager_pb2_grpc,
    projector_pb2_grpc,
    saga_pb2,
    saga_pb2_grpc,
    types_pb2,
    upcaster_pb2,
    upcaster_pb2_grpc,
)
from angzarr_client.router import (
    COMMAND_HANDLER,
    PROCESS_MANAGER,
    PROJECTOR,
    SAGA,
    UPCASTER,
    BuiltRouter,
    build_router,
)

__all__ = [
    "CommandHandlerGrpc",
    "ProcessManagerGrpc",
    "ProjectorGrpc",
    "SagaGrpc",
    "UpcasterGrpc",
    "servicer_for",
    "status_for",
]

_log = structlog.get_logger("angzarr_client.servicers")

R = TypeVar("R")


def status_for(exc: BaseException, component: str) -> tuple[grpc.StatusCode, str]:
    """The status code and details a servicer answers for ``exc`` (the table above)."""
    if isinstance(exc, CommandRejectedError):
        return exc.status_code, exc.message
    if isinstance(exc, InvalidArgumentError):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if isinstance(exc, StateRebuildError):
        return grpc.StatusCode.INTERNAL, f"cannot rebuild state: {exc}"
    if isinstance(exc, NotImplementedError):
        return grpc.StatusCode.UNIMPLEMENTED, str(exc) or f"{component}: not implemented"
    return grpc.StatusCode.INTERNAL, f"{component} failed: {type(exc).__name__}: {exc}"


def _cover_fields(request: Any) -> tuple[str, str]:
    """(correlation id, domain) of the cover a request is about, for log context."""
    cover = _request_cover(request)
    if cover is None:
        return "", ""
    return cover.correlation_id, cover.domain


def _request_cover(request: Any) -> types_pb2.Cover | None:
    if isinstance(request, types_pb2.ContextualCommand):
        return request.command.cover
    if isinstance(request, types_pb2.EventBook):
        return request.cover
    if isinstance(request, saga_pb2.SagaHandleRequest):
        return request.source.cover
    if isinstance(
        request,
        process_manager_pb2.ProcessManagerHandleRequest | process_manager_pb2.ProcessManagerPrepareRequest,
    ):
        return request.trigger.cover
    return None


class _Servicer:
    """Shared plumbing: the built router, log context per RPC, and the status mapping."""

    kind: str = ""
    service_full_name: str = ""
    _add_fn: Callable[[Any, grpc.Server], None]

    def __init__(self, component: Any) -> None:
        router = build_router(component)
        if router.kind != self.kind:
            raise TypeError(
                f"{type(self).__name__} serves a {self.kind.replace('_', ' ')}, "
                f"got a {router.kind.replace('_', ' ')} ({component!r})"
            )
        self.router: BuiltRouter = router

    @property
    def component(self) -> str:
        return self.router.name

    def add_to_server(self, server: grpc.Server) -> None:
        type(self)._add_fn(self, server)

    @contextmanager
    def _rpc(self, method: str, request: Any, context: grpc.ServicerContext) -> Iterator[None]:
        correlation_id, domain = _cover_fields(request)
        with structlog.contextvars.bound_contextvars(
            correlation_id=correlation_id,
            domain=domain or getattr(self.router, "domain", ""),
            component=self.component,
        ):
            try:
                yield
            except Exception as exc:
                code, details = status_for(exc, self.component)
                if isinstance(exc, CommandRejectedError):
                    _log.info("command_rejected", method=method, code=code.name, reason=details)
                elif code == grpc.StatusCode.INTERNAL:
                    _log.error("handler_failed", method=method, code=code.name, exc_info=exc)
                else:
                    _log.info("request_refused", method=method, code=code.name, reason=details)
                context.abort(code, details)

    def _call(self, method: str, request: Any, context: grpc.ServicerContext, fn: Callable[[], R]) -> R:
        with self._rpc(method, request, context):
            return fn()
        raise AssertionError("unreachable: context.abort raises")  # pragma: no cover


class CommandHandlerGrpc(_Servicer, command_handler_pb2_grpc.CommandHandlerServiceServicer):
    """``angzarr.CommandHandlerService`` for a command handler class/instance, ``CommandRouter`` or router."""

    kind = COMMAND_HANDLER
    service_full_name = "angzarr.CommandHandlerService"
    _add_fn = staticmethod(command_handler_pb2_grpc.add_CommandHandlerServiceServicer_to_server)

    def Handle(
        self, request: types_pb2.ContextualCommand, context: grpc.ServicerContext
    ) -> command_handler_pb2.BusinessResponse:
        return self._call("Handle", request, context, lambda: self.router.dispatch(request))

    def Replay(
        self, request: command_handler_pb2.ReplayRequest, context: grpc.ServicerContext
    ) -> command_handler_pb2.ReplayResponse:
        return self._call("Replay", request, context, lambda: self.router.replay(request))


class SagaGrpc(_Servicer, saga_pb2_grpc.SagaServiceServicer):
    """``angzarr.SagaService`` for a saga."""

    kind = SAGA
    service_full_name = "angzarr.SagaService"
    _add_fn = staticmethod(saga_pb2_grpc.add_SagaServiceServicer_to_server)

    def Handle(
        self, request: saga_pb2.SagaHandleRequest, context: grpc.ServicerContext
    ) -> saga_pb2.SagaResponse:
        return self._call("Handle", request, context, lambda: self.router.dispatch(request))


class ProcessManagerGrpc(_Servicer, process_manager_pb2_grpc.ProcessManagerServiceServicer):
    """``angzarr.ProcessManagerService`` for a process manager."""

    kind = PROCESS_MANAGER
    service_full_name = "angzarr.ProcessManagerService"
    _add_fn = staticmethod(process_manager_pb2_grpc.add_ProcessManagerServiceServicer_to_server)

    def Prepare(
        self, request: process_manager_pb2.ProcessManagerPrepareRequest, context: grpc.ServicerContext
    ) -> process_manager_pb2.ProcessManagerPrepareResponse:
        return self._call("Prepare", request, context, lambda: self.router.prepare(request))

    def Handle(
        self, request: process_manager_pb2.ProcessManagerHandleRequest, context: grpc.ServicerContext
    ) -> process_manager_pb2.ProcessManagerHandleResponse:
        return self._call("Handle", request, context, lambda: self.router.dispatch(request))


class ProjectorGrpc(_Servicer, projector_pb2_grpc.ProjectorServiceServicer):
    """``angzarr.ProjectorService`` for a projector; ``HandleSpeculative`` sets ``ctx.speculative``."""

    kind = PROJECTOR
    service_full_name = "angzarr.ProjectorService"
    _add_fn = staticmethod(projector_pb2_grpc.add_ProjectorServiceServicer_to_server)

    def Handle(self, request: types_pb2.EventBook, context: grpc.ServicerContext) -> types_pb2.Projection:
        return self._call("Handle", request, context, lambda: self.router.dispatch(request))

    def HandleSpeculative(
        self, request: types_pb2.EventBook, context: grpc.ServicerContext
    ) -> types_pb2.Projection:
        return self._call(
            "HandleSpeculative", request, context, lambda: self.router.dispatch(request, speculative=True)
        )


class UpcasterGrpc(_Servicer, upcaster_pb2_grpc.UpcasterServiceServicer):
    """``angzarr.UpcasterService`` for an upcaster."""

    kind = UPCASTER
    service_full_name = "angzarr.UpcasterService"
    _add_fn = staticmethod(upcaster_pb2_grpc.add_UpcasterServiceServicer_to_server)

    def Upcast(
        self, request: upcaster_pb2.UpcastRequest, context: grpc.ServicerContext
    ) -> upcaster_pb2.UpcastResponse:
        return self._call("Upcast", request, context, lambda: self.router.dispatch(request))


_SERVICERS: dict[str, type[_Servicer]] = {
    cls.kind: cls for cls in (CommandHandlerGrpc, SagaGrpc, ProcessManagerGrpc, ProjectorGrpc, UpcasterGrpc)
}


def servicer_for(component: Any) -> _Servicer:
    """The servicer matching a component's kind (a built router is used as is).

    Raises:
        TypeError: ``component`` is not a handler component.
    """
    router = build_router(component)
    return _SERVICERS[router.kind](router)
