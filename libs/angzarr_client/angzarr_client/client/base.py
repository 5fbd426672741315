"""What every client shares: construction, lifecycle, deadlines, retries and error translation (§6.2)."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

import grpc

from ..books import CORRELATION_ID_HEADER
from ..errors import ConnectionError, GRPCError, InvalidArgumentError
from ..proto.angzarr import types_pb2
from ..retry import RetryPolicy, default_retry_policy
from .endpoints import create_channel, parse_endpoint

__all__ = ["DEFAULT_TIMEOUT", "NO_TIMEOUT", "EventStream", "BaseClient"]

DEFAULT_TIMEOUT = 30.0
NO_TIMEOUT = math.inf

T = TypeVar("T")
C = TypeVar("C", bound="BaseClient")

ChannelOptions = Mapping[str, object] | Sequence[tuple[str, object]] | None


def check_timeout(timeout: object, name: str = "timeout") -> float:
    """A validated timeout in seconds (``math.inf`` allowed).

    Raises:
        InvalidArgumentError: not a number, NaN, or ≤ 0.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or math.isnan(timeout):
        raise InvalidArgumentError(f"{name} must be a positive number of seconds, got {timeout!r}")
    if timeout <= 0:
        raise InvalidArgumentError(
            f"{name} must be positive, got {timeout!r}; use NO_TIMEOUT for no deadline"
        )
    return float(timeout)


def correlation_metadata(cid: str) -> list[tuple[str, str]] | None:
    """The correlation header for a call, or ``None``.

    gRPC only carries printable ASCII in text headers; the header is informational (the id also
    travels in the message), so an id outside that range is simply not echoed.
    """
    if not cid or not all(" " <= ch <= "~" for ch in cid):
        return None
    return [(CORRELATION_ID_HEADER, cid)]


def check_book(book: object, cls: type, what: str, *, need_pages: bool = True) -> None:
    """Reject locally what the coordinator would reject: wrong type, empty domain, missing pages.

    Raises:
        InvalidArgumentError: naming the problem.
    """
    if not isinstance(book, cls):
        raise InvalidArgumentError(f"{what} must be an angzarr.{cls.__name__}, got {type(book).__name__}")
    if not book.cover.domain:
        raise InvalidArgumentError(f"{what} has no domain: set cover.domain")
    if need_pages and not book.pages:
        raise InvalidArgumentError(f"{what} has no pages")
    payload_field = "command" if cls is types_pb2.CommandBook else "event"
    for index, page in enumerate(book.pages):
        if page.WhichOneof("payload") is None:
            raise InvalidArgumentError(f"{what} page {index} has no payload (set {payload_field})")


class _Closed(Exception):
    """Internal: the client or its channel is closed. Not a ``ClientError``, so no policy retries it;
    the client turns it into ``ConnectionError`` once the retry loop has given up."""


def _run(retry: RetryPolicy, attempt: Callable[[], T], *, idempotent: bool) -> T:
    try:
        return retry.execute(attempt, idempotent=idempotent)
    except _Closed as closed:
        raise ConnectionError(str(closed)) from None


class _Lifecycle:
    """The closed flag, shared by a client and the sub-clients it created."""

    def __init__(self) -> None:
        self._closed = False
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> bool:
        """Mark closed; True only for the first call."""
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            return True

    def ensure_open(self) -> None:
        """Raises: ConnectionError("client is closed")."""
        if self._closed:
            raise ConnectionError("client is closed")

    def ensure_open_in_attempt(self) -> None:
        if self._closed:
            raise _Closed("client is closed")


