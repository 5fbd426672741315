"""Lazy player-name resolution for the hand log: a player's display name read from their history.

The hand log learns names from ``PlayerRegistered`` as it is delivered. A root it has not seen (the
log started late, or its database was replaced) is looked up once with a query of that player's
history through the player coordinator (``resolve_ch_endpoint("player")``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from angzarr_client.client import QueryClient, resolve_ch_endpoint
from angzarr_client.errors import ClientError
from angzarr_client.typeurl import decode_event, type_matches, unpack
from poker_contracts.player_pb2 import PlayerRegistered, PlayerState

_log = structlog.get_logger("hand.handlog")

NameLookup = Callable[[bytes], "str | None"]


class RegisteredNames:
    """``lookup(root)`` → the display name of the player's ``PlayerRegistered``, or ``None``.

    ``client`` is a :class:`QueryClient`, or a factory for one (called on first use, so building the
    projector does no I/O); by default it connects to ``resolve_ch_endpoint("player")``. A failed query
    is logged and answers ``None``; the next reference to that player asks again.
    """

    def __init__(self, client: QueryClient | Callable[[], QueryClient] | None = None, *, timeout: float = 5.0) -> None:
        self._client = client
        self._timeout = timeout
        self._lock = threading.Lock()

    def _query_client(self) -> QueryClient:
        with self._lock:
            if self._client is None:
                self._client = QueryClient(resolve_ch_endpoint("player"))
            elif not isinstance(self._client, QueryClient):
                self._client = self._client()
            return self._client

    def __call__(self, root: bytes) -> str | None:
        try:
            book = self._query_client().query("player", root).get_event_book(timeout=self._timeout)
            # A snapshot replaces the events before it: its state holds the name then.
            if book.HasField("snapshot") and type_matches(book.snapshot.state.type_url, PlayerState):
                state = unpack(book.snapshot.state, PlayerState)
                if state.display_name:
                    return state.display_name
            for page in book.pages:
                registered = decode_event(page, PlayerRegistered)
                if registered is not None and registered.display_name:
                    return registered.display_name
        except ClientError as exc:
            _log.warning("player_name_lookup_failed", player=root.hex(), error=str(exc))
        return None

    def close(self) -> None:
        with self._lock:
            if isinstance(self._client, QueryClient):
                self._client.close()
