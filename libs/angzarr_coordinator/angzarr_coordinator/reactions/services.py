"""The saga, process-manager and projector coordinator services (spec/coordinator.md §4.2-4.4, §10.1).

On a ``ch-<service>.sock`` listener (or a sidecar) a call addresses that service's component of the
kind; on a shared listener (standalone TCP) the one component of that kind listening to the request
book's domain, else ``INVALID_ARGUMENT`` naming the candidates. ``Execute`` and ``Handle`` run on
committed books only (``FAILED_PRECONDITION`` "source events are not committed"); failures of the
commands they dispatch are ``OK`` with the trailer ``angzarr-cascade-bin`` (a ``CommandResponse``
without ``events`` holding ``cascade_errors``, ``cascade_books`` and ``projections``).
"""

from __future__ import annotations

import uuid

import grpc
from google.protobuf import empty_pb2

from angzarr_client.proto.angzarr import (
    command_handler_pb2,
    process_manager_pb2,
    process_manager_pb2_grpc,
    projector_pb2_grpc,
    saga_pb2,
    saga_pb2_grpc,
    types_pb2,
)

from ..downstream import DownstreamResult
from ..richerror import RpcFailure, invalid
from ..store.base import AggregateKey, CommitRecord
from . import outputs
from .cascade import _STATE, COMPENSATE, CascadeState
from .process_managers import pm_key
from .records import COMMAND, FACT, DeliveryError, Subscriber

CASCADE_TRAILER = "angzarr-cascade-bin"


def _failure(exc: DeliveryError) -> RpcFailure:
    return RpcFailure(exc.code, exc.message)


class ReactionServices:
    """Shared by the three servicers: picking the component and checking the book."""

    def __init__(self, coordinator, service: str | None) -> None:
        self.c = coordinator
        self.rt = coordinator.reactions
        self.service = service if service is not None else coordinator.routes.sidecar_domain

    def select(self, subscribers: list[Subscriber], kind: str, domain: str) -> Subscriber:
        """Raises ``RpcFailure``: NOT_FOUND (none hosted here), INVALID_ARGUMENT (not exactly one)."""
        if self.service is not None:
            hosted = [s for s in subscribers if s.service == self.service]
            if not hosted:
                raise RpcFailure(grpc.StatusCode.NOT_FOUND, f"service '{self.service}' hosts no {kind}")
            sub = hosted[0]
            if domain not in sub.listen:
                raise invalid(f"{kind} '{sub.name}' does not listen to domain '{domain}' "
                              f"(listens to {', '.join(sub.listen)})")
            return sub
        candidates = [s for s in subscribers if domain in s.listen]
        if len(candidates) != 1:
            names = ", ".join(s.name for s in candidates) or "none"
            raise invalid(f"{len(candidates)} {kind}s listen to domain '{domain}' (candidates: {names}); "
                          f"call the {kind} through its service's endpoint ch-<service>.sock")
        return candidates[0]

    @staticmethod
    def key_of(book: types_pb2.EventBook, what: str) -> AggregateKey:
        if not book.HasField("cover") or not book.cover.domain:
            raise invalid(f"{what}.cover with a domain is required")
        if len(book.cover.root.value) != 16:
            raise invalid(f"{what}.cover.root must be a 16-byte UUID")
        if not book.pages:
            raise invalid(f"{what} has no pages")
        if any(not p.header.HasField("sequence") for p in book.pages):
            raise invalid(f"{what}: every page needs its stored sequence")
        return AggregateKey(book.cover.domain, uuid.UUID(bytes=book.cover.root.value))

    async def committed(self, book: types_pb2.EventBook, what: str) -> CommitRecord:
        """The stored commit equal to ``book``. Raises FAILED_PRECONDITION when it is not stored."""
        key = self.key_of(book, what)
        first, last = book.pages[0].header.sequence, book.pages[-1].header.sequence
        loaded = await self.c.store.load(key, use_snapshot=False, from_sequence=first, to_sequence=last)
        if [p.SerializeToString(deterministic=True) for p in loaded.pages] != [
            p.SerializeToString(deterministic=True) for p in book.pages
        ]:
            raise RpcFailure(grpc.StatusCode.FAILED_PRECONDITION,
                             f"source events are not committed: {key.domain}/{key.root} pages {first}-{last} "
                             "differ from the stored ones; send books as the coordinator stored them")
        return CommitRecord(key, book.cover.correlation_id, list(loaded.pages), 0, 0)

    async def run(self, sub: Subscriber, entries, source_domain: str, sync_mode: int, mode: int) -> DownstreamResult:
        """Dispatch a reaction's claimed entries inline with the request's modes."""
        result = DownstreamResult()
        state = CascadeState(mode)
        token = _STATE.set(state)
        try:
            await self.rt.cascade.run_entries(sub, entries, source_domain, result, state, sync_mode=sync_mode)
            if state.failure is not None and mode == COMPENSATE:
                await self.rt.cascade._compensate_successes(state, result)
        finally:
            _STATE.reset(token)
        return result

    @staticmethod
    async def trailer(context, result: DownstreamResult) -> None:
        if result.cascade_errors or result.cascade_books or result.projections:
            summary = command_handler_pb2.CommandResponse(
                projections=result.projections, cascade_errors=result.cascade_errors,
                cascade_books=result.cascade_books)
            context.set_trailing_metadata(((CASCADE_TRAILER, summary.SerializeToString()),))


