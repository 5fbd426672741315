"""Client-side test doubles: a recording stub and gRPC errors with rich details."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message
from google.rpc import status_pb2

from angzarr_client.typeurl import pack

__all__ = ["RecordedCall", "RecordingStub", "rpc_error"]

STATUS_DETAILS_KEY = "grpc-status-details-bin"


class _RpcError(grpc.RpcError, grpc.Call):
    """A failed call as the gRPC runtime raises it: ``code()``, ``details()`` and trailers."""

    def __init__(self, code: grpc.StatusCode, details: str, trailers: tuple[tuple[str, Any], ...]) -> None:
        super().__init__(f"<rpc_error {code.name}: {details}>")
        self._code = code
        self._details = details
        self._trailers = trailers

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[tuple[str, Any], ...]:
        return self._trailers

    def initial_metadata(self) -> tuple[tuple[str, Any], ...]:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float | None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return False

    def __str__(self) -> str:
        return f"{self._code.name}: {self._details}"


def rpc_error(
    code: grpc.StatusCode, details: str = "", details_messages: Iterable[Message] = ()
) -> grpc.RpcError:
    """A ``grpc.RpcError`` carrying ``code``, ``details`` and, when given, a ``google.rpc.Status``
    with ``details_messages`` packed as rich details (the ``grpc-status-details-bin`` trailer).

    Raises:
        TypeError: ``code`` is not a ``grpc.StatusCode``.
    """
    if not isinstance(code, grpc.StatusCode):
        raise TypeError(f"rpc_error needs a grpc.StatusCode, got {code!r}")
    messages = list(details_messages)
    trailers: tuple[tuple[str, Any], ...] = ()
    if messages:
        status = status_pb2.Status(code=code.value[0], message=details, details=[pack(m) for m in messages])
        trailers = ((STATUS_DETAILS_KEY, status.SerializeToString()),)
    return _RpcError(code, details, trailers)


@dataclass(frozen=True)
class RecordedCall:
    """One call made through a :class:`RecordingStub`."""

    method: str
    request: Any
    metadata: tuple[tuple[str, str], ...]
    timeout: float | None


class RecordingStub:
    """A stand-in for any generated gRPC stub, for the clients' ``from_stub(s)`` seams.

    Every attribute is a method that records ``(method, request, metadata, timeout)`` in
    :attr:`calls`. ``errors[method]`` is an exception raised on every call, or a sequence of
    exceptions raised by successive calls before replies start. ``responses[method]`` is the reply
    (for a streaming method, a list of messages), or a callable ``request -> reply``. A method
    with neither returns ``None``.
    """

    def __init__(self, responses: dict[str, Any] | None = None, errors: dict[str, Any] | None = None) -> None:
        self.responses = dict(responses or {})
        self._errors: dict[str, list[BaseException] | BaseException] = {}
        for method, error in (errors or {}).items():
            self._errors[method] = list(error) if isinstance(error, Sequence) else error
        self.calls: list[RecordedCall] = []
        self._lock = threading.Lock()

    def calls_to(self, method: str) -> list[RecordedCall]:
        """The recorded calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    def _invoke(self, method: str, request: Any, timeout: float | None, metadata: Any) -> Any:
        with self._lock:
            self.calls.append(RecordedCall(method, request, tuple(metadata or ()), timeout))
            error = self._errors.get(method)
            if isinstance(error, list):
                error = error.pop(0) if error else None
        if error is not None:
            raise error
        reply = self.responses.get(method)
        return reply(request) if callable(reply) else reply

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(request: Any, timeout: float | None = None, metadata: Any = None, **_: Any) -> Any:
            return self._invoke(method, request, timeout, metadata)

        call.__name__ = method
        return call
