"""Failures the coordinator answers with, and their rich details (spec/coordinator.md §1).

Every deliberate error is an ``RpcFailure``: a gRPC code, a message saying what was wrong and what to
do, and optional ``google.rpc.Status`` details sent in ``grpc-status-details-bin``. Details stay under
``MAX_DETAILS_BYTES`` so they fit default metadata limits: an attached ``EventBook`` keeps its cover and
true ``next_sequence`` and as many of the unseen pages (oldest first) as fit; a client sees truncation
by ``last page + 1 < next_sequence`` and reads the rest with a range query.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, message
from google.rpc import status_pb2

from angzarr_client.proto.angzarr import types_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
MAX_DETAILS_BYTES = 4096


class RpcFailure(Exception):
    """An answer other than OK: ``code``, ``message`` and optional rich ``details`` (protobuf messages)."""

    def __init__(self, code: grpc.StatusCode, message: str, details: tuple[message.Message, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        if not self.details:
            return ()
        return ((STATUS_DETAILS_KEY, status_bytes(self.code, self.message, self.details)),)


def invalid(message: str) -> RpcFailure:
    return RpcFailure(grpc.StatusCode.INVALID_ARGUMENT, message)


def _pack(msg: message.Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(msg)
    return packed


def status_bytes(code: grpc.StatusCode, text: str, details: tuple[message.Message, ...]) -> bytes:
    """Serialize a ``google.rpc.Status`` of ``code``/``text``/``details``, at most ``MAX_DETAILS_BYTES``.

    Attached ``EventBook``s keep no snapshot and lose their newest pages until the status fits; the
    message is shortened as a last resort.
    """
    books = [d for d in details if isinstance(d, types_pb2.EventBook)]
    others = [d for d in details if not isinstance(d, types_pb2.EventBook)]
    status = status_pb2.Status(code=code.value[0], message=text)
    status.details.extend(_pack(d) for d in others)
    base = status.ByteSize()
    if base > MAX_DETAILS_BYTES // 2:
        status.message = text[:512]
        base = status.ByteSize()
    budget = MAX_DETAILS_BYTES - base
    for book in books:
        fitted = fit_book(book, budget)
        status.details.append(_pack(fitted))
        budget = MAX_DETAILS_BYTES - status.ByteSize()
    return status.SerializeToString()


# An Any wrapper costs its type URL plus a few tag/length bytes.
_ANY_OVERHEAD = len("type.googleapis.com/angzarr.EventBook") + 12


def fit_book(book: types_pb2.EventBook, budget: int) -> types_pb2.EventBook:
    """A copy of ``book`` holding its cover, ``next_sequence`` and the leading pages that fit ``budget``."""
    fitted = types_pb2.EventBook(next_sequence=book.next_sequence)
    if book.HasField("cover"):
        fitted.cover.CopyFrom(book.cover)
    room = budget - _ANY_OVERHEAD - fitted.ByteSize()
    for page in book.pages:
        cost = page.ByteSize() + 4  # tag + length prefix of a repeated field element
        if cost > room:
            break
        fitted.pages.append(page)
        room -= cost
    return fitted
