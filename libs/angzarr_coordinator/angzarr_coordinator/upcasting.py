"""Upcasting of handler-facing reads (spec/coordinator.md §7).

When a domain enables an upcaster (``upcaster: true`` = the business endpoint, or another endpoint),
every page a handler is shown passes through ``UpcasterService.Upcast`` first. Stored bytes, queries
and streams are never upcast. A reply must keep the page count and sequences, else ``INTERNAL``.
"""

from __future__ import annotations

import grpc

from angzarr_client.proto.angzarr import types_pb2

from .handlers import BusinessChannels
from .observability import tracer
from .richerror import RpcFailure
from .topology import Topology


class Upcasters:
    def __init__(self, topology: Topology, channels: BusinessChannels) -> None:
        self._endpoints: dict[str, str] = {}
        for service in topology.services:
            spec = service.command_handler
            if spec is None or spec.upcaster is False:
                continue
            self._endpoints[spec.domain] = service.endpoint if spec.upcaster is True else str(spec.upcaster)
        self._channels = channels

    def enabled(self, domain: str) -> bool:
        return domain in self._endpoints

    async def upcast(self, domain: str, pages: list[types_pb2.EventPage]) -> list[types_pb2.EventPage]:
        """The pages as the domain's upcaster rewrites them (unchanged when none is configured).

        Raises ``RpcFailure``: ``UNAVAILABLE`` when the upcaster cannot be reached, ``INTERNAL`` when it
        fails or changes the page count or sequences.
        """
        endpoint = self._endpoints.get(domain)
        if endpoint is None or not pages:
            return pages
        with tracer.start_as_current_span("upcaster.upcast", attributes={"angzarr.domain": domain}):
            upcast = await self._channels.upcast(domain, endpoint, pages)
        if len(upcast) != len(pages) or any(
            a.header.sequence != b.header.sequence for a, b in zip(upcast, pages)
        ):
            raise RpcFailure(
                grpc.StatusCode.INTERNAL,
                f"upcaster for domain '{domain}' must return the same pages with the same sequences "
                f"(sent {len(pages)}, got {len(upcast)})",
            )
        return upcast
