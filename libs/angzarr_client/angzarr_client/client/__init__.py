"""Clients for a running Angzarr system (spec §6): commands, queries, streams and dry runs.

Every client accepts an endpoint (it then owns the channel) or a ``grpc.Channel``.

Decisions the specification leaves open, taken here:

* A ``Query`` may omit the domain when it names a correlation id (the coordinator then searches every
  domain); any other query without a domain is rejected locally.
* ``x-correlation-id`` is informational: an id gRPC cannot carry in a text header (outside printable
  ASCII) is still sent in the message, just not echoed as a header.
* A call made on, or cut short by, a closed client raises ``ConnectionError("client is closed")`` and
  is never retried, whatever the retry policy.
* ``https://`` endpoints trust the operating system's CA bundle (gRPC's bundled roots when none is
  found).
* ``iter_events`` and ``subscribe`` start their RPC on the first ``next()``; an ``EventStream`` is also a
  context manager that cancels on exit.
"""

from .base import DEFAULT_TIMEOUT, NO_TIMEOUT, BaseClient, EventStream
from .combined import Client, DomainClient
from .command_handler import AggregateClient, CommandHandlerClient
from .endpoints import (
    ACCEPTED_ENDPOINT_FORMS,
    DEFAULT_CHANNEL_OPTIONS,
    Endpoint,
    TransportMode,
    create_channel,
    parse_endpoint,
    resolve_ch_endpoint,
)
from .query import QueryClient
from .speculative import SpeculateAggregateRequest, SpeculativeClient

__all__ = [
    "DEFAULT_TIMEOUT",
    "NO_TIMEOUT",
    "ACCEPTED_ENDPOINT_FORMS",
    "DEFAULT_CHANNEL_OPTIONS",
    "AggregateClient",
    "BaseClient",
    "Client",
    "CommandHandlerClient",
    "DomainClient",
    "Endpoint",
    "EventStream",
    "QueryClient",
    "SpeculateAggregateRequest",
    "SpeculativeClient",
    "TransportMode",
    "create_channel",
    "parse_endpoint",
    "resolve_ch_endpoint",
]
