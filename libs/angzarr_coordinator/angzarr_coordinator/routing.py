"""Which endpoint decides for which domain, and whether it is available right now.

Built from the topology. A sidecar (``sidecar_domain``) takes commands for its own domain only but
answers queries for every known domain. The supervisor marks a service unavailable while it
restarts; its commands then fail fast with ``UNAVAILABLE`` instead of waiting for a dead socket.
"""

from __future__ import annotations

import grpc

from .richerror import RpcFailure
from .topology import Topology


class Routes:
    def __init__(self, topology: Topology, sidecar_domain: str | None = None) -> None:
        self.topology = topology
        self.sidecar_domain = sidecar_domain
        self.known_domains = frozenset(topology.known_domains)
        self.command_domains = frozenset(topology.aggregate_domains)
        self._endpoints = {
            s.command_handler.domain: s.endpoint for s in topology.services if s.command_handler
        }
        self._service_domains: dict[str, tuple[str, ...]] = {}
        for s in topology.services:
            domains = []
            if s.command_handler:
                domains.append(s.command_handler.domain)
            self._service_domains[s.name] = tuple(domains)
        self._restarting: set[str] = set()

    def set_service_available(self, service_name: str, available: bool) -> None:
        for domain in self._service_domains.get(service_name, ()):
            if available:
                self._restarting.discard(domain)
            else:
                self._restarting.add(domain)

    def check_available(self, domain: str) -> None:
        """Raise ``RpcFailure`` UNAVAILABLE while the service deciding ``domain`` restarts."""
        if domain in self._restarting:
            raise RpcFailure(
                grpc.StatusCode.UNAVAILABLE, f"handler for domain '{domain}' is restarting; retry shortly"
            )

    def endpoint(self, domain: str, *, available_only: bool = True) -> str:
        """The business endpoint deciding commands of ``domain``.

        Raises ``RpcFailure``: ``UNAVAILABLE`` while its service restarts (unless ``available_only``
        is false), ``NOT_FOUND`` for a domain no command handler serves (a process-manager state domain).
        """
        if available_only:
            self.check_available(domain)
        endpoint = self._endpoints.get(domain)
        if endpoint is None:
            raise RpcFailure(
                grpc.StatusCode.NOT_FOUND,
                f"domain '{domain}' has no command handler (it holds process-manager state); "
                f"command domains: {', '.join(sorted(self.command_domains)) or 'none'}",
            )
        return endpoint

    def projector_endpoints(self, domain: str) -> list[tuple[str, str]]:
        """(projector name, endpoint) of every projector listening to ``domain``, in topology order."""
        return [(p.name, s.endpoint) for s, p in self.topology.projectors() if domain in p.listen]
