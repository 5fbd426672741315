"""The error hierarchy of ``angzarr_client``.

Every deliberate error raised by the library is a :class:`ClientError`. The predicates
(``is_not_found()``, ``is_retryable()``, ...) live on the base class, so callers can ask any error
the same questions, and they never raise.

```
ClientError
├── ConnectionError        closed client; wait_ready timeout
├── TransportError         channel could not be built
├── GRPCError              an RPC failed (wraps grpc.RpcError)
├── InvalidArgumentError   (also ValueError)
│   ├── InvalidTimestampError
│   └── DecodeError
├── StateRebuildError
└── CommandRejectedError   business rejection raised by handler code
```
"""

from __future__ import annotations

from typing import TypeVar

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError as _ProtoDecodeError
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

__all__ = [
    "ClientError",
    "ConnectionError",
    "TransportError",
    "GRPCError",
    "InvalidArgumentError",
    "InvalidTimestampError",
    "DecodeError",
    "StateRebuildError",
    "CommandRejectedError",
    "REJECTION_STATUS_CODES",
    "STATUS_DETAILS_KEY",
]

M = TypeVar("M", bound=Message)

# The standard trailer that carries a serialized google.rpc.Status with rich error details.
STATUS_DETAILS_KEY = "grpc-status-details-bin"

_CONNECTION_CODES = frozenset({grpc.StatusCode.UNAVAILABLE})
_RETRYABLE_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
)

# The business-rejection codes the coordinator passes through to callers unchanged.
REJECTION_STATUS_CODES = frozenset(
    {
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.OUT_OF_RANGE,
    }
)


class ClientError(Exception):
    """Base of every error the library raises deliberately.

    ``str(e)`` is the message, or ``"message: cause"`` when a cause was given; it is never empty.
    """

    def __init__(self, message: str = "", *, cause: BaseException | None = None) -> None:
        self.message = str(message) if message else type(self).__name__
        self.cause = cause
        super().__init__(self.message)
        if cause is not None:
            self.__cause__ = cause

    def __str__(self) -> str:
        if self.cause is not None:
            cause_text = str(self.cause) or type(self.cause).__name__
            return f"{self.message}: {cause_text}"
        return self.message

    # -- introspection -------------------------------------------------------------------------

    @property
    def code(self) -> grpc.StatusCode | None:
        """The gRPC status code this error stands for, or ``None``."""
        return None

    def status(self) -> status_pb2.Status | None:
        """The ``google.rpc.Status`` with rich details (only for :class:`GRPCError`)."""
        return None

    def is_not_found(self) -> bool:
        return self.code == grpc.StatusCode.NOT_FOUND

    def is_precondition_failed(self) -> bool:
        return self.code == grpc.StatusCode.FAILED_PRECONDITION

    def is_aborted(self) -> bool:
        return self.code == grpc.StatusCode.ABORTED

    def is_invalid_argument(self) -> bool:
        return self.code == grpc.StatusCode.INVALID_ARGUMENT or isinstance(self, InvalidArgumentError)

    def is_connection_error(self) -> bool:
        return isinstance(self, ConnectionError | TransportError) or self.code in _CONNECTION_CODES

    def is_retryable(self) -> bool:
        """True for connection failures, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED."""
        return self.is_connection_error() or self.code in _RETRYABLE_CODES


class ConnectionError(ClientError):  # shadows the builtin on purpose: the documented name
    """The client is closed, or a server did not become ready in time."""


class TransportError(ClientError):
    """A channel could not be built (for example unreadable TLS files)."""


class InvalidArgumentError(ClientError, ValueError):
    """A caller passed a bad argument; raised by the call that received it."""


class InvalidTimestampError(InvalidArgumentError):
    """A timestamp is not RFC 3339 with a zone, or a datetime is naive."""


class DecodeError(InvalidArgumentError):
    """A payload could not be decoded: wrong type or corrupt bytes.

    ``type_url`` is the payload's type URL, ``expected`` the full name that was wanted.
    """

    def __init__(
        self, message: str = "", *, type_url: str = "", expected: str = "", cause: BaseException | None = None
    ) -> None:
        super().__init__(message, cause=cause)
        self.type_url = type_url
        self.expected = expected


class StateRebuildError(ClientError):
    """History or a snapshot could not be applied to state; ``cause`` is the original error."""


