"""Peer coordinators: where a sidecar sends work for domains it does not own (spec/coordinator.md §10.4).

A sidecar decides commands only for its own domain. Outbox entries of the reactors it hosts (saga and
process-manager commands, facts, rejection notices to an aggregate source) that target another domain
go over gRPC to that domain's sidecar, at ``ch-<domain>.<namespace>.svc:<port>`` as
``resolve_ch_endpoint`` gives it, or at the override ``ANGZARR_ENDPOINT_<DOMAIN>`` (the domain upper
case, ``-`` as ``_``). The peer applies the same provenance dedupe as an in-process call, because the
reaction id travels in ``x-angzarr-reaction``; its reply is classified exactly like a local one.
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from angzarr_client.client import resolve_ch_endpoint
from angzarr_client.proto.angzarr import command_handler_pb2_grpc, types_pb2

from .handlers import ChannelPool, trace_metadata
from .reactions.outbox import Sent
from .reactions.records import COMMAND, COMPENSATION, FACT
from .topology import Limits

REACTION_HEADER = "x-angzarr-reaction"
ENDPOINT_PREFIX = "ANGZARR_ENDPOINT_"


def override_variable(domain: str) -> str:
    """The environment variable that overrides the endpoint of ``domain``'s coordinator."""
    return ENDPOINT_PREFIX + domain.upper().replace("-", "_")


class PeerEndpoints:
    """The client endpoint of each domain's coordinator.

    ``environ`` supplies the ``ANGZARR_ENDPOINT_<DOMAIN>`` overrides. Raises ``InvalidArgumentError``
    (from ``resolve_ch_endpoint``) for a namespace or port it cannot use.
    """

    def __init__(self, namespace: str = "angzarr", port: int = 1310, environ: Mapping[str, str] | None = None) -> None:
        self.namespace = namespace
        self.port = port
        self._overrides = {k: v.strip() for k, v in (environ or {}).items()
                           if k.startswith(ENDPOINT_PREFIX) and v.strip()}
        resolve_ch_endpoint("x", "distributed", namespace=namespace, port=port)  # validates both now

    def endpoint(self, domain: str) -> str:
        override = self._overrides.get(override_variable(domain))
        if override:
            return override
        return resolve_ch_endpoint(domain, "distributed", namespace=self.namespace, port=self.port)


class PeerDispatch:
    """Sends outbox entries whose target another sidecar owns; ``send`` returns None for local ones."""

    def __init__(self, own_domain: str, endpoints: PeerEndpoints, limits: Limits, timeout: float) -> None:
        self.own_domain = own_domain
        self.endpoints = endpoints
        self.timeout = timeout
        self._channels = ChannelPool(limits)

    def _stub(self, domain: str) -> command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub:
        channel = self._channels.channel(self.endpoints.endpoint(domain))
        return command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)

    async def close(self) -> None:
        await self._channels.close()

    async def send(self, kind: str, request: bytes, reaction_id: str, sync_mode: int,
                   cascade_error_mode: int) -> Sent | None:
        """Send one entry to the peer owning its target domain; None when this sidecar owns it (or the
        kind is always local, like a notice to a process manager hosted here). Never raises for a reply:
        a failure is a ``Sent`` with the peer's status code."""
        if kind not in (COMMAND, COMPENSATION, FACT):
            return None
        book = (types_pb2.EventBook if kind == FACT else types_pb2.CommandBook).FromString(request)
        domain = book.cover.domain
        if domain == self.own_domain:
            return None
        metadata = [(REACTION_HEADER, reaction_id), *trace_metadata()]
        stub = self._stub(domain)
        try:
            if kind == COMMAND:
                response = await stub.HandleCommand(
                    types_pb2.CommandRequest(command=book, sync_mode=sync_mode, cascade_error_mode=cascade_error_mode),
                    timeout=self.timeout, metadata=metadata)
                return Sent(events=response.events, projections=list(response.projections),
                            cascade_books=list(response.cascade_books), cascade_errors=list(response.cascade_errors))
            if kind == FACT:
                response = await stub.HandleEvent(types_pb2.EventRequest(events=book, sync_mode=sync_mode),
                                                  timeout=self.timeout, metadata=metadata)
                return Sent(events=response.events, projections=list(response.projections),
                            cascade_books=list(response.cascade_books))
            reply = await stub.HandleCompensation(
                types_pb2.CommandRequest(command=book, sync_mode=sync_mode, cascade_error_mode=cascade_error_mode),
                timeout=self.timeout, metadata=metadata)
            result = reply.WhichOneof("result")
            events = reply.events if result == "events" and reply.events.pages else None
            return Sent(events=events, revoked=result == "revocation")
        except grpc.aio.AioRpcError as err:
            message = err.details() or ""
            if err.code() == grpc.StatusCode.UNAVAILABLE:
                message = f"the coordinator of domain '{domain}' at {self.endpoints.endpoint(domain)} " \
                          f"is unreachable: {message}"
            return Sent(err.code(), message)
