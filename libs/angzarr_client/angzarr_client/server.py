"""Serve handler components over gRPC: transport from the environment, health, reflection, graceful stop.

| Variable          | Meaning                                              | Default         |
|-------------------|------------------------------------------------------|-----------------|
| ``TRANSPORT_TYPE``| ``tcp`` or ``uds`` (any case)                        | ``tcp``         |
| ``PORT``          | TCP port; ``0`` picks a free one                     | ``default_port``|
| ``BIND_HOST``     | TCP bind host                                        | ``[::]``        |
| ``UDS_PATH``      | full socket path                                     | —               |
| ``UDS_BASE_PATH`` | socket directory                                     | ``/tmp/angzarr``|
| ``SERVICE_NAME``  | socket file stem                                     | ``business``    |

The socket path is ``UDS_PATH``, else ``<base>/<stem>-<domain>.sock`` (``<base>/<stem>.sock``
without a domain). Blank variables count as unset; ``os.environ`` is never written.
"""

from __future__ import annotations

import logging
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection as grpc_reflection

from angzarr_client.errors import InvalidArgumentError
from angzarr_client.router import build_router
from angzarr_client.servicers import (
    CommandHandlerGrpc,
    ProcessManagerGrpc,
    ProjectorGrpc,
    SagaGrpc,
    UpcasterGrpc,
    servicer_for,
)

__all__ = [
    "ServerHandle",
    "Transport",
    "create_server",
    "run_aggregate_server",
    "run_command_handler_server",
    "run_components",
    "run_process_manager_server",
    "run_projector_server",
    "run_saga_server",
    "run_server",
    "run_upcaster_server",
    "transport_from_env",
]

DEFAULT_UDS_BASE = "/tmp/angzarr"
DEFAULT_SOCKET_STEM = "business"
DEFAULT_BIND_HOST = "[::]"
_MAX_MESSAGE = 64 * 1024 * 1024

_SERVER_OPTIONS = [
    # Clients send keepalive pings every 30 s during calls; accept anything every >= 10 s.
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
    # Without this a second server could bind the same TCP port silently.
    ("grpc.so_reuseport", 0),
]

AddFn = Callable[[Any, grpc.Server], None]


@dataclass(frozen=True)
class Transport:
    """Where a server listens: ``kind`` ``"tcp"`` (``host``, ``port``) or ``"uds"`` (``path``)."""

    kind: str
    host: str = DEFAULT_BIND_HOST
    port: int = 0
    path: str = ""

    @property
    def address(self) -> str:
        """The gRPC bind address: ``host:port`` or ``unix:<path>``."""
        if self.kind == "uds":
            return f"unix:{self.path}"
        return f"{self.host}:{self.port}"


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _parse_port(text: str | int, what: str) -> int:
    try:
        port = int(text)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{what} must be an integer 0-65535, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise InvalidArgumentError(f"{what} must be an integer 0-65535, got {text!r}")
    return port


def transport_from_env(
    default_port: str | int, domain: str = "", environ: Mapping[str, str] | None = None
) -> Transport:
    """The transport the environment asks for (pure: reads, never writes, the environment).

    Raises:
        InvalidArgumentError: an unknown ``TRANSPORT_TYPE`` or a bad port.
    """
    env = os.environ if environ is None else environ
    kind = (_env(env, "TRANSPORT_TYPE") or "tcp").lower()
    if kind == "tcp":
        port_text = _env(env, "PORT")
        port = (
            _parse_port(port_text, "PORT")
            if port_text is not None
            else _parse_port(default_port, "default_port")
        )
        return Transport("tcp", host=_env(env, "BIND_HOST") or DEFAULT_BIND_HOST, port=port)
    if kind == "uds":
        path = _env(env, "UDS_PATH")
        if path is None:
            base = _env(env, "UDS_BASE_PATH") or DEFAULT_UDS_BASE
            stem = _env(env, "SERVICE_NAME") or DEFAULT_SOCKET_STEM
            name = domain or _env(env, "DOMAIN") or ""
            path = str(Path(base) / (f"{stem}-{name}.sock" if name else f"{stem}.sock"))
        return Transport("uds", path=path)
    raise InvalidArgumentError(f"TRANSPORT_TYPE must be 'tcp' or 'uds', got {kind!r}")


def _service_full_name(add_fn: AddFn, servicer: Any) -> str:
    """The full gRPC service name ``add_fn`` registers (e.g. ``angzarr.CommandHandlerService``)."""
    declared = getattr(servicer, "service_full_name", "")
    if declared:
        return declared
    short = add_fn.__name__.removeprefix("add_").removesuffix("Servicer_to_server")
    module = sys.modules.get(add_fn.__module__)
    for value in vars(module).values() if module is not None else ():
        descriptor = getattr(value, "DESCRIPTOR", None)
        services = getattr(descriptor, "services_by_name", None)
        if services and short in services:
            return services[short].full_name
    return short