class CommandRejectedError(ClientError):
    """A business rejection raised by handler code.

    ``status_code`` is one of the rejection codes the coordinator passes through
    (:data:`REJECTION_STATUS_CODES`); any other code raises ``ValueError``.
    """

    def __init__(
        self, message: str, status_code: grpc.StatusCode = grpc.StatusCode.FAILED_PRECONDITION
    ) -> None:
        if status_code not in REJECTION_STATUS_CODES:
            allowed = ", ".join(sorted(c.name for c in REJECTION_STATUS_CODES))
            raise ValueError(
                f"CommandRejectedError status_code must be one of {allowed}, not {status_code!r}"
            )
        super().__init__(message)
        self.status_code = status_code

    @property
    def code(self) -> grpc.StatusCode:
        return self.status_code

    @property
    def reason(self) -> str:
        return self.message

    @classmethod
    def precondition_failed(cls, message: str) -> CommandRejectedError:
        return cls(message, grpc.StatusCode.FAILED_PRECONDITION)

    @classmethod
    def invalid_argument(cls, message: str) -> CommandRejectedError:
        return cls(message, grpc.StatusCode.INVALID_ARGUMENT)

    @classmethod
    def not_found(cls, message: str) -> CommandRejectedError:
        return cls(message, grpc.StatusCode.NOT_FOUND)

    @classmethod
    def already_exists(cls, message: str) -> CommandRejectedError:
        return cls(message, grpc.StatusCode.ALREADY_EXISTS)


class GRPCError(ClientError):
    """An RPC failed. Wraps the ``grpc.RpcError`` and names the method and endpoint.

    The message is ``grpc error <CODE> calling <method> at <endpoint>: <details>``.
    """

    def __init__(self, rpc_error: grpc.RpcError, *, method: str = "", endpoint: str = "") -> None:
        self.rpc_error = rpc_error
        self.method = method
        self.endpoint = endpoint
        self._code = _call_or(rpc_error, "code", None) or grpc.StatusCode.UNKNOWN
        self.details = _call_or(rpc_error, "details", None) or ""
        message = f"grpc error {self._code.name} calling {method or '<unknown method>'}"
        message += f" at {endpoint or '<unknown endpoint>'}: {self.details}"
        super().__init__(message)
        # The RpcError is the cause for tracebacks, but its own text is already in the message.
        self.__cause__ = rpc_error
        self._status: status_pb2.Status | None = None

    @property
    def code(self) -> grpc.StatusCode:
        return self._code

    def status(self) -> status_pb2.Status:
        """The ``google.rpc.Status``: the server's rich status if it sent one, else code and details."""
        if self._status is None:
            self._status = self._parse_status()
        result = status_pb2.Status()
        result.CopyFrom(self._status)
        return result

    def _parse_status(self) -> status_pb2.Status:
        trailers = _call_or(self.rpc_error, "trailing_metadata", None) or ()
        for key, value in trailers:
            if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
                try:
                    return status_pb2.Status.FromString(value)
                except _ProtoDecodeError:
                    break  # a corrupt trailer must not hide the error itself
        return status_pb2.Status(code=self._code.value[0], message=self.details)

    def _detail_anys(self) -> list[any_pb2.Any]:
        if self._status is None:
            self._status = self._parse_status()
        return list(self._status.details)

    def detail(self, cls: type[M]) -> M | None:
        """The first rich detail of type ``cls``, or ``None``."""
        from .typeurl import try_unpack

        for detail in self._detail_anys():
            try:
                found = try_unpack(detail, cls)
            except DecodeError:
                continue
            if found is not None:
                return found
        return None

    def sequence_mismatch(self):
        """The attached ``SequenceMismatchDetails``; resend at its ``actual_sequence``. ``None`` if absent."""
        from .proto.angzarr import types_pb2

        return self.detail(types_pb2.SequenceMismatchDetails)

    def current_event_book(self):
        """The attached ``EventBook`` (the aggregate's current history, possibly truncated), or ``None``."""
        from .proto.angzarr import types_pb2

        return self.detail(types_pb2.EventBook)

    def is_sequence_mismatch(self) -> bool:
        return self.sequence_mismatch() is not None

    def retry_after(self) -> float | None:
        """Seconds from an attached ``google.rpc.RetryInfo``, or ``None``."""
        info = self.detail(error_details_pb2.RetryInfo)
        if info is None:
            return None
        return info.retry_delay.seconds + info.retry_delay.nanos / 1e9


def _call_or(obj: object, name: str, default):
    """Call ``obj.name()`` when it exists; a bare ``grpc.RpcError`` has none of the call methods."""
    fn = getattr(obj, name, None)
    if fn is None:
        return default
    try:
        return fn()
    except Exception:  # introspection must never raise
        return default
