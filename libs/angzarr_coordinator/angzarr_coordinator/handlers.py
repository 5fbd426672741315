"""Channels to business services and the mapping of their replies (spec/coordinator.md §3.3).

One ``grpc.aio`` channel per endpoint (a UDS path or ``host:port``), opened at start. A call carries
the trace context and, for a command, the handler deadline; its failures become ``RpcFailure``s with
the codes of §3.3: business rejections keep their code and message, an unreachable handler is
``UNAVAILABLE``, a timeout ``DEADLINE_EXCEEDED``, ``UNIMPLEMENTED``/``RESOURCE_EXHAUSTED`` pass through
and anything else is ``INTERNAL``.
"""

from __future__ import annotations

import asyncio

import grpc
from opentelemetry import propagate

from angzarr_client.proto.angzarr import (
    command_handler_pb2,
    command_handler_pb2_grpc,
    projector_pb2_grpc,
    types_pb2,
    upcaster_pb2,
    upcaster_pb2_grpc,
)

from .richerror import RpcFailure
from .topology import Limits

REJECTION_CODES = frozenset(
    {
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.PERMISSION_DENIED,
    }
)
_PASSED_THROUGH = frozenset({grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.RESOURCE_EXHAUSTED})
CASCADE_METADATA_BYTES = 1024 * 1024


def channel_target(endpoint: str) -> str:
    """A gRPC target for a topology endpoint: ``unix:`` for socket paths, else ``host:port``."""
    if endpoint.startswith(("unix:", "dns:", "ipv4:", "ipv6:")):
        return endpoint
    if endpoint.startswith("/") or endpoint.endswith(".sock"):
        return f"unix:{endpoint}"
    return endpoint


def channel_options(limits: Limits) -> list[tuple[str, int]]:
    """Message and metadata limits of our servers and client channels (§2, §3.5)."""
    return [
        ("grpc.max_send_message_length", limits.max_message_bytes),
        ("grpc.max_receive_message_length", limits.max_message_bytes),
        ("grpc.max_metadata_size", CASCADE_METADATA_BYTES),
    ]


# Every coordinator channel (business services, subscribers, peer sidecars): a restarted server must be
# reachable again within moments, not after gRPC's default reconnect backoff (up to two minutes).
RECONNECT_OPTIONS = [
    # Own subchannels: a fresh channel must not inherit a shared subchannel stuck in backoff.
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.initial_reconnect_backoff_ms", 100),
    # gRPC takes this as the time a connection attempt gets to finish its HTTP/2 handshake: at 100 ms a
    # busy but healthy handler was reported unreachable. It does not slow reconnecting (initial applies).
    ("grpc.min_reconnect_backoff_ms", 5000),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


def trace_metadata() -> list[tuple[str, str]]:
    """The current trace context (``traceparent``) as call metadata."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return list(carrier.items())


def map_handler_error(err: grpc.aio.AioRpcError, domain: str, endpoint: str, timeout: float) -> RpcFailure:
    code, details = err.code(), err.details() or ""
    if code in REJECTION_CODES:
        return RpcFailure(code, details)
    if code == grpc.StatusCode.UNAVAILABLE:
        return RpcFailure(
            code,
            f"handler for domain '{domain}' is unreachable at {endpoint}: {details}; "
            "check that the service is running, then retry",
        )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return RpcFailure(code, f"handler for domain '{domain}' did not answer within {timeout:g} s")
    if code in _PASSED_THROUGH:
        return RpcFailure(code, details or f"handler for domain '{domain}' answered {code.name}")
    return RpcFailure(grpc.StatusCode.INTERNAL, f"handler for domain '{domain}' failed: {code.name}: {details}")


class ChannelPool:
    """One ``grpc.aio`` channel per endpoint, opened on first use with the coordinator's channel options
    (message limits, reconnect behaviour), closed together."""

    def __init__(self, limits: Limits) -> None:
        self._options = channel_options(limits) + RECONNECT_OPTIONS
        self._channels: dict[str, grpc.aio.Channel] = {}

    def channel(self, endpoint: str) -> grpc.aio.Channel:
        ch = self._channels.get(endpoint)
        if ch is None:
            ch = grpc.aio.insecure_channel(channel_target(endpoint), options=self._options)
            self._channels[endpoint] = ch
        return ch

    def forget(self, endpoint: str) -> grpc.aio.Channel | None:
        """Take the channel to ``endpoint`` out of the pool (the caller closes it); the next use opens anew."""
        return self._channels.pop(endpoint, None)

    async def close(self) -> None:
        channels, self._channels = list(self._channels.values()), {}
        for ch in channels:
            await ch.close()


class BusinessChannels:
    """The channels to every business endpoint of the topology."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._pool = ChannelPool(limits)
        self._closing: set[asyncio.Task] = set()
        self._retired: list[grpc.aio.Channel] = []

    def channel(self, endpoint: str) -> grpc.aio.Channel:
        return self._pool.channel(endpoint)

    def reset(self, endpoint: str) -> None:
        """Forget the channel to ``endpoint`` (its service restarted): the next call connects afresh
        instead of waiting out a reconnect backoff. Calls still running on the old one may finish."""
        old = self._pool.forget(endpoint)
        if old is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called from outside the loop: close it with the others at shutdown
            self._retired.append(old)
            return
        task = loop.create_task(old.close(grace=self._limits.handler_timeout))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        retired, self._retired = self._retired, []
        await self._pool.close()
        for ch in retired:
            await ch.close()

    async def handle(
        self, domain: str, endpoint: str, request: types_pb2.ContextualCommand
    ) -> command_handler_pb2.BusinessResponse:
        """``CommandHandlerService.Handle`` within the handler timeout; raise ``RpcFailure`` (§3.3)."""
        stub = command_handler_pb2_grpc.CommandHandlerServiceStub(self.channel(endpoint))
        timeout = self._limits.handler_timeout
        try:
            return await stub.Handle(request, timeout=timeout, metadata=trace_metadata())
        except grpc.aio.AioRpcError as err:
            raise map_handler_error(err, domain, endpoint, timeout) from None

    async def upcast(
        self, domain: str, endpoint: str, pages: list[types_pb2.EventPage]
    ) -> list[types_pb2.EventPage]:
        """``UpcasterService.Upcast``; raise ``RpcFailure`` (UNAVAILABLE/INTERNAL per §7)."""
        stub = upcaster_pb2_grpc.UpcasterServiceStub(self.channel(endpoint))
        timeout = self._limits.handler_timeout
        try:
            reply = await stub.Upcast(
                upcaster_pb2.UpcastRequest(domain=domain, events=pages), timeout=timeout, metadata=trace_metadata()
            )
        except grpc.aio.AioRpcError as err:
            failure = map_handler_error(err, domain, endpoint, timeout)
            if failure.code != grpc.StatusCode.UNAVAILABLE:
                failure = RpcFailure(
                    grpc.StatusCode.INTERNAL, f"upcaster for domain '{domain}' failed: {err.code().name}: {err.details()}"
                )
            raise failure from None
        return list(reply.events)

    async def project_speculative(self, endpoint: str, book: types_pb2.EventBook) -> types_pb2.Projection | None:
        """``ProjectorService.HandleSpeculative``; ``None`` when the projector does not implement it."""
        stub = projector_pb2_grpc.ProjectorServiceStub(self.channel(endpoint))
        timeout = self._limits.handler_timeout
        try:
            return await stub.HandleSpeculative(book, timeout=timeout, metadata=trace_metadata())
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                return None
            raise map_handler_error(err, "projector", endpoint, timeout) from None
