"""Shared fixtures for the angzarr_client tests.

``coordinator`` (and ``tcp_coordinator`` / ``uds_coordinator``) start a real gRPC server on a real
socket that implements every coordinator service a client talks to
(``CommandHandlerCoordinatorService``, ``EventQueryService``, ``EventStreamService`` and the saga,
projector and process-manager coordinator services). It records each request with its metadata and
deadline, and answers from a per-method script: a message (or a list for streams), a failure with
rich details in ``grpc-status-details-bin``, silence until the client gives up, or a callable.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from collections import defaultdict, deque
from collections.abc import Iterable
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.message import Message
from google.rpc import status_pb2

from angzarr_client.proto.angzarr import (
    command_handler_pb2,
    process_manager_pb2,
    projector_pb2,
    query_pb2,
    saga_pb2,
    stream_pb2,
)
from angzarr_client.typeurl import pack

COORDINATOR_SERVICES = [
    command_handler_pb2.DESCRIPTOR.services_by_name["CommandHandlerCoordinatorService"],
    query_pb2.DESCRIPTOR.services_by_name["EventQueryService"],
    stream_pb2.DESCRIPTOR.services_by_name["EventStreamService"],
    saga_pb2.DESCRIPTOR.services_by_name["SagaCoordinatorService"],
    projector_pb2.DESCRIPTOR.services_by_name["ProjectorCoordinatorService"],
    process_manager_pb2.DESCRIPTOR.services_by_name["ProcessManagerCoordinatorService"],
]


@dataclass
class Fail:
    """Script entry: abort with ``code`` and ``details``; ``rich`` messages go into a google.rpc.Status."""

    code: grpc.StatusCode
    details: str = ""
    rich: Iterable[Message] = ()


@dataclass
class Silent:
    """Script entry: answer nothing until the client's deadline passes or it cancels."""


@dataclass
class StreamThenHold:
    """Script entry for streams: send ``items``, then keep the stream open until the client cancels."""

    items: list = field(default_factory=list)


@dataclass
class RecordedCall:
    method: str
    request: Message
    metadata: dict[str, str]
    time_remaining: float | None


