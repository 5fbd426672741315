"""Fluent builders for commands and queries (spec §7).

Every setter validates its argument and raises ``InvalidArgumentError`` (``InvalidTimestampError`` for
times) in that call, leaving the builder unchanged.

Builders are mutable and not thread-safe. ``build()`` never changes the builder, so repeated builds
are equal; ``copy()`` gives an independent builder.
"""

from __future__ import annotations

import copy as _copy
import datetime as _dt
import uuid
from collections.abc import Iterable
from typing import Any

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from .errors import InvalidArgumentError, InvalidTimestampError
from .ids import UUIDLike, to_uuid, uuid_to_proto
from .proto.angzarr import types_pb2
from .timestamps import parse_timestamp, to_timestamp
from .typeurl import TYPE_URL_PREFIX, full_name, type_matches, type_name_from_url, type_url_for

__all__ = ["CommandBuilder", "QueryBuilder"]

_MAX_U32 = 2**32 - 1


def _check_domain(domain: object) -> str:
    if not isinstance(domain, str) or not domain.strip():
        raise InvalidArgumentError(f"a domain is required (a non-empty string), got {domain!r}")
    return domain


def _check_u32(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_U32:
        raise InvalidArgumentError(f"{what} must be an integer in 0..{_MAX_U32}, got {value!r}")
    return value


def _check_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(f"{what} must be a non-empty string, got {value!r}")
    return value


class CommandBuilder:
    """Builds a one-page ``CommandBook`` and, bound to a client, sends it.

    A missing root becomes a new ``uuid4``. One ``uuid4`` correlation id is generated per builder;
    every build reuses it and ``copy()`` keeps it.
    """

    def __init__(self, client: Any, domain: str, root: UUIDLike | None = None) -> None:
        self._client = client
        self._domain = _check_domain(domain)
        self._root = to_uuid(root) if root is not None else uuid.uuid4()
        self._correlation_id = str(uuid.uuid4())
        self._sequence = 0
        self._merge_strategy = types_pb2.MERGE_COMMUTATIVE
        self._edition: str | None = None
        self._type_url: str | None = None
        self._payload: bytes | None = None

    # -- read-only views ----------------------------------------------------------------------

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def root(self) -> uuid.UUID:
        return self._root

    @property
    def correlation_id(self) -> str:
        return self._correlation_id

    # -- fluent setters -----------------------------------------------------------------------

    def with_command(self, *args: Any) -> CommandBuilder:
        """Set the command.

        * ``with_command(msg)``: the type URL comes from ``msg``.
        * ``with_command(name_or_url, msg)``: the name must match ``msg``'s type (R1); ``msg``'s own URL
          is written.
        * ``with_command(full_name_or_url, payload: bytes)``: no local class needed; a bare short name
          raises because it cannot be turned into a type URL.

        Raises:
            InvalidArgumentError: any other shape, a name that does not match, or a short name with bytes.
        """
        if len(args) == 1:
            (msg,) = args
            if not isinstance(msg, Message):
                raise InvalidArgumentError(
                    f"with_command(msg) needs a protobuf message, got {type(msg).__name__}; "
                    "pass (full_name, bytes) for raw payloads"
                )
            self._type_url, self._payload = type_url_for(msg), msg.SerializeToString()
            return self
        if len(args) != 2:
            raise InvalidArgumentError(
                f"with_command takes (msg) or (name, msg|bytes), got {len(args)} arguments"
            )
        name, payload = args
        if not isinstance(name, str) or not type_name_from_url(name):
            raise InvalidArgumentError(
                f"with_command name must be a non-empty type name or URL, got {name!r}"
            )
        if isinstance(payload, Message):
            if not type_matches(type_url_for(payload), name):
                raise InvalidArgumentError(
                    f"command name {name!r} does not match the message type {full_name(payload)}"
                )
            self._type_url, self._payload = type_url_for(payload), payload.SerializeToString()
            return self
        if isinstance(payload, bytes | bytearray):
            type_name = type_name_from_url(name)
            if "." not in type_name:
                raise InvalidArgumentError(
                    f"with_command({name!r}, bytes) needs a full name such as "
                    f"'examples.{type_name}' or a type URL"
                )
            self._type_url = name if "/" in name else TYPE_URL_PREFIX + name
            self._payload = bytes(payload)
            return self
        raise InvalidArgumentError(
            f"with_command payload must be a protobuf message or bytes, got {type(payload).__name__}"
        )

    def with_type_url(self, url: str) -> CommandBuilder:
        """Set the command's type URL (a later call replaces it)."""
        _check_name(url, "type URL")
        if not type_name_from_url(url):
            raise InvalidArgumentError(f"type URL {url!r} has no type name after the last '/'")
        self._type_url = url
        return self

    def with_payload(self, payload: bytes) -> CommandBuilder:
        """Set the command's serialized bytes (``b""`` is a valid payload)."""
        if not isinstance(payload, bytes | bytearray):
            raise InvalidArgumentError(f"payload must be bytes, got {type(payload).__name__}")
        self._payload = bytes(payload)
        return self

    def with_sequence(self, n: int) -> CommandBuilder:
        """Set the expected sequence (the first page's ``header.sequence``), 0 ≤ n < 2³²."""
        self._sequence = _check_u32(n, "sequence")
        return self

    def with_merge_strategy(self, strategy: int) -> CommandBuilder:
        """Set the ``MergeStrategy`` (default ``MERGE_COMMUTATIVE``)."""
        if isinstance(strategy, bool) or strategy not in types_pb2.MergeStrategy.values():
            names = ", ".join(types_pb2.MergeStrategy.keys())
            raise InvalidArgumentError(f"merge strategy must be one of {names}, got {strategy!r}")
        self._merge_strategy = strategy
        return self

    def with_correlation_id(self, cid: str) -> CommandBuilder:
        """Replace the generated correlation id (it must be non-empty)."""
        self._correlation_id = _check_name(cid, "correlation id")
        return self

    def with_root(self, root: UUIDLike) -> CommandBuilder:
        """Address another aggregate of the same domain."""
        self._root = to_uuid(root)
        return self

    def with_edition(self, name: str) -> CommandBuilder:
        """Target an edition (a branch of history) instead of the main timeline."""
        self._edition = _check_name(name, "edition")
        return self

    def copy(self) -> CommandBuilder:
        """An independent builder with the same settings (correlation id included)."""
        return _copy.copy(self)

    # -- terminal operations ------------------------------------------------------------------

    def build(self) -> types_pb2.CommandBook:
        """The ``CommandBook``.

        Raises:
            InvalidArgumentError: "command type URL not set" or "command payload not set".
        """
        if self._type_url is None:
            raise InvalidArgumentError(
                "command type URL not set: call with_command(...) or with_type_url(...)"
            )
        if self._payload is None:
            raise InvalidArgumentError("command payload not set: call with_command(...) or with_payload(...)")
        book = types_pb2.CommandBook()
        book.cover.domain = self._domain
        book.cover.root.CopyFrom(uuid_to_proto(self._root))
        book.cover.correlation_id = self._correlation_id
        if self._edition is not None:
            book.cover.edition.name = self._edition
        page = book.pages.add()
        page.header.sequence = self._sequence
        page.merge_strategy = self._merge_strategy
        page.command.type_url = self._type_url
        page.command.value = self._payload
        return book

    def execute(
        self,
        sync_mode: int = types_pb2.SYNC_MODE_ASYNC,
        *,
        cascade_error_mode: int = types_pb2.CASCADE_ERROR_FAIL_FAST,
        timeout: float | None = None,
    ):
        """``build()``, then ``client.handle``; returns the ``CommandResponse``.

        Raises:
            InvalidArgumentError: as :meth:`build`, or the builder has no client.
            ConnectionError, GRPCError: from the client.
        """
        if self._client is None:
            raise InvalidArgumentError("this builder has no client; use build() and send the book yourself")
        return self._client.handle(
            self.build(), timeout, sync_mode=sync_mode, cascade_error_mode=cascade_error_mode
        )

    def __repr__(self) -> str:
        return f"CommandBuilder(domain={self._domain!r}, root={self._root}, type_url={self._type_url!r})"


class QueryBuilder:
    """Builds a ``Query`` and, bound to a client, runs it.

    There is one selection slot and the last call wins; with no selection the query returns the full
    history.
    """

    def __init__(self, client: Any, domain: str, root: UUIDLike | None = None) -> None:
        self._client = client
        self._domain = _check_domain(domain)
        self._root = to_uuid(root) if root is not None else None
        self._correlation_id = ""
        self._edition: str | None = None
        self._selection: tuple[str, Any] | None = None

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def root(self) -> uuid.UUID | None:
        return self._root

    @property
    def correlation_id(self) -> str:
        return self._correlation_id

    # -- selections (last one wins) -----------------------------------------------------------

    def range(self, lower: int) -> QueryBuilder:
        """Events from ``lower`` to the end."""
        self._selection = ("range", types_pb2.SequenceRange(lower=_check_u32(lower, "lower")))
        return self

    def range_to(self, lower: int, upper: int) -> QueryBuilder:
        """Events ``lower`` ≤ seq ≤ ``upper`` (inclusive).

        Raises:
            InvalidArgumentError: ``upper < lower`` or a bound outside 0..2³²-1.
        """
        lo, hi = _check_u32(lower, "lower"), _check_u32(upper, "upper")
        if hi < lo:
            raise InvalidArgumentError(f"range upper bound {hi} is below lower bound {lo}")
        self._selection = ("range", types_pb2.SequenceRange(lower=lo, upper=hi))
        return self

    def sequences(self, *values: int | Iterable[int]) -> QueryBuilder:
        """An explicit set of sequences (``sequences(1, 3)`` or ``sequences([1, 3])``).

        Raises:
            InvalidArgumentError: an empty set or a value outside 0..2³²-1.
        """
        if len(values) == 1 and not isinstance(values[0], int):
            try:
                values = tuple(values[0])
            except TypeError:
                raise InvalidArgumentError(f"sequences need integers, got {values[0]!r}") from None
        if not values:
            raise InvalidArgumentError("sequences() needs at least one sequence")
        checked = [_check_u32(v, "sequence") for v in values]
        self._selection = ("sequences", types_pb2.SequenceSet(values=checked))
        return self

    def as_of_sequence(self, n: int) -> QueryBuilder:
        """History up to and including sequence ``n``."""
        self._selection = (
            "temporal",
            types_pb2.TemporalQuery(as_of_sequence=_check_u32(n, "as_of_sequence")),
        )
        return self

    def as_of_time(self, ts: str | _dt.datetime | timestamp_pb2.Timestamp) -> QueryBuilder:
        """History as of a time: RFC 3339 text, an aware datetime or a ``Timestamp``.

        Raises:
            InvalidTimestampError: bad text, a naive datetime, or another type (raised here, at once).
        """
        if isinstance(ts, timestamp_pb2.Timestamp):
            stamp = timestamp_pb2.Timestamp()
            stamp.CopyFrom(ts)
        elif isinstance(ts, str):
            stamp = parse_timestamp(ts)
        elif isinstance(ts, _dt.datetime):
            stamp = to_timestamp(ts)
        else:
            raise InvalidTimestampError(
                f"as_of_time needs RFC 3339 text, an aware datetime or a Timestamp, got {type(ts).__name__}"
            )
        self._selection = ("temporal", types_pb2.TemporalQuery(as_of_time=stamp))
        return self

    # -- cover --------------------------------------------------------------------------------

    def by_correlation_id(self, cid: str) -> QueryBuilder:
        """Query by correlation id; clears the root."""
        self._correlation_id = _check_name(cid, "correlation id")
        self._root = None
        return self

    def with_root(self, root: UUIDLike) -> QueryBuilder:
        """Query one aggregate."""
        self._root = to_uuid(root)
        return self

    def edition(self, name: str) -> QueryBuilder:
        """Read an edition instead of the main timeline."""
        self._edition = _check_name(name, "edition")
        return self

    with_edition = edition

    def copy(self) -> QueryBuilder:
        """An independent builder with the same settings."""
        return _copy.copy(self)

    # -- terminal operations ------------------------------------------------------------------

    def build(self) -> types_pb2.Query:
        """The ``Query``."""
        query = types_pb2.Query()
        query.cover.domain = self._domain
        if self._root is not None:
            query.cover.root.CopyFrom(uuid_to_proto(self._root))
        if self._correlation_id:
            query.cover.correlation_id = self._correlation_id
        if self._edition is not None:
            query.cover.edition.name = self._edition
        if self._selection is not None:
            field, value = self._selection
            getattr(query, field).CopyFrom(value)
        return query

    def _bound(self) -> Any:
        if self._client is None:
            raise InvalidArgumentError("this builder has no client; use build() and run the query yourself")
        return self._client

    def get_event_book(self, timeout: float | None = None) -> types_pb2.EventBook:
        """Run the query (unary) and return one ``EventBook``.

        Raises:
            InvalidArgumentError: no client bound. ConnectionError, GRPCError: from the client.
        """
        return self._bound().get_event_book(self.build(), timeout)

    def get_events(self, timeout: float | None = None) -> list[types_pb2.EventBook]:
        """Run the query (streaming) and return every book as a list. Raises: as :meth:`get_event_book`."""
        return list(self._bound().get_events(self.build(), timeout))

    def iter_events(self, timeout: float | None = None):
        """Run the query lazily; returns an ``EventStream`` with ``cancel()``. Raises: as
        :meth:`get_event_book` (RPC errors while iterating)."""
        return self._bound().iter_events(self.build(), timeout)

    def get_pages(self, timeout: float | None = None) -> list[types_pb2.EventPage]:
        """The pages of :meth:`get_event_book`."""
        return list(self.get_event_book(timeout).pages)

    def __repr__(self) -> str:
        return f"QueryBuilder(domain={self._domain!r}, root={self._root}, selection={self._selection!r})"
