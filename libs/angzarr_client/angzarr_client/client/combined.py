"""``Client`` and ``DomainClient``: command, query and speculative sub-clients on one channel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc

from ..proto.angzarr import command_handler_pb2, types_pb2
from .base import BaseClient, EventStream
from .command_handler import CommandHandlerClient
from .endpoints import TransportMode, resolve_ch_endpoint
from .query import QueryClient
from .speculative import SpeculativeClient

if TYPE_CHECKING:
    from ..builder import CommandBuilder, QueryBuilder

__all__ = ["Client", "DomainClient"]


class Client(BaseClient):
    """Every client capability on one channel.

    Attributes:
        command_handler: the :class:`CommandHandlerClient` (also ``aggregate``).
        query: the :class:`QueryClient`; callable, so ``client.query("d", root)`` is a query builder.
        speculative: the :class:`SpeculativeClient`.
    """

    command_handler: CommandHandlerClient
    query: QueryClient
    speculative: SpeculativeClient

    def _init_stubs(self, channel: grpc.Channel) -> None:
        shared = {"retry": self._retry, "default_timeout": self._default_timeout, "endpoint": self.endpoint}
        self.command_handler = CommandHandlerClient.from_channel(channel, **shared)
        self.query = QueryClient.from_channel(channel, **shared)
        self.speculative = SpeculativeClient.from_channel(channel, **shared)
        self._owns_collaborators = True

    @classmethod
    def from_clients(cls, command_handler: Any, query: Any, speculative: Any, **kw: Any) -> Client:
        """Compose already-built clients (test seam). ``close()`` never closes them."""
        client = cls._bare(**kw)
        client.command_handler = command_handler
        client.query = query
        client.speculative = speculative
        client._owns_collaborators = False
        return client

    @property
    def aggregate(self) -> CommandHandlerClient:
        """The same object as :attr:`command_handler`."""
        return self.command_handler

    def close(self) -> None:
        """Close the channel if owned and mark every sub-client closed (idempotent)."""
        first = self._lifecycle.close()
        if first and self._owns_collaborators:
            for sub in (self.command_handler, self.query, self.speculative):
                sub.close()
        if first and self._owns_channel and self._channel is not None:
            self._channel.close()

    # -- shortcuts ----------------------------------------------------------------------------

    def command(self, domain: str, root: Any) -> CommandBuilder:
        """A command builder bound to this client (see :meth:`CommandHandlerClient.command`)."""
        self._lifecycle.ensure_open()
        return self.command_handler.command(domain, root)

    def command_new(self, domain: str) -> CommandBuilder:
        """A command builder for a new aggregate with a fresh ``uuid4`` root."""
        self._lifecycle.ensure_open()
        return self.command_handler.command_new(domain)

    def query_domain(self, domain: str) -> QueryBuilder:
        """A query builder for a domain without a root."""
        self._lifecycle.ensure_open()
        return self.query.query_domain(domain)

    def handle(
        self,
        command: types_pb2.CommandBook,
        timeout: float | None = None,
        *,
        sync_mode: int = types_pb2.SYNC_MODE_ASYNC,
        cascade_error_mode: int = types_pb2.CASCADE_ERROR_FAIL_FAST,
    ) -> command_handler_pb2.CommandResponse:
        """:meth:`CommandHandlerClient.handle` (so builders can execute through a ``Client``)."""
        self._lifecycle.ensure_open()
        return self.command_handler.handle(
            command, timeout, sync_mode=sync_mode, cascade_error_mode=cascade_error_mode
        )

    def execute(
        self, command: types_pb2.CommandBook, timeout: float | None = None
    ) -> command_handler_pb2.CommandResponse:
        """Send a command in ASYNC mode (the same as ``command_handler.handle``)."""
        return self.handle(command, timeout)

    def execute_with_mode(
        self, command: types_pb2.CommandBook, sync_mode: int, timeout: float | None = None
    ) -> command_handler_pb2.CommandResponse:
        """Send a command with the given ``SyncMode``."""
        return self.handle(command, timeout, sync_mode=sync_mode)

    def get_event_book(self, query: types_pb2.Query, timeout: float | None = None) -> types_pb2.EventBook:
        """One book for the query (unary)."""
        self._lifecycle.ensure_open()
        return self.query.get_event_book(query, timeout)

    def get_events(self, query: types_pb2.Query, timeout: float | None = None) -> list[types_pb2.EventBook]:
        """Every matching book, as a list."""
        self._lifecycle.ensure_open()
        return list(self.query.get_events(query, timeout))

    def iter_events(self, query: types_pb2.Query, timeout: float | None = None) -> EventStream:
        """A lazy stream of the matching books."""
        self._lifecycle.ensure_open()
        return self.query.iter_events(query, timeout)


class DomainClient(Client):
    """A :class:`Client` for one domain's coordinator; ``DomainClient("host:port")`` connects directly."""

    domain: str = ""

    @classmethod
    def for_domain(cls, domain: str, mode: TransportMode | str | None = None, **kw: Any) -> DomainClient:
        """Connect to ``resolve_ch_endpoint(domain, mode)`` and set ``.domain``.

        Raises:
            InvalidArgumentError: an empty domain or unknown mode (see :func:`resolve_ch_endpoint`).
        """
        resolve_keys = ("uds_base", "namespace", "port")
        resolve_kw = {k: kw.pop(k) for k in resolve_keys if k in kw}
        endpoint = resolve_ch_endpoint(domain, mode, **resolve_kw)
        client = cls.connect(endpoint, **kw)
        client.domain = domain
        return client

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        suffix = f", domain={self.domain!r}" if self.domain else ""
        return f"DomainClient({self.endpoint!r}{suffix}, {state})"