def _dispatched(entries) -> tuple[list[types_pb2.CommandBook], list[types_pb2.EventBook]]:
    commands, facts = [], []
    for e in sorted(entries, key=lambda r: r.index):
        if e.entry.kind == COMMAND:
            commands.append(types_pb2.CommandBook.FromString(e.entry.request))
        elif e.entry.kind == FACT:
            facts.append(types_pb2.EventBook.FromString(e.entry.request))
    return commands, facts


class SagaCoordinator(saga_pb2_grpc.SagaCoordinatorServiceServicer):
    def __init__(self, shared: ReactionServices) -> None:
        self.s = shared

    async def Execute(self, request: saga_pb2.SagaHandleRequest, context):
        async with self.s.c.guard(context, "SagaCoordinator.Execute"):
            s = self.s
            key = s.key_of(request.source, "source")
            sub = s.select(s.rt.sagas, "saga", key.domain)
            commit = await s.committed(request.source, "source")
            try:
                reactions = await s.rt.saga(sub).react(
                    commit, sync_mode=request.sync_mode, cascade_error_mode=request.cascade_error_mode, inline=True)
            except DeliveryError as exc:
                raise _failure(exc) from None
            if not reactions:  # already delivered: answer with the recorded reaction
                found = await s.c.store.find_reaction(sub.reactor, key, commit.last_sequence)
                reactions = [found] if found is not None else []
            response = saga_pb2.SagaResponse()
            result = DownstreamResult()
            for reaction in reactions:
                commands, _ = _dispatched(reaction.entries)
                response.commands.extend(commands)
                # entries settled earlier (a repeated Execute) answer with the commits they produced
                response.events.extend(types_pb2.EventBook.FromString(e.result) for e in sorted(
                    reaction.entries, key=lambda r: r.index) if e.status == "done" and e.result)
                done = await s.run(sub, reaction.entries, key.domain, request.sync_mode, request.cascade_error_mode)
                response.events.extend(b for b in done.cascade_books)
                result.cascade_errors.extend(done.cascade_errors)
                result.projections.extend(done.projections)
            await s.trailer(context, result)
            return response

    async def ExecuteSpeculative(self, request: saga_pb2.SpeculateSagaRequest, context):
        async with self.s.c.guard(context, "SagaCoordinator.ExecuteSpeculative"):
            s = self.s
            inner = request.request
            key = s.key_of(inner.source, "request.source")
            sub = s.select(s.rt.sagas, "saga", key.domain)
            delivery = s.rt.saga(sub)
            pairs = [(d, key.root) for d in sub.emits if d in s.rt.command_domains]
            call = saga_pb2.SagaHandleRequest()
            call.CopyFrom(inner)
            if not call.destination_sequences:
                call.destination_sequences.update(await delivery.destination_sequences(pairs))
            try:
                reply = await s.rt.calls.saga(sub, call)
                outputs.validate(sub, reply.commands, reply.events, s.rt.command_domains, s.rt.known_domains)
            except DeliveryError as exc:
                raise _failure(exc) from None
            last = inner.source.pages[-1].header.sequence
            entries = outputs.entries(sub, key, last, inner.source.cover, last, inner.source.cover.correlation_id,
                                      reply.commands, reply.events)
            out = saga_pb2.SagaResponse()
            for e in entries:
                if e.kind == COMMAND:
                    out.commands.append(types_pb2.CommandBook.FromString(e.request))
                else:
                    out.events.append(types_pb2.EventBook.FromString(e.request))
            return out