class ScriptedCoordinator:
    """A real gRPC server speaking the coordinator services from scripts (see module docstring)."""

    def __init__(self, transport: str) -> None:
        self.calls: list[RecordedCall] = []
        self._scripts: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()
        self._methods: dict[str, Any] = {}
        self.held_streams_finished = threading.Event()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        handlers = []
        for service in COORDINATOR_SERVICES:
            table = {}
            for method in service.methods:
                path = f"/{service.full_name}/{method.name}"
                self._methods[path] = method
                table[method.name] = self._handler(path, method)
            handlers.append(grpc.method_handlers_generic_handler(service.full_name, table))
        self._server.add_generic_rpc_handlers(handlers)
        self._tmpdir: str | None = None
        if transport == "tcp":
            port = self._server.add_insecure_port("127.0.0.1:0")
            self.endpoint = f"127.0.0.1:{port}"
        elif transport == "uds":
            # Short directory: Unix socket paths are limited to ~100 bytes.
            self._tmpdir = tempfile.mkdtemp(prefix="azc", dir="/tmp")
            self.socket_path = f"{self._tmpdir}/ch.sock"
            self._server.add_insecure_port("unix:" + self.socket_path)
            self.endpoint = self.socket_path
        else:
            raise ValueError(transport)
        self.transport = transport
        self._server.start()

    # -- scripting ----------------------------------------------------------------------------

    def _path(self, method: str) -> str:
        if method.startswith("/"):
            return method
        if "/" in method:
            return f"/angzarr.{method}"
        matches = [p for p in self._methods if p.endswith("/" + method)]
        if len(matches) != 1:
            raise KeyError(f"method {method!r} is ambiguous or unknown: {matches}")
        return matches[0]

    def script(self, method: str, *entries: Any) -> ScriptedCoordinator:
        """Queue replies for ``method`` ("HandleCommand", "EventQueryService/GetEvents", or a full path)."""
        with self._lock:
            self._scripts[self._path(method)].extend(entries)
        return self

    def reply(self, method: str, *responses: Any) -> ScriptedCoordinator:
        """Queue replies: a message per unary call, a list of messages per streaming call."""
        return self.script(method, *responses)

    def fail(
        self,
        method: str,
        code: grpc.StatusCode,
        details: str = "",
        rich: Iterable[Message] = (),
        times: int = 1,
    ) -> ScriptedCoordinator:
        """Queue ``times`` failures with ``code``; ``rich`` messages travel as google.rpc.Status details."""
        return self.script(method, *[Fail(code, details, list(rich)) for _ in range(times)])

    def silent(self, method: str, times: int = 1) -> ScriptedCoordinator:
        """Queue calls that never answer (until the client's deadline or cancel)."""
        return self.script(method, *[Silent() for _ in range(times)])

    def hold_stream(self, method: str, items: list) -> ScriptedCoordinator:
        """Queue a stream that sends ``items`` and then stays open until the client cancels."""
        return self.script(method, StreamThenHold(list(items)))

    def calls_to(self, method: str) -> list[RecordedCall]:
        path = self._path(method)
        return [c for c in self.calls if c.method == path]

    # -- serving ------------------------------------------------------------------------------

    def _next_entry(self, path: str) -> Any:
        with self._lock:
            queue = self._scripts[path]
            return queue.popleft() if queue else None

    def _record(self, path: str, request: Message, context: grpc.ServicerContext) -> None:
        metadata = {k: v for k, v in context.invocation_metadata()}
        remaining = context.time_remaining()
        # gRPC reports "no deadline" as an enormous remaining time; record it as None.
        if remaining is not None and remaining > 10**9:
            remaining = None
        with self._lock:
            self.calls.append(RecordedCall(path, request, metadata, remaining))

    @staticmethod
    def _fail(entry: Fail, context: grpc.ServicerContext) -> None:
        rich = list(entry.rich)
        if rich:
            status = status_pb2.Status(
                code=entry.code.value[0], message=entry.details, details=[pack(m) for m in rich]
            )
            context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
        context.abort(entry.code, entry.details)

    @staticmethod
    def _hold(context: grpc.ServicerContext) -> None:
        done = threading.Event()
        # add_callback returns False when the RPC has already ended (the client was quicker).
        if context.add_callback(done.set) and context.is_active():
            done.wait(30)

    def _handler(self, path: str, method: Any) -> grpc.RpcMethodHandler:
        request_cls = message_factory.GetMessageClass(method.input_type)
        response_cls = message_factory.GetMessageClass(method.output_type)

        def resolve(request: Message, context: grpc.ServicerContext) -> Any:
            self._record(path, request, context)
            entry = self._next_entry(path)
            if callable(entry) and not isinstance(entry, Message):
                entry = entry(request, context)
            if isinstance(entry, Fail):
                self._fail(entry, context)
            return entry

        if method.server_streaming:

            def stream(request: Message, context: grpc.ServicerContext):
                entry = resolve(request, context)
                if isinstance(entry, Silent):
                    self._hold(context)
                    return
                if isinstance(entry, StreamThenHold):
                    # Registered while the RPC is live, so it fires whenever the client ends it, even
                    # if the server never resumes this generator after the client cancels.
                    context.add_callback(self.held_streams_finished.set)
                    yield from entry.items
                    self._hold(context)
                    return
                yield from (entry or [])

            return grpc.unary_stream_rpc_method_handler(
                stream,
                request_deserializer=request_cls.FromString,
                response_serializer=response_cls.SerializeToString,
            )

        def unary(request: Message, context: grpc.ServicerContext):
            entry = resolve(request, context)
            if isinstance(entry, Silent):
                self._hold(context)
                return response_cls()
            return entry if entry is not None else response_cls()

        return grpc.unary_unary_rpc_method_handler(
            unary,
            request_deserializer=request_cls.FromString,
            response_serializer=response_cls.SerializeToString,
        )

    def stop(self) -> None:
        self._server.stop(grace=None).wait()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


def _serve(transport: str):
    server = ScriptedCoordinator(transport)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["tcp", "uds"])
def coordinator(request):
    """A scripted coordinator on TCP, then on a Unix socket (the test runs once per transport)."""
    yield from _serve(request.param)


@pytest.fixture
def tcp_coordinator():
    yield from _serve("tcp")


@pytest.fixture
def uds_coordinator():
    yield from _serve("uds")


@pytest.fixture
def closed_port_endpoint() -> str:
    """``127.0.0.1:<port>`` where nothing listens (the port was just bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"127.0.0.1:{port}"
