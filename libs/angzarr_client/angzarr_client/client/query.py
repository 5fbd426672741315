"""``QueryClient``: histories from ``EventQueryService``, live streams from ``EventStreamService``."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import empty_pb2

from ..errors import InvalidArgumentError
from ..ids import proto_to_uuid
from ..proto.angzarr import query_pb2_grpc, stream_pb2_grpc, types_pb2
from .base import NO_TIMEOUT, BaseClient, EventStream

if TYPE_CHECKING:
    from ..builder import QueryBuilder

__all__ = ["QueryClient"]

_QUERY = "/angzarr.EventQueryService/"
_STREAM = "/angzarr.EventStreamService/"


def _check_query(query: object) -> types_pb2.Query:
    if not isinstance(query, types_pb2.Query):
        raise InvalidArgumentError(f"expected an angzarr.Query, got {type(query).__name__}")
    # A correlation query may span domains; any other query names its domain.
    if not query.cover.domain and not query.cover.correlation_id:
        raise InvalidArgumentError("query has no domain: set cover.domain (or a correlation id)")
    return query


class QueryClient(BaseClient):
    """Read access to event histories. Calling the client (``client("d", root)``) starts a query builder."""

    def _init_stubs(self, channel: grpc.Channel) -> None:
        self._query_stub = query_pb2_grpc.EventQueryServiceStub(channel)
        self._stream_stub = stream_pb2_grpc.EventStreamServiceStub(channel)

    @classmethod
    def from_stub(cls, stub: Any, **kw: Any) -> QueryClient:
        """A client on a prebuilt stub serving both query and stream methods (test seam; no channel)."""
        client = cls._bare(**kw)
        client._query_stub = stub
        client._stream_stub = stub
        return client

    @property
    def stub(self) -> Any:
        """The raw ``EventQueryServiceStub``."""
        return self._query_stub

    @property
    def stubs(self) -> tuple[Any, Any]:
        """The raw query and stream stubs."""
        return self._query_stub, self._stream_stub

    # -- RPCs ---------------------------------------------------------------------------------

    def get_event_book(self, query: types_pb2.Query, timeout: float | None = None) -> types_pb2.EventBook:
        """One ``EventBook`` for the query (unary ``GetEventBook``).

        Raises:
            InvalidArgumentError: not a Query, no domain, or a bad timeout.
            ConnectionError: the client is closed.
            GRPCError: the RPC failed.
        """
        _check_query(query)
        return self._unary(
            self._query_stub.GetEventBook,
            _QUERY + "GetEventBook",
            query,
            timeout=timeout,
            cid=query.cover.correlation_id,
            idempotent=True,
        )

    def get_events(self, query: types_pb2.Query, timeout: float | None = None) -> list[types_pb2.EventBook]:
        """Every matching ``EventBook`` (``GetEvents`` drained into a list under one deadline).

        Raises: as :meth:`get_event_book`.
        """
        _check_query(query)
        return self._drain(
            self._query_stub.GetEvents,
            _QUERY + "GetEvents",
            query,
            timeout=timeout,
            cid=query.cover.correlation_id,
        )

    def iter_events(self, query: types_pb2.Query, timeout: float | None = None) -> EventStream:
        """A lazy stream of the matching books; ``cancel()`` stops it.

        Raises: as :meth:`get_event_book` (RPC errors surface while iterating).
        """
        _check_query(query)
        return self._stream(
            self._query_stub.GetEvents,
            _QUERY + "GetEvents",
            query,
            timeout=timeout,
            cid=query.cover.correlation_id,
        )

    def get_aggregate_roots(self, timeout: float | None = None) -> list[tuple[str, uuid.UUID]]:
        """Every known ``(domain, root)`` pair.

        Raises:
            ConnectionError, GRPCError, InvalidArgumentError: as :meth:`get_event_book`.
        """
        roots = self._drain(
            self._query_stub.GetAggregateRoots,
            _QUERY + "GetAggregateRoots",
            empty_pb2.Empty(),
            timeout=timeout,
            cid="",
        )
        return [(r.domain, proto_to_uuid(r.root)) for r in roots]

    def subscribe(self, correlation_id: str, timeout: float | None = NO_TIMEOUT) -> EventStream:
        """Every commit under ``correlation_id``: history first, then live (``EventStreamService.Subscribe``).

        Raises:
            InvalidArgumentError: an empty correlation id (before any RPC).
        """
        if not isinstance(correlation_id, str) or not correlation_id:
            raise InvalidArgumentError("subscribe() needs a non-empty correlation id")
        request = types_pb2.EventStreamFilter(correlation_id=correlation_id)
        return self._stream(
            self._stream_stub.Subscribe, _STREAM + "Subscribe", request, timeout=timeout, cid=correlation_id
        )

    # -- builders -----------------------------------------------------------------------------

    def query(self, domain: str, root: Any = None) -> QueryBuilder:
        """A :class:`~angzarr_client.builder.QueryBuilder` for one aggregate, bound to this client."""
        from ..builder import QueryBuilder

        return QueryBuilder(self, domain, root)

    __call__ = query

    def query_domain(self, domain: str) -> QueryBuilder:
        """A query builder for a domain without a root (use with ``by_correlation_id``)."""
        from ..builder import QueryBuilder

        return QueryBuilder(self, domain)