class ProcessManagerCoordinator(process_manager_pb2_grpc.ProcessManagerCoordinatorServiceServicer):
    def __init__(self, shared: ReactionServices) -> None:
        self.s = shared

    async def Handle(self, request: process_manager_pb2.ProcessManagerCoordinatorRequest, context):
        async with self.s.c.guard(context, "ProcessManagerCoordinator.Handle"):
            s = self.s
            key = s.key_of(request.trigger, "trigger")
            sub = s.select(s.rt.pms, "process manager", key.domain)
            if not request.trigger.cover.correlation_id:
                raise invalid("a process-manager trigger needs a correlation id (PM state is keyed by it)")
            commit = await s.committed(request.trigger, "trigger")
            commit.correlation_id = request.trigger.cover.correlation_id
            try:
                reactions = await s.rt.pm(sub).react(
                    commit, sync_mode=request.sync_mode, cascade_error_mode=request.cascade_error_mode, inline=True)
            except DeliveryError as exc:
                raise _failure(exc) from None
            response = process_manager_pb2.ProcessManagerHandleResponse()
            result = DownstreamResult()
            for reaction in reactions:
                if reaction.commit is not None and reaction.commit.pages:
                    response.process_events.cover.CopyFrom(types_pb2.Cover(
                        domain=sub.name, root=types_pb2.UUID(value=reaction.commit.key.root.bytes),
                        correlation_id=reaction.commit.correlation_id))
                    response.process_events.pages.extend(reaction.commit.pages)
                    response.process_events.next_sequence = reaction.commit.last_sequence + 1
                commands, facts = _dispatched(reaction.recorded.entries)
                response.commands.extend(commands)
                response.facts.extend(facts)
                done = await s.run(sub, reaction.recorded.entries, key.domain, request.sync_mode,
                                   request.cascade_error_mode)
                result.cascade_errors.extend(done.cascade_errors)
                result.cascade_books.extend(done.cascade_books)
                result.projections.extend(done.projections)
            await s.trailer(context, result)
            return response

    async def HandleSpeculative(self, request: process_manager_pb2.SpeculatePmRequest, context):
        async with self.s.c.guard(context, "ProcessManagerCoordinator.HandleSpeculative"):
            s = self.s
            inner = process_manager_pb2.ProcessManagerHandleRequest()
            inner.CopyFrom(request.request)
            key = s.key_of(inner.trigger, "request.trigger")
            sub = s.select(s.rt.pms, "process manager", key.domain)
            cid = inner.trigger.cover.correlation_id
            if not cid:
                raise invalid("a process-manager trigger needs a correlation id (PM state is keyed by it)")
            delivery = s.rt.pm(sub)
            state_key = pm_key(sub.name, cid)
            if not inner.HasField("process_state"):
                state, _ = await s.c.aggregates.load(state_key)
                cover = types_pb2.Cover(domain=sub.name, root=types_pb2.UUID(value=state_key.root.bytes),
                                        correlation_id=cid)
                inner.process_state.CopyFrom(await s.c.aggregates.context_book(state_key, state, cover))
            try:
                if not inner.destination_sequences:
                    prepared = await s.rt.calls.pm_prepare(sub, process_manager_pb2.ProcessManagerPrepareRequest(
                        trigger=inner.trigger, process_state=inner.process_state))
                    pairs = [(d.domain, uuid.UUID(bytes=d.root.value)) for d in prepared.destinations
                             if len(d.root.value) == 16]
                    inner.destination_sequences.update(await delivery.destination_sequences(pairs))
                reply = await s.rt.calls.pm_handle(sub, inner)
            except DeliveryError as exc:
                raise _failure(exc) from None
            next_sequence = inner.process_state.next_sequence
            for i, page in enumerate(reply.process_events.pages):
                page.header.Clear()
                page.header.sequence = next_sequence + i
            return reply


class ProjectorCoordinator(projector_pb2_grpc.ProjectorCoordinatorServiceServicer):
    def __init__(self, shared: ReactionServices) -> None:
        self.s = shared

    async def _deliver(self, book: types_pb2.EventBook) -> types_pb2.Projection:
        s = self.s
        key = s.key_of(book, "events")
        sub = s.select(s.rt.projectors, "projector", key.domain)
        commit = await s.committed(book, "events")
        try:
            projection = await s.rt.projector(sub).deliver(commit)
        except DeliveryError as exc:
            raise _failure(exc) from None
        return projection if projection is not None else types_pb2.Projection(
            cover=book.cover, projector=sub.name, sequence=commit.last_sequence)

    async def HandleSync(self, request: types_pb2.EventRequest, context):
        async with self.s.c.guard(context, "ProjectorCoordinator.HandleSync"):
            return await self._deliver(request.events)

    async def Handle(self, request: types_pb2.EventBook, context):
        async with self.s.c.guard(context, "ProjectorCoordinator.Handle"):
            await self._deliver(request)
            return empty_pb2.Empty()

    async def HandleSpeculative(self, request, context):
        async with self.s.c.guard(context, "ProjectorCoordinator.HandleSpeculative"):
            s = self.s
            key = s.key_of(request.events, "events")
            sub = s.select(s.rt.projectors, "projector", key.domain)
            try:
                return await s.rt.calls.project_speculative(sub, request.events)
            except DeliveryError as exc:
                raise _failure(exc) from None


def register_reaction_services(coordinator, server: grpc.aio.Server, service: str | None = None) -> None:
    shared = ReactionServices(coordinator, service)
    saga_pb2_grpc.add_SagaCoordinatorServiceServicer_to_server(SagaCoordinator(shared), server)
    process_manager_pb2_grpc.add_ProcessManagerCoordinatorServiceServicer_to_server(
        ProcessManagerCoordinator(shared), server)
    projector_pb2_grpc.add_ProjectorCoordinatorServiceServicer_to_server(ProjectorCoordinator(shared), server)
