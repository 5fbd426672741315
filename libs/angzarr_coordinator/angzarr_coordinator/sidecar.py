"""``angzarr coordinator``: the distributed sidecar (spec/coordinator.md §10.4).

One per service pod, beside the business container it reaches over localhost (or a shared socket).
It runs the ``Coordinator`` with ``sidecar_domain`` set: commands, facts and compensations for its own
domain only, queries and streams for every domain (they read the shared PostgreSQL store); the tailers
and outbox dispatchers of the components its service hosts (on the replica holding their advisory
locks ``angzarr.sub.<name>``, see ``subscriber_locks``; others stand by); outbox entries for other
domains go to their sidecars over gRPC (``angzarr_coordinator.peers``), and SIMPLE/CASCADE requests reach the
components other services host through their sidecars (``angzarr_coordinator.remote_cascade``).

Start: the listener opens at once (health ``NOT_SERVING``; RPCs answer ``UNAVAILABLE`` until the store
is open), the store is opened (migrated unless ``ANGZARR_MIGRATE=0``) with retries while the database is
unreachable, then delivery starts. Health (``""`` and the service name) is ``SERVING`` while the store
and the business service both answer, checked every two seconds; ``liveness`` is ``SERVING`` until
shutdown begins (for liveness probes: waiting for a database is no reason to restart). SIGTERM:
``NOT_SERVING``, new RPCs refused, in-flight ones get the drain time, tailers stop at a commit boundary,
the pool closes, exit 0. A second signal cuts the drain short.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc

from angzarr_coordinator.dlq_replay import DeadLetterReplayer
from angzarr_coordinator.handlers import channel_target
from angzarr_coordinator.health import NOT_SERVING, SERVING, Health
from angzarr_coordinator.peers import PeerDispatch
from angzarr_coordinator.remote_cascade import RemoteCascade
from angzarr_coordinator.rpc_tracing import RpcTracing
from angzarr_coordinator.sidecar_config import SidecarConfig
from angzarr_coordinator.stop_signals import StopSignals
from angzarr_coordinator.store.base import EventStore, StoreError
from angzarr_coordinator.subscriber_locks import SubscriberLocks

log = structlog.get_logger("angzarr.sidecar")

HEALTH_INTERVAL = 2.0
CHECK_TIMEOUT = 2.0
HEALTH_PROBE_SUBSCRIBER = "angzarr.health"  # a checkpoint read: a cheap query that proves the store answers
# SERVING while the process runs (until shutdown): a liveness probe must not restart a sidecar that is
# only waiting for its database or business container.
LIVENESS = "liveness"


def _postgres_store(config: SidecarConfig) -> EventStore:
    from angzarr_coordinator.store.postgres import PostgresEventStore

    return PostgresEventStore(config.database_url, migrate=config.migrate)


class _OwnDomainReplayer(DeadLetterReplayer):
    """Replays only the command dead letters of this sidecar's domain: every sidecar polls the one
    shared store, and another domain's letter is its own sidecar's to replay."""

    def __init__(self, store: EventStore, target: str, domain: str) -> None:
        super().__init__(store, target)
        self._domain = domain

    async def replay(self, stub, record) -> None:
        if record.letter.cover.domain == self._domain:
            await super().replay(stub, record)


class SidecarRuntime:
    """The sidecar process. ``run()`` serves until SIGTERM/SIGINT and returns the exit code.

    ``store_factory`` lets tests supply a store; by default PostgreSQL at ``DATABASE_URL``.
    """

    def __init__(
        self,
        config: SidecarConfig,
        *,
        store_factory: Callable[[SidecarConfig], EventStore] = _postgres_store,
        health_interval: float = HEALTH_INTERVAL,
    ) -> None:
        self.config = config
        self._store_factory = store_factory
        self._health_interval = health_interval
        self.health = Health()
        self.store: EventStore | None = None
        self.coordinator = None
        self.peers: PeerDispatch | None = None
        self.remote_cascade: RemoteCascade | None = None
        self.port: int | None = None
        self._server: grpc.aio.Server | None = None
        self._business: grpc.aio.Channel | None = None
        self._replayer: DeadLetterReplayer | None = None
        self._tasks: list[asyncio.Task] = []
        self._store_open = False
        self._locks: SubscriberLocks | None = None
        self.delivering = False
        self._business_ok: bool | None = None
        self._stops = StopSignals(log)

    # -- start ---------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the listener and start opening the store in the background.

        Raises ``OSError`` when the port cannot be bound."""
        from angzarr_coordinator.app import Coordinator

        cfg = self.config
        self.store = self._store_factory(cfg)
        self.coordinator = Coordinator(self.store, cfg.topology, cfg.limits, sidecar_domain=cfg.domain)
        self.peers = PeerDispatch(cfg.domain, cfg.peers, cfg.limits, self.coordinator.reactions.lease_seconds)
        self.coordinator.reactions.peers = self.peers
        self.remote_cascade = RemoteCascade(cfg.domain, cfg.topology, cfg.peers, cfg.limits,
                                            self.coordinator.reactions.lease_seconds)
        self.coordinator.reactions.remote_cascade = self.remote_cascade
        await self.health.set(cfg.domain, NOT_SERVING)
        await self.health.set(LIVENESS, SERVING)
        server = grpc.aio.server(options=self.coordinator.server_options() + [
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ], interceptors=[RpcTracing()])
        self.coordinator.register(server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        try:
            self.port = server.add_insecure_port(cfg.listen_address)
        except RuntimeError as e:
            raise OSError(f"cannot listen on {cfg.listen_address}: {e}") from None
        self._server = server
        await server.start()
        self._business = grpc.aio.insecure_channel(channel_target(cfg.business_endpoint))
        log.info("sidecar_listening", address=cfg.listen_address, port=self.port, domain=cfg.domain,
                 business=cfg.business_endpoint)
        self._tasks.append(asyncio.create_task(self._open_and_watch(), name="sidecar:health"))

    async def _open_store(self) -> None:
        delay = 0.5
        while True:
            try:
                await self.store.open()
                return
            except StoreError as e:
                log.warning("event_store_unavailable", error=str(e), retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _open_and_watch(self) -> None:
        await self._open_store()
        self._store_open = True
        await self.coordinator.start()
        # SIMPLE/CASCADE work on every replica; the asynchronous path only on the lock holder.
        self.coordinator.set_downstream(self.coordinator.reactions.cascade)
        self._tasks.append(asyncio.create_task(self._deliver_when_holding_locks(), name="sidecar:delivery"))
        log.info("sidecar_ready", domain=self.config.domain)
        while True:
            try:
                await self.check_health()
                if self._locks is not None and self._locks.held and not await self._locks.alive():
                    # Another replica may deliver by now: stop, and let the orchestrator restart us.
                    log.error("subscriber_locks_lost", domain=self.config.domain)
                    self.request_stop()
            except Exception:  # noqa: BLE001 - our bug: say so, keep checking (a stale status is worse)
                log.exception("health_check_failed")
                await self.health.set("", NOT_SERVING)
            await asyncio.sleep(self._health_interval)

    async def _deliver_when_holding_locks(self) -> None:
        """Start tailers, outbox dispatchers and replayers once this replica holds its subscribers'
        advisory locks (§6.3); at once when the service hosts no subscriber."""
        names = [s.key for s in self.coordinator.reactions.subscribers]
        if names:
            self._locks = SubscriberLocks(self.config.database_url, names)
            await self._locks.acquire()
        await self.coordinator.reactions.start()
        host = "127.0.0.1" if self.config.bind_host in ("0.0.0.0", "::", "[::]") else self.config.bind_host
        self._replayer = _OwnDomainReplayer(self.store, f"{host}:{self.port}", self.config.domain)
        self._replayer.start()
        self.delivering = True
        log.info("delivery_started", domain=self.config.domain, subscribers=names)

    async def _store_answers(self) -> bool:
        try:
            await asyncio.wait_for(self.store.get_checkpoint(HEALTH_PROBE_SUBSCRIBER), CHECK_TIMEOUT)
            return True
        except (StoreError, TimeoutError, OSError) as e:
            log.warning("health_store_failed", error=str(e))
            return False

    async def _business_answers(self) -> bool:
        stub = health_pb2_grpc.HealthStub(self._business)
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=CHECK_TIMEOUT)
        except grpc.aio.AioRpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    async def check_health(self) -> bool:
        """Check the store and the business service once and publish the result; True if SERVING."""
        store_ok = self._store_open and await self._store_answers()
        business_ok = await self._business_answers()
        if business_ok != self._business_ok:
            self.coordinator.set_service_available(self.config.domain, business_ok)
            log.info("business_service", available=business_ok, endpoint=self.config.business_endpoint)
            self._business_ok = business_ok
        status = SERVING if store_ok and business_ok else NOT_SERVING
        await self.health.set("", status)
        await self.health.set(self.config.domain, status)
        return status == SERVING

    # -- run and stop --------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """A shutdown signal: the first starts a graceful shutdown, the second skips to the kills."""
        self._stops.receive()

    async def run(self) -> int:
        """Start, serve until SIGTERM/SIGINT, shut down. Returns the exit code (1: could not listen)."""
        with self._stops.handled():
            try:
                await self.start()
            except OSError as e:
                log.error("sidecar_failed", reason=str(e))
                await self.shutdown()
                return 1
            await self._stops.requested.wait()
            await self.shutdown()
            return 0

    async def shutdown(self) -> None:
        """NOT_SERVING, drain in-flight RPCs (at most the drain time), stop delivery at a commit
        boundary, close channels and the store."""
        await self.health.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._replayer is not None:
            await self._replayer.stop()
        grace = self.config.drain_seconds
        from angzarr_coordinator.app import shutdown

        servers = [self._server] if self._server is not None else []
        drain = asyncio.ensure_future(shutdown(self.coordinator, servers, grace))
        hurry = asyncio.ensure_future(self._stops.hurried.wait())
        await asyncio.wait({drain, hurry}, return_when=asyncio.FIRST_COMPLETED)
        hurry.cancel()
        if not drain.done():
            if self._server is not None:
                await self._server.stop(None)
            drain.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await drain
        if self._locks is not None:
            await self._locks.release()  # after the tailers stopped: a standby may take over now
        if self.peers is not None:
            await self.peers.close()
        if self.remote_cascade is not None:
            await self.remote_cascade.close()
        if self._business is not None:
            await self._business.close()
        if self.store is not None:
            try:
                await self.store.close()
            except Exception as e:  # noqa: BLE001 - report it; the process exits anyway
                log.error("store_close_failed", error=str(e))
        log.info("sidecar_stopped", domain=self.config.domain)


async def run_sidecar(config: SidecarConfig) -> int:
    """Run the sidecar until a shutdown signal; the exit code."""
    runtime = SidecarRuntime(config)
    try:
        return await runtime.run()
    except Exception as e:  # a bug: one line, with the traceback in the log
        log.exception("sidecar_failed", reason=f"internal error: {type(e).__name__}: {e}")
        return 1