class EventStream(Generic[T]):
    """A lazy stream of messages from a server-streaming RPC, with ``cancel()``.

    The RPC starts on the first ``next()``. Transient failures before the first item are retried by the
    client's policy; after it, failures are raised as :class:`~angzarr_client.errors.GRPCError`.
    After ``cancel()`` iteration stops cleanly.
    """

    def __init__(
        self,
        start: Callable[[], Any],
        translate: Callable[[grpc.RpcError], Exception],
        retry: RetryPolicy,
        lifecycle: _Lifecycle,
    ) -> None:
        self._start = start
        self._translate = translate
        self._retry = retry
        self._lifecycle = lifecycle
        self._call: Any = None
        self._iterator: Iterator[T] | None = None
        self._cancelled = False
        self._done = False
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Stop the stream; a pending ``next()`` ends and later ones raise ``StopIteration``."""
        with self._lock:
            self._cancelled = True
            call = self._call
        if call is not None:
            self._cancel_call(call)

    @staticmethod
    def _cancel_call(call: Any) -> None:
        cancel = getattr(call, "cancel", None)
        if cancel is not None:
            cancel()

    def __iter__(self) -> EventStream[T]:
        return self

    def _first(self) -> T:
        def attempt() -> T:
            self._lifecycle.ensure_open_in_attempt()
            try:
                call = self._start()
                with self._lock:
                    self._call = call
                    # A real call is its own iterator; a test stub may return a plain list.
                    self._iterator = iter(call)
                    cancelled = self._cancelled
                if cancelled:
                    self._cancel_call(call)
                return next(self._iterator)
            except grpc.RpcError as exc:
                if self._cancelled:
                    raise StopIteration from None
                self._lifecycle.ensure_open_in_attempt()
                raise self._translate(exc) from exc

        return _run(self._retry, attempt, idempotent=True)

    def __next__(self) -> T:
        if self._done or self._cancelled:
            raise StopIteration
        try:
            if self._iterator is None:
                return self._first()
            return next(self._iterator)
        except StopIteration:
            self._done = True
            raise
        except grpc.RpcError as exc:
            self._done = True
            if self._cancelled:
                raise StopIteration from None
            self._lifecycle.ensure_open()  # closing the client mid-stream ends it as "client is closed"
            raise self._translate(exc) from exc

    def __enter__(self) -> EventStream[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()


class BaseClient:
    """Construction, lifecycle and RPC plumbing shared by every client.

    ``target`` is an endpoint string (the client builds and owns the channel) or a ``grpc.Channel``
    (closed by :meth:`close` only when ``owns_channel``).
    """

    def __init__(
        self,
        target: str | grpc.Channel,
        owns_channel: bool = True,
        *,
        retry: RetryPolicy | None = None,
        default_timeout: float | None = None,
        channel_options: ChannelOptions = None,
        endpoint: str | None = None,
    ) -> None:
        self._retry: RetryPolicy = retry if retry is not None else default_retry_policy()
        if not callable(getattr(self._retry, "execute", None)):
            raise InvalidArgumentError(f"retry must be a RetryPolicy with execute(), got {retry!r}")
        self._default_timeout = (
            DEFAULT_TIMEOUT if default_timeout is None else check_timeout(default_timeout, "default_timeout")
        )
        self._lifecycle = _Lifecycle()
        if isinstance(target, str):
            parsed = parse_endpoint(target)
            self._channel: grpc.Channel | None = create_channel(parsed, channel_options=channel_options)
            self._owns_channel = True
            self.endpoint = target
        elif isinstance(target, grpc.Channel):
            if channel_options is not None:
                raise InvalidArgumentError("channel_options apply only when the client builds its channel")
            self._channel = target
            self._owns_channel = bool(owns_channel)
            self.endpoint = endpoint or "<channel>"
        else:
            raise InvalidArgumentError(
                f"a client needs an endpoint string or a grpc.Channel, got {type(target).__name__}"
            )
        self._init_stubs(self._channel)

    # -- construction -------------------------------------------------------------------------

    def _init_stubs(self, channel: grpc.Channel) -> None:
        raise NotImplementedError

    @classmethod
    def connect(cls: type[C], endpoint: str, retry: RetryPolicy | None = None, **kw: Any) -> C:
        """Connect to ``endpoint``; no network I/O happens until the first call.

        Raises:
            InvalidArgumentError: a bad endpoint or option.
            TransportError: the channel could not be built.
        """
        if not isinstance(endpoint, str):
            raise InvalidArgumentError(f"connect() needs an endpoint string, got {type(endpoint).__name__}")
        return cls(endpoint, retry=retry, **kw)

    @classmethod
    def from_channel(cls: type[C], channel: grpc.Channel, **kw: Any) -> C:
        """A client on a caller-managed channel; :meth:`close` leaves the channel open."""
        if not isinstance(channel, grpc.Channel):
            raise InvalidArgumentError(f"from_channel() needs a grpc.Channel, got {type(channel).__name__}")
        return cls(channel, False, **kw)

    @classmethod
    def from_env(cls: type[C], env_var: str, default: str, **kw: Any) -> C:
        """Connect to the endpoint in ``env_var``, or ``default`` when it is unset or blank (R6)."""
        if not isinstance(env_var, str) or not env_var:
            raise InvalidArgumentError("from_env() needs the name of an environment variable")
        value = os.environ.get(env_var, "")
        endpoint = value.strip() if value.strip() else default
        return cls.connect(endpoint, **kw)

    @classmethod
    def _bare(
        cls: type[C],
        *,
        retry: RetryPolicy | None = None,
        default_timeout: float | None = None,
        endpoint: str = "<stub>",
    ) -> C:
        """An instance without a channel, for the ``from_stub(s)`` test seams."""
        client = cls.__new__(cls)
        client._retry = retry if retry is not None else default_retry_policy()
        client._default_timeout = (
            DEFAULT_TIMEOUT if default_timeout is None else check_timeout(default_timeout, "default_timeout")
        )
        client._lifecycle = _Lifecycle()
        client._channel = None
        client._owns_channel = False
        client.endpoint = endpoint
        return client

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def channel(self) -> grpc.Channel | None:
        return self._channel

    @property
    def default_timeout(self) -> float:
        return self._default_timeout

    @property
    def closed(self) -> bool:
        return self._lifecycle.closed

    def wait_ready(self, timeout: float = 5.0) -> None:
        """Block until the channel is connected.

        Raises:
            ConnectionError: the client is closed, or the server was not ready within ``timeout``.
            InvalidArgumentError: ``timeout`` ≤ 0.
        """
        seconds = check_timeout(timeout)
        self._lifecycle.ensure_open()
        if self._channel is None:
            return
        future = grpc.channel_ready_future(self._channel)
        try:
            future.result(timeout=None if math.isinf(seconds) else seconds)
        except grpc.FutureTimeoutError:
            future.cancel()
            raise ConnectionError(f"{self.endpoint} not ready after {timeout} s") from None

    def close(self) -> None:
        """Close the client (idempotent). Afterwards every call raises ``ConnectionError``."""
        if self._lifecycle.close() and self._owns_channel and self._channel is not None:
            self._channel.close()

    def __enter__(self: C) -> C:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"{type(self).__name__}({self.endpoint!r}, {state})"

    # -- calls --------------------------------------------------------------------------------

    def _timeout(self, timeout: float | None) -> float | None:
        """The gRPC deadline for one attempt (R4): ``None`` means no deadline."""
        seconds = self._default_timeout if timeout is None else check_timeout(timeout)
        return None if math.isinf(seconds) else seconds

    def _translate(self, method: str) -> Callable[[grpc.RpcError], GRPCError]:
        def translate(exc: grpc.RpcError) -> GRPCError:
            return GRPCError(exc, method=method, endpoint=self.endpoint)

        return translate

    def _invoke(self, fn: Callable[[], T], method: str) -> T:
        """Run one attempt, turning gRPC failures into library errors."""
        self._lifecycle.ensure_open_in_attempt()
        try:
            return fn()
        except grpc.RpcError as exc:
            # A call cut short because this client was closed meanwhile reports that, not CANCELLED.
            self._lifecycle.ensure_open_in_attempt()
            raise GRPCError(exc, method=method, endpoint=self.endpoint) from exc
        except ValueError as exc:
            # grpc raises ValueError for a call on a channel its owner closed.
            if "closed channel" in str(exc).lower():
                raise _Closed(f"channel to {self.endpoint} is closed") from exc
            raise

    def _unary(
        self,
        stub_method: Callable[..., T],
        method: str,
        request: Any,
        *,
        timeout: float | None,
        cid: str,
        idempotent: bool,
    ) -> T:
        self._lifecycle.ensure_open()
        deadline = self._timeout(timeout)
        metadata = correlation_metadata(cid)

        def attempt() -> T:
            return self._invoke(lambda: stub_method(request, timeout=deadline, metadata=metadata), method)

        return _run(self._retry, attempt, idempotent=idempotent)

    def _drain(
        self, stub_method: Callable[..., Any], method: str, request: Any, *, timeout: float | None, cid: str
    ) -> list:
        """A server stream read to the end under one deadline; retried whole (idempotent reads only)."""
        self._lifecycle.ensure_open()
        deadline = self._timeout(timeout)
        metadata = correlation_metadata(cid)

        def attempt() -> list:
            return self._invoke(
                lambda: list(stub_method(request, timeout=deadline, metadata=metadata)), method
            )

        return _run(self._retry, attempt, idempotent=True)

    def _stream(
        self, stub_method: Callable[..., Any], method: str, request: Any, *, timeout: float | None, cid: str
    ) -> EventStream:
        self._lifecycle.ensure_open()
        deadline = self._timeout(timeout)
        metadata = correlation_metadata(cid)

        def start() -> Any:
            try:
                return stub_method(request, timeout=deadline, metadata=metadata)
            except ValueError as exc:
                if "closed channel" in str(exc).lower():
                    raise _Closed(f"channel to {self.endpoint} is closed") from exc
                raise

        return EventStream(start, self._translate(method), self._retry, self._lifecycle)