def _prepare_socket(path: str) -> None:
    socket_path = Path(path)
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = socket_path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise InvalidArgumentError(f"{path} exists and is not a socket; refusing to replace it")
    socket_path.unlink()  # a stale socket from a previous run


class ServerHandle:
    """A bound, not yet started gRPC server with health checking.

    Health (``grpc.health.v1``) covers ``""``, every hosted service and ``service_name``: NOT_SERVING
    until :meth:`start` returns, then SERVING, and NOT_SERVING again as soon as :meth:`stop` begins.
    """

    def __init__(
        self, server: grpc.Server, transport: Transport, port: int, service_name: str, reflection: bool
    ) -> None:
        self.server = server
        self.transport = transport
        self.port = port
        self.service_name = service_name
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        self._names: list[str] = [""] + ([service_name] if service_name else [])
        self._reflection = reflection
        self._started = False
        self._stopped = False
        self._lock = threading.Lock()
        self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)

    @property
    def address(self) -> str:
        """The address clients dial: ``host:port`` (the bound port) or ``unix:<path>``."""
        if self.transport.kind == "uds":
            return self.transport.address
        host = self.transport.host
        if host in ("[::]", "0.0.0.0", ""):
            host = "localhost"
        return f"{host}:{self.port}"

    @property
    def service_names(self) -> list[str]:
        """Health entries: ``""``, ``service_name`` and each hosted gRPC service."""
        return list(self._names)

    def _set_all(self, status: int) -> None:
        for name in self._names:
            self.health.set(name, status)

    def add(self, add_fn: AddFn, servicer: Any) -> ServerHandle:
        """Host another servicer (before :meth:`start`); returns the handle.

        Raises:
            RuntimeError: the server has already started.
        """
        if self._started:
            raise RuntimeError("servicers must be added before start()")
        add_fn(servicer, self.server)
        name = _service_full_name(add_fn, servicer)
        if name not in self._names:
            self._names.append(name)
        self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        return self

    def start(self) -> ServerHandle:
        """Start serving and report SERVING."""
        with self._lock:
            if self._started:
                return self
            if self._reflection:
                names = [n for n in self._names if n and n != self.service_name]
                grpc_reflection.enable_server_reflection(
                    [*names, health.SERVICE_NAME, grpc_reflection.SERVICE_NAME], self.server
                )
            self.server.start()
            self._started = True
            self._set_all(health_pb2.HealthCheckResponse.SERVING)
        return self

    def stop(self, grace: float | None = 10.0) -> None:
        """Report NOT_SERVING, let in-flight calls finish within ``grace`` seconds, remove the socket.

        Idempotent.
        """
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
            self.health.enter_graceful_shutdown()
        self._end_health_watches()
        self.server.stop(grace).wait()
        if self.transport.kind == "uds":
            try:
                Path(self.transport.path).unlink()
            except FileNotFoundError:
                pass

    def _end_health_watches(self) -> None:
        # Watch streams never end on their own; left open they would hold a graceful stop for
        # the whole grace period. Watchers have just been sent NOT_SERVING; now end the streams.
        callbacks_by_service = getattr(self.health, "_send_response_callbacks", {})
        with getattr(self.health, "_lock", threading.RLock()):
            callbacks = [cb for group in callbacks_by_service.values() for cb in list(group)]
        for callback in callbacks:
            try:
                callback(None)
            except Exception:  # a stream that is already closing
                pass

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return self.server.wait_for_termination(timeout)

    def __enter__(self) -> ServerHandle:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(grace=1.0)


def create_server(
    add_fn: AddFn,
    servicer: Any,
    service_name: str = "",
    domain: str = "",
    default_port: str | int = "50052",
    *,
    reflection: bool = False,
    max_workers: int = 10,
    environ: Mapping[str, str] | None = None,
) -> ServerHandle:
    """A bound server hosting ``servicer``, with health, not started.

    Raises:
        InvalidArgumentError: a bad transport configuration, or a path in the way of the socket.
        OSError: the address could not be bound.
    """
    transport = transport_from_env(default_port, domain, environ)
    if transport.kind == "uds":
        _prepare_socket(transport.path)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers), options=_SERVER_OPTIONS)
    try:
        port = server.add_insecure_port(transport.address)
    except RuntimeError as exc:
        raise OSError(f"cannot bind {transport.address}: {exc}") from exc
    if transport.kind == "tcp" and port == 0:
        raise OSError(f"cannot bind {transport.address}")
    handle = ServerHandle(server, transport, port if transport.kind == "tcp" else 0, service_name, reflection)
    handle.add(add_fn, servicer)
    return handle


def _log(logger: Any, event: str, **fields: Any) -> None:
    if logger is None:
        logger = structlog.get_logger("angzarr_client.server")
    if isinstance(logger, logging.Logger):
        logger.info("%s %s", event, " ".join(f"{k}={v}" for k, v in fields.items()))
    else:
        logger.info(event, **fields)


