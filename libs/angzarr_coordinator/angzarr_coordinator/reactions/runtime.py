"""``Reactions``: everything of one coordinator process that reacts to committed events.

It knows the topology's subscribers this process hosts (all of them standalone; the sidecar's own
service's otherwise), their deliveries (projectors, sagas, process managers), the outbox sender, the
SIMPLE/CASCADE ``Cascade`` the pipeline calls after a commit, and — once ``start`` runs — a tailer per
subscriber, an outbox dispatcher per saga and process manager and the dead-letter replayer.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass

import grpc

from angzarr_client.proto.angzarr import types_pb2

from ..downstream import DownstreamResult
from ..store.base import AggregateKey, CommitRecord
from .calls import SubscriberCalls
from .cascade import _STATE, CASCADE, Cascade, merge
from .locks import DeliveryLocks
from .outbox import OutboxDispatcher, OutboxSender, Sent
from .process_managers import PmDelivery
from .projectors import Projections, ProjectorDelivery
from .records import PM, PROJECTOR, SAGA, DeliveryError, Subscriber, base_reactor
from .replay import Replayer
from .sagas import SagaDelivery
from .tailer import Tailer


@dataclass(slots=True)
class SubscriberLag:
    subscriber: str
    checkpoint: int
    watermark: int
    state: str
    last_error: str


class Reactions:
    def __init__(self, coordinator) -> None:
        c = coordinator
        self.coordinator = c
        self.store = c.store
        self.limits = c.limits
        self.aggregates = c.aggregates
        self.pipeline = c.pipeline
        self.facts = c.facts
        self.compensations = c.compensations
        self.routes = c.routes
        self.command_domains = c.routes.command_domains
        self.known_domains = c.routes.known_domains
        self.pm_domains = frozenset(c.topology.process_manager_domains)
        # A claimed entry is ours until this expires: long enough for a cascade under the handler timeout.
        self.lease_seconds = max(5.0, 3 * self.limits.handler_timeout)
        self.calls = SubscriberCalls(self.limits)
        self.locks = DeliveryLocks()
        self.projections = Projections()
        self.sender = OutboxSender(self)
        self.cascade = Cascade(self)
        hosted = c.routes.sidecar_domain
        topology = c.topology
        self.sagas = [Subscriber(SAGA, r.name, s.endpoint, s.name, r.listen, r.emits)
                      for s, r in topology.sagas() if hosted is None or s.name == hosted]
        self.pms = [Subscriber(PM, r.name, s.endpoint, s.name, r.listen, r.emits)
                    for s, r in topology.process_managers() if hosted is None or s.name == hosted]
        self.projectors = [Subscriber(PROJECTOR, p.name, s.endpoint, s.name, p.listen)
                           for s, p in topology.projectors() if hosted is None or s.name == hosted]
        self.subscribers = [*self.projectors, *self.sagas, *self.pms]
        self._by_key = {**{s.key: s for s in self.subscribers}, **{s.reactor: s for s in self.subscribers}}
        self._projector = {s.key: ProjectorDelivery(self, s) for s in self.projectors}
        self._saga = {s.key: SagaDelivery(self, s) for s in self.sagas}
        self._pm = {s.key: PmDelivery(self, s) for s in self.pms}
        self._pm_by_domain = {s.name: self._pm[s.key] for s in self.pms}
        self.tailers: dict[str, Tailer] = {}
        self.dispatchers: dict[str, OutboxDispatcher] = {}
        self.replayer = Replayer(self)
        self.running = False
        self._sync: dict[AggregateKey, tuple[int, asyncio.Event]] = {}

    # -- synchronous requests in flight (§6.6) -------------------------------------------------------
    def sync_begin(self, key: AggregateKey) -> None:
        count, done = self._sync.get(key, (0, None))
        self._sync[key] = (count + 1, done or asyncio.Event())

    def sync_end(self, key: AggregateKey) -> None:
        count, done = self._sync[key]
        if count <= 1:
            del self._sync[key]
            done.set()
        else:
            self._sync[key] = (count - 1, done)

    async def sync_settled(self, key: AggregateKey, timeout: float = 60.0) -> None:
        """Wait (bounded) while a SIMPLE/CASCADE request is deciding or delivering on ``key``."""
        entry = self._sync.get(key)
        if entry is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(entry[1].wait(), timeout)

    # -- lookups -----------------------------------------------------------------------------------
    @staticmethod
    def listening(subscribers: list[Subscriber], domain: str) -> list[Subscriber]:
        return [s for s in subscribers if domain in s.listen]

    def subscriber_of(self, reactor: str) -> Subscriber | None:
        return self._by_key.get(base_reactor(reactor))

    def projector(self, sub: Subscriber) -> ProjectorDelivery:
        return self._projector[sub.key]

    def saga(self, sub: Subscriber) -> SagaDelivery:
        return self._saga[sub.key]

    def pm(self, sub: Subscriber) -> PmDelivery:
        return self._pm[sub.key]

    def delivery_of(self, sub: Subscriber) -> SagaDelivery | PmDelivery | None:
        return self._saga.get(sub.key) or self._pm.get(sub.key)

    def wake_dispatcher(self, reactor: str) -> None:
        dispatcher = self.dispatchers.get(base_reactor(reactor))
        if dispatcher is not None:
            dispatcher.wake.set()

    async def pm_notice(self, book: types_pb2.CommandBook, sync_mode: int, cascade_error_mode: int) -> Sent:
        """A rejection notice for a process manager: it returns to the PM as a trigger (§4.3 step 7)."""
        delivery = self._pm_by_domain.get(book.cover.domain)
        if delivery is None:
            return Sent(grpc.StatusCode.NOT_FOUND, f"no process manager '{book.cover.domain}' is hosted here")
        state = _STATE.get() if sync_mode == CASCADE else None
        try:
            reaction = await delivery.notice(book, sync_mode, cascade_error_mode, inline=state is not None)
        except DeliveryError as exc:
            return Sent(exc.code, exc.message)
        events = None
        if reaction.commit is not None and reaction.commit.pages:
            events = types_pb2.EventBook(cover=book.cover, pages=reaction.commit.pages,
                                         next_sequence=reaction.commit.last_sequence + 1)
        if state is None:
            self.wake_dispatcher(delivery.subscriber.reactor)
            return Sent(events=events, revoked=reaction.unhandled)
        # CASCADE: the PM's state commit and commands run now; the notice's dispatcher collects them
        nested = DownstreamResult()
        if events is not None and reaction.recorded.fresh:
            merge(nested, await self.cascade.after_commit(reaction.commit, events, CASCADE, state.mode))
        await self.cascade.run_entries(delivery.subscriber, reaction.recorded.entries, book.cover.domain,
                                       nested, state)
        if events is not None:
            state.nested[(reaction.commit.key, reaction.commit.last_sequence)] = nested
        return Sent(events=events, revoked=reaction.unhandled)

    # -- tailer deliveries -------------------------------------------------------------------------
    def _deliver_fn(self, sub: Subscriber):
        if sub.kind == PROJECTOR:
            delivery = self._projector[sub.key]

            async def deliver(commit: CommitRecord, position: int) -> None:
                await delivery.deliver(commit)
        elif sub.kind == SAGA:
            saga = self._saga[sub.key]

            async def deliver(commit: CommitRecord, position: int) -> None:
                await saga.react(commit, checkpoint=position)
        else:
            pm = self._pm[sub.key]

            async def deliver(commit: CommitRecord, position: int) -> None:
                await pm.react(commit, checkpoint=position)
        return deliver

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start a tailer per subscriber, a dispatcher per saga and PM, and the replayer."""
        if self.running:
            return
        self.running = True
        for sub in [*self.sagas, *self.pms]:
            dispatcher = OutboxDispatcher(self, sub.reactor)
            self.dispatchers[sub.reactor] = dispatcher
            dispatcher.start()
        for sub in self.subscribers:
            skip = (lambda c: not c.correlation_id) if sub.kind == PM else None
            tailer = Tailer(self, sub, self._deliver_fn(sub), skip)
            self.tailers[sub.key] = tailer
            tailer.start()
        self.replayer.start()

    async def stop(self) -> None:
        """Stop tailers at a commit boundary (checkpoints saved), dispatchers and the replayer."""
        if not self.running:
            return
        self.running = False
        await self.replayer.stop()
        await asyncio.gather(*(t.stop() for t in self.tailers.values()), return_exceptions=True)
        await asyncio.gather(*(d.stop() for d in self.dispatchers.values()), return_exceptions=True)
        self.tailers.clear()
        self.dispatchers.clear()

    async def close(self) -> None:
        """Stop, and close the channels to the subscribers."""
        await self.stop()
        await self.calls.close()

    async def lag(self) -> list[SubscriberLag]:
        """Per subscriber: stored checkpoint, watermark, tailer state and last error."""
        watermark = await self.store.watermark()
        out = []
        for sub in self.subscribers:
            tailer = self.tailers.get(sub.key)
            checkpoint = await self.store.get_checkpoint(sub.key)
            if tailer is not None:
                checkpoint = max(checkpoint, tailer.checkpoint)
            out.append(SubscriberLag(sub.key, checkpoint, watermark, tailer.state if tailer else "stopped",
                                     tailer.last_error if tailer else ""))
        return out


def aggregate_key(cover: types_pb2.Cover) -> AggregateKey:
    return AggregateKey(cover.domain, uuid.UUID(bytes=cover.root.value))


__all__ = ["Reactions", "SubscriberLag", "aggregate_key"]
