"""The ``Coordinator``: the command, query and stream services of one coordinator process.

It wires the pipeline (commands, compensations, facts, speculation), queries and streams over one
``EventStore`` and the business channels of a ``Topology``, and serves them on any ``grpc.aio``
server it is registered with. The caller owns the store (open before ``start``, close after
``stop``) and the server. Every RPC passes ``guard``: refused with ``UNAVAILABLE`` while draining,
``RpcFailure``s become statuses (with rich details), store outages ``UNAVAILABLE``, anything else
``INTERNAL`` with a log line (never a traceback to the client).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc
import structlog
from opentelemetry import propagate, trace

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, query_pb2_grpc, stream_pb2_grpc

from .aggregates import Aggregates
from .cache import AggregateCache, LockStripes
from .compensation import Compensations
from .downstream import Downstream, LogOnly
from .facts import Facts
from .handlers import BusinessChannels, channel_options
from .observability import tracer
from .pipeline import CommandPipeline
from .queries import EventQueries, EventQueryServicer
from .reactions import Reactions, register_reaction_services
from .richerror import RpcFailure
from .routing import Routes
from .speculation import Speculation
from .store.base import EventStore, StoreUnavailable
from .streams import EventStreams
from .topology import Limits, Topology
from .upcasting import Upcasters

log = structlog.get_logger("angzarr.coordinator")

REACTION_HEADER = "x-angzarr-reaction"


def _reaction_id(context) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == REACTION_HEADER and value:
            return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return None


class _CommandService(command_handler_pb2_grpc.CommandHandlerCoordinatorServiceServicer):
    def __init__(self, coordinator: Coordinator) -> None:
        self.c = coordinator

    async def HandleCommand(self, request, context):
        async with self.c.guard(context, "HandleCommand"):
            return await self.c.pipeline.handle_command(request, _reaction_id(context))

    async def HandleEvent(self, request, context):
        async with self.c.guard(context, "HandleEvent"):
            return await self.c.facts.handle(request)

    async def HandleSyncSpeculative(self, request, context):
        async with self.c.guard(context, "HandleSyncSpeculative"):
            return await self.c.speculation.speculate(request)

    async def HandleCompensation(self, request, context):
        async with self.c.guard(context, "HandleCompensation"):
            return await self.c.compensations.handle(request, _reaction_id(context))


async def shutdown(coordinator: Coordinator | None, servers: list[grpc.aio.Server], grace: float) -> None:
    """Graceful stop of a coordinator (if one was started) and the servers carrying it. The servers stay
    open while the coordinator drains, so a late caller gets our UNAVAILABLE rather than the transport's
    CANCELLED; once nothing is in flight they stop with what is left of ``grace``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    if coordinator is not None:
        await coordinator.drain(grace)
    remaining = max(0.0, deadline - loop.time())
    results = await asyncio.gather(*(server.stop(remaining) for server in servers), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            log.error("server_stop_failed", error=repr(result))
    if coordinator is not None:
        await coordinator.stop(0)


class Coordinator:
    """Commands, facts, speculation, compensation, queries and streams for the topology's domains."""

    def __init__(
        self,
        store: EventStore,
        topology: Topology,
        limits: Limits = Limits(),  # noqa: B008 - Limits is frozen
        *,
        sidecar_domain: str | None = None,
    ) -> None:
        self.store = store
        self.topology = topology
        self.limits = limits
        self.routes = Routes(topology, sidecar_domain)
        self.channels = BusinessChannels(limits)
        self.cache = AggregateCache(limits.cache_bytes)
        self.aggregates = Aggregates(
            store, topology, self.cache, Upcasters(topology, self.channels), limits.max_message_bytes
        )
        self.pipeline = CommandPipeline(
            self.aggregates, self.channels, self.routes, limits, LockStripes(), LogOnly()
        )
        self.facts = Facts(self.pipeline)
        self.speculation = Speculation(self.pipeline)
        self.compensations = Compensations(self.pipeline)
        self.queries = EventQueries(store, limits, self.routes.known_domains)
        self._stopping = asyncio.Event()
        self._draining = False
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.streams = EventStreams(store, limits.max_streams, self.guard, self._stopping)
        self.reactions = Reactions(self)

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the channels to every business endpoint (connections are made lazily by gRPC)."""
        for service in self.topology.services:
            self.channels.channel(service.endpoint)
            if service.command_handler and isinstance(service.command_handler.upcaster, str):
                self.channels.channel(service.command_handler.upcaster)

    async def drain(self, grace: float = 10.0) -> None:
        """Refuse new RPCs with UNAVAILABLE, end streams with UNAVAILABLE, and wait at most ``grace``
        seconds for the RPCs in flight to finish."""
        self._draining = True
        self._stopping.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)

    async def stop(self, grace: float = 10.0) -> None:
        """``drain``, then stop delivery at a commit boundary and close the business channels."""
        await self.drain(grace)
        await self.reactions.close()
        await self.channels.close()

    def register(self, server: grpc.aio.Server, *, service: str | None = None) -> None:
        """Add CommandHandlerCoordinatorService, EventQueryService, EventStreamService and the saga,
        process-manager and projector coordinator services to ``server``. ``service`` (a
        ``ch-<service>.sock`` listener) makes reaction RPCs address that service's components; without
        it they address the one component of the kind listening to the request book's domain."""
        command_handler_pb2_grpc.add_CommandHandlerCoordinatorServiceServicer_to_server(_CommandService(self), server)
        query_pb2_grpc.add_EventQueryServiceServicer_to_server(EventQueryServicer(self.queries, self.guard), server)
        stream_pb2_grpc.add_EventStreamServiceServicer_to_server(self.streams, server)
        register_reaction_services(self, server, service)

    async def start_delivery(self) -> None:
        """Run SIMPLE/CASCADE sync modes and start the tailers, outbox dispatchers and dead-letter
        replayer (spec/coordinator.md §3.5, §6, §8); ``stop`` stops them at a commit boundary."""
        self.set_downstream(self.reactions.cascade)
        await self.reactions.start()

    def set_service_available(self, service_name: str, available: bool) -> None:
        """While False, commands for the service's domain get UNAVAILABLE "… is restarting".

        Call it from the event loop. Becoming available drops the old channel to the service so the
        next command connects at once."""
        self.routes.set_service_available(service_name, available)
        if available:
            for service in self.topology.services:
                if service.name == service_name:
                    self.channels.reset(service.endpoint)

    def server_options(self) -> list[tuple[str, int]]:
        """gRPC server options matching the limits (message sizes both ways, 1 MiB of metadata)."""
        return channel_options(self.limits)

    def set_downstream(self, downstream: Downstream) -> None:
        """Plug in the runner of SIMPLE/CASCADE sync modes (default: everything left to the log)."""
        self.pipeline.downstream = downstream

    # -- every RPC ---------------------------------------------------------------------------------
    @staticmethod
    def _server_span(context, method: str):
        """The RPC's server span, parented by the caller's ``traceparent``, unless a tracing
        interceptor of the hosting runtime already opened one."""
        if trace.get_current_span().get_span_context().is_valid:
            return _no_span()
        carrier = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        return tracer.start_as_current_span(
            f"angzarr/{method}", context=propagate.extract(carrier), kind=trace.SpanKind.SERVER
        )

    @contextlib.asynccontextmanager
    async def guard(self, context, method: str = "rpc") -> AsyncIterator[None]:
        """Admission, a server span parented by the caller's ``traceparent``, and error mapping
        around one RPC (see module docstring)."""
        if self._draining:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the coordinator is shutting down; retry shortly")
        self._inflight += 1
        self._idle.clear()
        try:
            with self._server_span(context, method) as span:
                try:
                    yield
                except RpcFailure as failure:
                    span.set_attribute("rpc.grpc.status_code", failure.code.value[0])
                    if failure.code in _LOGGED:
                        log.warning("rpc failed", method=method, code=failure.code.name, error=failure.message)
                    await context.abort(failure.code, failure.message, trailing_metadata=failure.trailing_metadata())
                except StoreUnavailable as exc:
                    log.warning("event store unavailable", method=method, error=str(exc))
                    await context.abort(
                        grpc.StatusCode.UNAVAILABLE, f"the event store is unavailable: {exc}; retry later"
                    )
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception as exc:  # noqa: BLE001 - our bug: log it, answer INTERNAL, keep serving
            log.exception("internal error", method=method, error=str(exc))
            await context.abort(grpc.StatusCode.INTERNAL, f"internal coordinator error: {type(exc).__name__}: {exc}")
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()


@contextlib.contextmanager
def _no_span():
    yield trace.get_current_span()


# Failures that point at the system rather than the request are worth a log line.
_LOGGED = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL,
     grpc.StatusCode.ABORTED}
)