def _serve(handle: ServerHandle, logger: Any, grace: float) -> None:
    """Start ``handle``, block until a signal (main thread) or termination, then stop gracefully."""
    stop_requested = threading.Event()
    on_main = threading.current_thread() is threading.main_thread()
    previous: dict[int, Any] = {}
    if on_main:

        def request_stop(signum: int, _frame: Any) -> None:
            stop_requested.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, request_stop)
    try:
        handle.start()
        _log(
            logger,
            "server_started",
            service=handle.service_name,
            address=handle.address,
            transport=handle.transport.kind,
        )
        if on_main:
            # Short waits so the signal handler runs promptly on the main thread.
            while not stop_requested.wait(0.2):
                if not handle.wait_for_termination(0):  # False: terminated, not timed out
                    break
        else:
            handle.wait_for_termination()
    finally:
        _log(logger, "server_stopping", service=handle.service_name, grace=grace)
        handle.stop(grace)
        for sig, old in previous.items():
            signal.signal(sig, old)
        _log(logger, "server_stopped", service=handle.service_name)


def run_server(
    add_fn: AddFn,
    servicer: Any,
    service_name: str = "",
    domain: str = "",
    default_port: str | int = "50052",
    logger: Any = None,
    *,
    reflection: bool = False,
    grace: float = 10.0,
) -> None:
    """Serve ``servicer`` until SIGTERM/SIGINT (on the main thread), then stop gracefully.

    Logs ``server_started``; returns after the graceful stop.

    Raises:
        InvalidArgumentError: a bad transport configuration.
        OSError: the address could not be bound.
    """
    handle = create_server(add_fn, servicer, service_name, domain, default_port, reflection=reflection)
    _serve(handle, logger, grace)


def run_components(
    *components: Any,
    default_port: str | int = "50052",
    service_name: str | None = None,
    domain: str | None = None,
    logger: Any = None,
    reflection: bool = False,
    grace: float = 10.0,
) -> None:
    """Serve several components (at most one of each kind) on one server.

    Raises:
        TypeError: no components, two of the same kind, or a non-component.
    """
    if not components:
        raise TypeError("run_components() needs at least one component")
    servicers = [servicer_for(c) for c in components]
    kinds = [s.kind for s in servicers]
    for kind in kinds:
        if kinds.count(kind) > 1:
            raise TypeError(
                f"run_components(): two {kind.replace('_', ' ')} components; host one of each kind"
            )
    first = servicers[0]
    if domain is None:
        domain = next((getattr(s.router, "domain", "") for s in servicers if s.kind == "command_handler"), "")
    handle = create_server(
        type(first)._add_fn,
        first,
        service_name or first.router.name,
        domain,
        default_port,
        reflection=reflection,
    )
    for extra in servicers[1:]:
        handle.add(type(extra)._add_fn, extra)
    _serve(handle, logger, grace)


def _run_one(
    servicer_cls: type,
    component: Any,
    default_port: str | int,
    logger: Any,
    service_name: str | None,
    reflection: bool,
    grace: float,
) -> None:
    router = build_router(component)
    servicer = servicer_cls(router)
    run_server(
        servicer_cls._add_fn,
        servicer,
        service_name or router.name,
        getattr(router, "domain", ""),
        default_port,
        logger,
        reflection=reflection,
        grace=grace,
    )


def run_command_handler_server(
    handler: Any,
    default_port: str | int = "50052",
    *,
    logger: Any = None,
    service_name: str | None = None,
    reflection: bool = False,
    grace: float = 10.0,
) -> None:
    """Serve a command handler (class, instance, ``CommandRouter`` or router). Blocks until stopped."""
    _run_one(CommandHandlerGrpc, handler, default_port, logger, service_name, reflection, grace)


run_aggregate_server = run_command_handler_server


def run_saga_server(
    saga: Any,
    default_port: str | int = "50052",
    *,
    logger: Any = None,
    service_name: str | None = None,
    reflection: bool = False,
    grace: float = 10.0,
) -> None:
    """Serve a saga. Blocks until stopped."""
    _run_one(SagaGrpc, saga, default_port, logger, service_name, reflection, grace)


def run_process_manager_server(
    pm: Any,
    default_port: str | int = "50052",
    *,
    logger: Any = None,
    service_name: str | None = None,
    reflection: bool = False,
    grace: float = 10.0,
) -> None:
    """Serve a process manager. Blocks until stopped."""
    _run_one(ProcessManagerGrpc, pm, default_port, logger, service_name, reflection, grace)


def run_projector_server(
    projector: Any,
    default_port: str | int = "50052",
    *,
    logger: Any = None,
    service_name: str | None = None,
    reflection: bool = False,
    grace: float = 10.0,
) -> None:
    """Serve a projector. Blocks until stopped."""
    _run_one(ProjectorGrpc, projector, default_port, logger, service_name, reflection, grace)


def run_upcaster_server(
    upcaster: Any,
    default_port: str | int = "50052",
    *,
    logger: Any = None,
    service_name: str | None = None,
    reflection: bool = False,
    grace: float = 10.0,
) -> None:
    """Serve an upcaster. Blocks until stopped."""
    _run_one(UpcasterGrpc, upcaster, default_port, logger, service_name, reflection, grace)
