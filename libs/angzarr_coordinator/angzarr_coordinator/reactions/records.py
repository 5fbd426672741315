"""Names, keys and failure classes shared by the reaction runtime (spec/coordinator.md §4.1, §6.5).

A subscriber's checkpoints, progress and dead letters are stored under its topology name; its
reactions and outbox entries under ``saga:<name>`` / ``pm:<name>`` (the reactor). A reaction id is
``<saga|pm>:<name>;<trigger domain>;<trigger root hex>;<trigger last sequence>;<index>``.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import grpc

from angzarr_client.proto.angzarr import types_pb2

from ..handlers import REJECTION_CODES
from ..store.base import AggregateKey, CommitRecord

SAGA, PM, PROJECTOR = "saga", "process_manager", "projector"
_PREFIX = {SAGA: "saga", PM: "pm", PROJECTOR: "projector"}

# Outbox entry kinds.
COMMAND, FACT, COMPENSATION, PM_NOTICE = "command", "fact", "compensation", "pm_notice"
# The reactor name under which a reaction's rejection notice is recorded (one per reaction: a
# reaction stops at its first rejection), so it never collides with the reaction's own key.
NOTICE_SUFFIX = "#rejected"
# ... and the notices of a CASCADE COMPENSATE for the reaction's commands that had succeeded.
COMPENSATED_SUFFIX = "#compensated"


def base_reactor(reactor: str) -> str:
    """The reactor a notice reactor name belongs to."""
    return reactor.removesuffix(NOTICE_SUFFIX).removesuffix(COMPENSATED_SUFFIX)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One saga, process manager or projector of the topology, and where it is served."""

    kind: str  # SAGA | PM | PROJECTOR
    name: str
    endpoint: str
    service: str
    listen: tuple[str, ...]
    emits: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The stored subscriber name: checkpoints, progress, dead-letter subscriber, ``angzarr lag``."""
        return self.name

    @property
    def reactor(self) -> str:
        """``saga:<name>`` / ``pm:<name>``: reaction records, outbox entries, reaction ids, notices."""
        return f"{_PREFIX[self.kind]}:{self.name}"


def root_hex(root: uuid.UUID) -> str:
    return root.hex


def key_of_cover(cover: types_pb2.Cover) -> AggregateKey:
    return AggregateKey(cover.domain, uuid.UUID(bytes=cover.root.value))


def reaction_id(subscriber: Subscriber, trigger: AggregateKey, last_sequence: int, index: int) -> str:
    return f"{subscriber.reactor};{trigger.domain};{trigger.root.hex};{last_sequence};{index}"


def commit_cover(commit: CommitRecord) -> types_pb2.Cover:
    return types_pb2.Cover(
        domain=commit.key.domain, root=types_pb2.UUID(value=commit.key.root.bytes),
        correlation_id=commit.correlation_id,
    )


def commit_book(commit: CommitRecord, next_sequence: int | None = None) -> types_pb2.EventBook:
    """A committed book as subscribers receive it: the commit's cover and pages."""
    book = types_pb2.EventBook(cover=commit_cover(commit), pages=commit.pages)
    book.next_sequence = commit.last_sequence + 1 if next_sequence is None else next_sequence
    return book


def describe(code: grpc.StatusCode, message: str) -> str:
    """``"<CODE>: <message>"`` as cascade errors and rejection reasons spell failures."""
    return f"{code.name}: {message}"


# -- failure classes -------------------------------------------------------------------------------
# A reaction command's target answered (§4.1).
DONE, REJECTED, TRANSIENT, FAULTY = "done", "rejected", "transient", "faulty"
_TRANSIENT_DISPATCH = frozenset({
    grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN,
})


def dispatch_class(code: grpc.StatusCode) -> str:
    """How a reaction command's failure is handled: rejected, transient or faulty (§4.1)."""
    if code in REJECTION_CODES:
        return REJECTED
    if code in _TRANSIENT_DISPATCH:
        return TRANSIENT
    return FAULTY


# A subscriber itself failed (§6.5).
UNREACHABLE, RETRY, POISON = "unreachable", "retry", "poison"
_POISON_DELIVERY = frozenset({
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNIMPLEMENTED,
})


def delivery_class(code: grpc.StatusCode) -> str:
    """Unreachable subscribers are retried forever; poison is dead-lettered at once; the rest is
    retried up to ``delivery_max_attempts``."""
    if code == grpc.StatusCode.UNAVAILABLE:
        return UNREACHABLE
    if code in _POISON_DELIVERY:
        return POISON
    return RETRY


def retry_delay(attempt: int, *, base: float = 0.1, cap: float = 30.0) -> float:
    """Jittered ``base·2ⁿ`` seconds, at most ``cap`` (attempt counts from 1)."""
    return min(cap, base * 2 ** max(0, attempt - 1)) * random.uniform(0.5, 1.0)


class DeliveryError(Exception):
    """A subscriber could not handle a commit: ``code`` and ``message`` say why."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code, self.message = code, message

    @property
    def kind(self) -> str:
        return delivery_class(self.code)
