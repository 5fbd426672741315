"""``angzarr standalone``: every domain's coordinator, one SQLite file and the supervised business
services in one process (spec/coordinator.md §10.1–§10.3).

Start: socket directory checked, store opened (migrated), services started in order and healthy,
client listeners opened (``<uds_base>/ch-<service>.sock`` per service, plus ``listen.tcp``), the
coordinator's tailers and dispatchers started. Every listener serves the coordinator services and
``grpc.health.v1`` (``""`` and each service name).

Shutdown on SIGTERM/SIGINT: health ``NOT_SERVING``, new RPCs refused, in-flight ones get the drain time,
the coordinator stops (streams end, tailers stop at a commit boundary); services are stopped in reverse
order (SIGTERM, SIGKILL to the process group after 5 s); the store is closed (WAL checkpointed, lock
removed) and the sockets removed; exit 0. A second signal skips straight to the kills.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path

import grpc
import structlog
from grpc_health.v1 import health_pb2_grpc

from angzarr_coordinator.config import StandaloneConfig, service_environment
from angzarr_coordinator.dlq_replay import DeadLetterReplayer
from angzarr_coordinator.health import NOT_SERVING, SERVING, Health
from angzarr_coordinator.rpc_tracing import RpcTracing
from angzarr_coordinator.sockets import (
    SocketSetupError,
    claim_socket_path,
    prepare_socket_dir,
    remove_socket,
    secure_socket,
)
from angzarr_coordinator.stop_signals import StopSignals
from angzarr_coordinator.store.base import EventStore, StoreError
from angzarr_coordinator.supervisor import ServiceLaunch, ServiceStartError, Supervisor

log = structlog.get_logger("angzarr.standalone")

DRAIN_SECONDS = 10.0
TERM_SECONDS = 5.0
START_SECONDS = 30.0


class StartupError(Exception):
    """Standalone could not start; the message says why and what to do."""


def _default_store(config: StandaloneConfig) -> EventStore:
    from angzarr_coordinator.store.sqlite import SqliteEventStore

    config.storage.path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteEventStore(config.storage.path, synchronous=config.storage.synchronous)


def _default_coordinator(store: EventStore, config: StandaloneConfig):
    from angzarr_coordinator.app import Coordinator

    return Coordinator(store, config.topology, config.limits)


class StandaloneRuntime:
    """The standalone process. ``run()`` blocks until a shutdown signal and returns the exit code.

    ``store_factory`` and ``coordinator_factory`` exist so tests and the future sidecar can supply
    their own; by default the SQLite store of the configuration and the real ``Coordinator``.
    """

    def __init__(
        self,
        config: StandaloneConfig,
        *,
        environ: Mapping[str, str] | None = None,
        store_factory: Callable[[StandaloneConfig], EventStore] = _default_store,
        coordinator_factory: Callable[[EventStore, StandaloneConfig], object] = _default_coordinator,
        drain_seconds: float = DRAIN_SECONDS,
        term_seconds: float = TERM_SECONDS,
        start_seconds: float = START_SECONDS,
    ) -> None:
        self.config = config
        self._environ = environ
        self._store_factory = store_factory
        self._coordinator_factory = coordinator_factory
        self._drain_seconds = drain_seconds
        self._term_seconds = term_seconds
        self._start_seconds = start_seconds
        self.store: EventStore | None = None
        self.coordinator = None
        self.supervisor: Supervisor | None = None
        self.health = Health()
        self._servers: list[grpc.aio.Server] = []
        self._replayer: DeadLetterReplayer | None = None
        self._sockets: list[Path] = []
        self._service_sockets: list[Path] = []
        self._stops = StopSignals(log)

    # -- start ---------------------------------------------------------------------------------------
    def _launches(self) -> list[ServiceLaunch]:
        uds_base = self.config.listen.uds_base
        out = []
        for spec in self.config.topology.services:
            env = service_environment(spec, uds_base, self._environ)
            out.append(ServiceLaunch(spec.name, spec.command, env, spec.endpoint, spec.working_dir))
            if spec.transport == "uds":
                self._service_sockets.append(Path(spec.endpoint))
        return out

    async def _set_available(self, service: str, available: bool) -> None:
        if self.coordinator is not None:
            self.coordinator.set_service_available(service, available)
        await self.health.set(service, SERVING if available else NOT_SERVING)
        log.info("service_availability", service=service, available=available)

    async def start(self) -> None:
        """Bring everything up. Raises ``StartupError``; whatever was started is stopped again."""
        try:
            await self._start()
        except BaseException:
            await self._teardown(kill=False)
            raise

    async def _start(self) -> None:
        listen = self.config.listen
        services = [s.name for s in self.config.topology.services]
        try:
            prepare_socket_dir(listen.uds_base)
            for name in services:
                claim_socket_path(listen.client_socket(name))
            # A service socket something answers on is most likely a service left running by a
            # standalone that was killed: starting a second copy would leave two serving one domain.
            for spec in self.config.topology.services:
                if spec.transport == "uds":
                    claim_socket_path(spec.endpoint)
        except SocketSetupError as e:
            raise StartupError(str(e)) from None

        self.store = self._store_factory(self.config)
        try:
            await self.store.open()  # applies pending migrations
        except (StoreError, OSError) as e:
            raise StartupError(f"cannot open the event store {self.config.storage.path}: {e}") from None
        self.coordinator = self._coordinator_factory(self.store, self.config)

        for name in services:
            await self.health.set(name, NOT_SERVING)
        self.supervisor = Supervisor(self._launches(), self._set_available, start_timeout=self._start_seconds)
        try:
            await self.supervisor.start()
        except ServiceStartError as e:
            raise StartupError(str(e)) from None

        options = [
            ("grpc.max_receive_message_length", self.config.limits.max_message_bytes),
            ("grpc.max_send_message_length", self.config.limits.max_message_bytes),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ]
        endpoints = []
        for name in services:
            path = listen.client_socket(name)
            await self._open_listener(f"unix:{path}", options, service=name)
            secure_socket(path)
            self._sockets.append(path)
            endpoints.append(str(path))
        if listen.tcp:
            await self._open_listener(listen.tcp, options)
            endpoints.append(listen.tcp)

        await self.coordinator.start()
        start_delivery = getattr(self.coordinator, "start_delivery", None)
        if start_delivery is not None:  # tailers, outbox dispatchers, reaction replays (§10.2)
            await start_delivery()
        self._replayer = DeadLetterReplayer(self.store, f"unix:{listen.client_socket(services[0])}")
        self._replayer.start()
        for name in services:
            await self._set_available(name, True)
        await self.health.set("", SERVING)
        log.info("standalone_ready", endpoints=endpoints, store=str(self.config.storage.path))

    async def _open_listener(self, address: str, options: list, *, service: str | None = None) -> None:
        server = grpc.aio.server(options=options, interceptors=[RpcTracing()])
        # ch-<service>.sock addresses that service's saga/PM/projector; TCP picks by domain (§10.1)
        self.coordinator.register(server, **({"service": service} if service else {}))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        try:
            server.add_insecure_port(address)
        except RuntimeError as e:
            raise StartupError(f"cannot listen on {address}: {e}") from None
        self._servers.append(server)
        await server.start()

    # -- run and stop --------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """A shutdown signal: the first starts a graceful shutdown, the second skips to the kills."""
        self._stops.receive()

    async def run(self) -> int:
        """Start, serve until SIGTERM/SIGINT, shut down. Returns the process exit code."""
        with self._stops.handled():
            starting = asyncio.create_task(self.start())
            stop = asyncio.create_task(self._stops.requested.wait())
            await asyncio.wait({starting, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():
                # A signal during startup: abandon it (start() stops whatever it had started).
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError, StartupError):
                    await starting
                log.info("standalone_stopped", during="startup")
                return 0
            error = starting.exception()
            if error is not None:
                stop.cancel()
                if isinstance(error, StartupError):
                    log.error("standalone_failed", reason=str(error))
                raise error
            await stop
            await self.shutdown()
            return 0

    async def shutdown(self) -> None:
        """Graceful shutdown as §10.2 describes; a second signal meanwhile skips to the kills."""
        await self.health.close()
        if self._replayer is not None:
            await self._replayer.stop()
        drain = asyncio.create_task(self._drain())
        hurry = asyncio.create_task(self._stops.hurried.wait())
        done, _ = await asyncio.wait({drain, hurry}, return_when=asyncio.FIRST_COMPLETED)
        kill = drain not in done
        if kill:
            drain.cancel()
            for server in self._servers:
                await server.stop(None)  # cancel whatever is still running
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await drain
        else:
            hurry.cancel()
            with contextlib.suppress(Exception):
                drain.result()
        await self._teardown(kill=kill)
        log.info("standalone_stopped")

    async def _drain(self) -> None:
        from angzarr_coordinator.app import shutdown

        await shutdown(self.coordinator, self._servers, self._drain_seconds)

    async def _teardown(self, *, kill: bool) -> None:
        """Stop services, close the store, remove sockets; safe to call whatever was started."""
        if self._replayer is not None:
            await self._replayer.stop()
        if self.supervisor is not None:
            stop = self.supervisor.kill() if kill else self.supervisor.stop(self._term_seconds)
            task = asyncio.create_task(stop)
            if not kill:
                hurry = asyncio.create_task(self._stops.hurried.wait())
                done, _ = await asyncio.wait({task, hurry}, return_when=asyncio.FIRST_COMPLETED)
                if task not in done:
                    await self.supervisor.kill()
                hurry.cancel()
            with contextlib.suppress(Exception):
                await task
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.stop(None)
        self._servers = []
        if self.store is not None:
            try:
                await self.store.close()
            except Exception as e:  # report, and still clean up the sockets
                log.error("store_close_failed", error=str(e))
        for path in [*self._sockets, *self._service_sockets]:
            remove_socket(path)
        self._sockets = []


async def run_standalone(config: StandaloneConfig) -> int:
    """Run standalone mode until a shutdown signal; the exit code (1: could not start)."""
    runtime = StandaloneRuntime(config)
    try:
        return await runtime.run()
    except StartupError:
        return 1  # already logged with its reason
    except Exception as e:  # a bug: say so in one line, with the traceback in the log
        log.exception("standalone_failed", reason=f"internal error: {type(e).__name__}: {e}")
        return 1
