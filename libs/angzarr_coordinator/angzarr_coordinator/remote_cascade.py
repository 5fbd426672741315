"""SIMPLE and CASCADE across sidecars (spec/coordinator.md §3.5, last paragraph).

A sidecar runs the sync modes for the components its own service hosts in-process (``reactions.cascade``).
The components other services host run on their sidecars: after a commit of a domain they listen to,
this module calls the hosting sidecar — projector ``HandleSync`` (SIMPLE and CASCADE), saga ``Execute``
and process-manager ``Handle`` (CASCADE) — with the request's modes. The peer answers ``OK`` and
returns its subtree: the projection, the books (saga ``events``, PM ``process_events``) and, in the
trailer ``angzarr-cascade-bin``, the deeper projections, books and errors. A failed call becomes a
``CascadeError`` of that component and counts as a failure for the error mode, like a local one.

Known limits: the depth and commit bounds apply per sidecar (a peer starts its own count), and the
hosting sidecar's tailer may have delivered the commit before the call arrives, in which case the peer
reports the reaction as recorded and only what was still pending runs in this request (the rest is
already committed, so the request still returns after it).
"""

from __future__ import annotations

import grpc

from angzarr_client.proto.angzarr import (
    command_handler_pb2,
    process_manager_pb2,
    process_manager_pb2_grpc,
    projector_pb2_grpc,
    saga_pb2,
    saga_pb2_grpc,
    types_pb2,
)

from .downstream import DownstreamResult
from .handlers import ChannelPool, trace_metadata
from .peers import PeerEndpoints
from .reactions.cascade import CASCADE, DEAD_LETTER, CascadeState, _failed
from .reactions.records import PM, PROJECTOR, SAGA, describe
from .store.base import CommitRecord
from .topology import Limits, Topology

CASCADE_TRAILER = "angzarr-cascade-bin"
_KIND_NAMES = {PROJECTOR: "projector", SAGA: "saga", PM: "process_manager"}


class _Remote:
    __slots__ = ("kind", "name", "service", "listen")

    def __init__(self, kind: str, name: str, service: str, listen: tuple[str, ...]) -> None:
        self.kind, self.name, self.service, self.listen = kind, name, service, listen


def _book_key(book: types_pb2.EventBook) -> tuple:
    first = book.pages[0].header.sequence if book.pages else -1
    return book.cover.domain, bytes(book.cover.root.value), first


class RemoteCascade:
    """The sync modes for the topology's components that other sidecars host."""

    def __init__(self, own_service: str, topology: Topology, peers: PeerEndpoints, limits: Limits,
                 timeout: float) -> None:
        self.peers = peers
        self.timeout = timeout
        self._channels = ChannelPool(limits)
        others = [s for s in topology.services if s.name != own_service]
        self.projectors = [_Remote(PROJECTOR, s.projector.name, s.name, s.projector.listen)
                           for s in others if s.projector]
        self.reactors = [_Remote(SAGA, s.saga.name, s.name, s.saga.listen) for s in others if s.saga]
        self.reactors += [_Remote(PM, s.process_manager.name, s.name, s.process_manager.listen)
                          for s in others if s.process_manager]

    def _channel(self, service: str) -> grpc.aio.Channel:
        return self._channels.channel(self.peers.endpoint(service))

    async def close(self) -> None:
        await self._channels.close()

    async def after_commit(self, commit: CommitRecord, book: types_pb2.EventBook, sync_mode: int,
                           state: CascadeState | None, result: DownstreamResult) -> None:
        """Run the remote part of the sync mode for ``commit``; failures become ``cascade_errors``."""
        domain = commit.key.domain
        for remote in self.projectors:
            if domain in remote.listen:
                await self._call(remote, book, sync_mode, state, result)
        if sync_mode != CASCADE or state is None:
            return
        for remote in self.reactors:
            if state.stopped:
                return
            if domain in remote.listen and (remote.kind == SAGA or commit.correlation_id):
                await self._call(remote, book, sync_mode, state, result)

    async def _call(self, remote: _Remote, book: types_pb2.EventBook, sync_mode: int,
                    state: CascadeState | None, result: DownstreamResult) -> None:
        mode = state.mode if state is not None else 0
        channel = self._channel(remote.service)
        kw = {"timeout": self.timeout, "metadata": trace_metadata()}
        books: list[types_pb2.EventBook] = []
        try:
            if remote.kind == PROJECTOR:
                stub = projector_pb2_grpc.ProjectorCoordinatorServiceStub(channel)
                projection = await stub.HandleSync(types_pb2.EventRequest(events=book, sync_mode=sync_mode), **kw)
                result.projections.append(projection)
                return
            if remote.kind == SAGA:
                call = saga_pb2_grpc.SagaCoordinatorServiceStub(channel).Execute(
                    saga_pb2.SagaHandleRequest(source=book, sync_mode=sync_mode, cascade_error_mode=mode), **kw)
                reply = await call
                books += [b for b in reply.events if b.pages]
            else:
                call = process_manager_pb2_grpc.ProcessManagerCoordinatorServiceStub(channel).Handle(
                    process_manager_pb2.ProcessManagerCoordinatorRequest(
                        trigger=book, sync_mode=sync_mode, cascade_error_mode=mode), **kw)
                reply = await call
                if reply.process_events.pages:
                    books.append(reply.process_events)
            subtree = await self._trailer(call)
        except grpc.aio.AioRpcError as err:
            message = describe(err.code(), err.details() or "")
            if err.code() == grpc.StatusCode.UNAVAILABLE:
                message += f" (the sidecar of service '{remote.service}')"
            error = command_handler_pb2.CascadeError(
                component_name=remote.name, component_type=_KIND_NAMES[remote.kind], error_message=message,
                source_domain=book.cover.domain)
            if state is not None and state.mode == DEAD_LETTER:
                error.error_message += "; the hosting sidecar's log delivers it (no dead letter from here)"
            result.cascade_errors.append(error)
            if state is not None:
                _failed(state, error.error_message)
            return
        seen = {_book_key(b) for b in result.cascade_books}
        for extra in [*books, *subtree.cascade_books]:
            if _book_key(extra) not in seen:
                seen.add(_book_key(extra))
                result.cascade_books.append(extra)
                if state is not None:
                    state.commits += 1
        result.projections.extend(subtree.projections)
        result.cascade_errors.extend(subtree.cascade_errors)
        if state is not None and subtree.cascade_errors:
            _failed(state, subtree.cascade_errors[0].error_message)

    @staticmethod
    async def _trailer(call) -> command_handler_pb2.CommandResponse:
        for key, value in await call.trailing_metadata() or ():
            if key == CASCADE_TRAILER and isinstance(value, bytes):
                return command_handler_pb2.CommandResponse.FromString(value)
        return command_handler_pb2.CommandResponse()
