"""Compensation: what a ``@rejected`` handler receives, and the one definition of a rejection notice.

When a command a saga or process manager issued is rejected, the coordinator sends the source a
``Notification`` holding a ``RejectionNotification``, wrapped in a one-page ``CommandBook``. The
builders here produce exactly that shape, so the coordinator and tests share one definition.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from angzarr_client.errors import InvalidArgumentError
from angzarr_client.ids import proto_to_uuid
from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_client.timestamps import now
from angzarr_client.typeurl import full_name, pack, type_matches, type_name_from_url, unpack

__all__ = [
    "NOTIFICATION_TYPE",
    "REJECTION_TYPE",
    "CompensationContext",
    "delegate_to_framework",
    "find_rejection_handler",
    "notification_command_book",
    "rejection_notification",
]

NOTIFICATION_TYPE = full_name(types_pb2.Notification)
REJECTION_TYPE = full_name(types_pb2.RejectionNotification)

V = TypeVar("V")

# Notification metadata keys (coordinator spec §4.5).
REACTOR_KEY = "reactor"
REACTION_ID_KEY = "reaction_id"
TARGET_DOMAIN_KEY = "target_domain"

# reactor prefix → issuer type
_ISSUER_TYPES = {"saga": "saga", "pm": "process_manager", "process_manager": "process_manager"}


@dataclass(frozen=True)
class CompensationContext:
    """Everything a ``@rejected`` handler needs to compensate for a rejected reaction command."""

    rejected_command: types_pb2.CommandBook
    rejection_reason: str
    rejected_command_type: str
    target_domain: str
    correlation_id: str
    source: types_pb2.Cover | None
    source_event_sequence: int | None
    reactor: str
    reaction_id: str
    issuer_type: str
    issuer_name: str
    sent_at: Timestamp | None

    @property
    def target_root(self) -> uuid.UUID | None:
        """Root of the aggregate that rejected the command, or ``None``."""
        cover = self.rejected_command.cover
        return proto_to_uuid(cover.root) if cover.HasField("root") else None

    @classmethod
    def from_notification(cls, notification: types_pb2.Notification) -> CompensationContext:
        """Read a ``Notification`` holding a ``RejectionNotification``.

        Raises:
            InvalidArgumentError: the notification holds something else, or its bytes are corrupt.
        """
        if not isinstance(notification, types_pb2.Notification):
            raise InvalidArgumentError(f"expected an angzarr.Notification, got {type(notification).__name__}")
        payload_type = type_name_from_url(notification.payload.type_url)
        if payload_type != REJECTION_TYPE:
            raise InvalidArgumentError(
                f"angzarr.Notification must hold an {REJECTION_TYPE}, got {notification.payload.type_url!r}"
            )
        rejection = unpack(notification.payload, types_pb2.RejectionNotification)
        command = types_pb2.CommandBook()
        command.CopyFrom(rejection.rejected_command)
        command_type = ""
        source: types_pb2.Cover | None = None
        source_seq: int | None = None
        if command.pages:
            first = command.pages[0]
            if first.HasField("command"):
                command_type = type_name_from_url(first.command.type_url)
            if first.header.HasField("angzarr_deferred"):
                source = types_pb2.Cover()
                source.CopyFrom(first.header.angzarr_deferred.source)
                source_seq = first.header.angzarr_deferred.source_seq
        reactor = notification.metadata.get(REACTOR_KEY, "")
        issuer_type, issuer_name = _issuer(reactor)
        sent_at: Timestamp | None = None
        if notification.HasField("sent_at"):
            sent_at = Timestamp()
            sent_at.CopyFrom(notification.sent_at)
        return cls(
            rejected_command=command,
            rejection_reason=rejection.rejection_reason,
            rejected_command_type=command_type,
            target_domain=command.cover.domain,
            correlation_id=command.cover.correlation_id,
            source=source,
            source_event_sequence=source_seq,
            reactor=reactor,
            reaction_id=notification.metadata.get(REACTION_ID_KEY, ""),
            issuer_type=issuer_type,
            issuer_name=issuer_name,
            sent_at=sent_at,
        )


def find_rejection_handler(table: dict[tuple[str, str], V], domain: str, command_type: str) -> V | None:
    """The entry for a rejected ``(domain, command full name)``.

    Exact keys win; keys registered by a short name match by R1 suffix, the longest first.
    """
    entry = table.get((domain, command_type))
    if entry is not None or not command_type:
        return entry
    candidates = [
        (key[1], value)
        for key, value in table.items()
        if key[0] == domain and type_matches(command_type, key[1])
    ]
    return max(candidates, key=lambda c: len(c[0]))[1] if candidates else None


def _issuer(reactor: str) -> tuple[str, str]:
    kind, sep, name = reactor.partition(":")
    if sep and kind in _ISSUER_TYPES:
        return _ISSUER_TYPES[kind], name
    return "", reactor


def rejection_notification(
    rejected_command: types_pb2.CommandBook, reason: str, *, reactor: str = "", reaction_id: str = ""
) -> types_pb2.Notification:
    """The notice a coordinator sends to the source of a rejected reaction command.

    Its cover is the source cover from the command's first page (``angzarr_deferred.source``),
    falling back to the command's own cover; metadata carries ``reactor``, ``reaction_id`` and
    ``target_domain``.

    Raises:
        InvalidArgumentError: ``rejected_command`` is not a ``CommandBook``.
    """
    if not isinstance(rejected_command, types_pb2.CommandBook):
        raise InvalidArgumentError(
            f"rejected_command must be an angzarr.CommandBook, got {type(rejected_command).__name__}"
        )
    notice = types_pb2.Notification()
    first = rejected_command.pages[0] if rejected_command.pages else None
    if first is not None and first.header.HasField("angzarr_deferred"):
        notice.cover.CopyFrom(first.header.angzarr_deferred.source)
    else:
        notice.cover.CopyFrom(rejected_command.cover)
    notice.payload.CopyFrom(
        pack(types_pb2.RejectionNotification(rejected_command=rejected_command, rejection_reason=reason))
    )
    notice.sent_at.CopyFrom(now())
    if reactor:
        notice.metadata[REACTOR_KEY] = reactor
    if reaction_id:
        notice.metadata[REACTION_ID_KEY] = reaction_id
    if rejected_command.cover.domain:
        notice.metadata[TARGET_DOMAIN_KEY] = rejected_command.cover.domain
    return notice


def notification_command_book(notification: types_pb2.Notification) -> types_pb2.CommandBook:
    """Wrap a notice as the one-page ``CommandBook`` that ``HandleCompensation`` and ``Handle`` carry.

    The page header repeats the rejected command's ``angzarr_deferred`` provenance when it has one.

    Raises:
        InvalidArgumentError: ``notification`` is not an ``angzarr.Notification``.
    """
    if not isinstance(notification, types_pb2.Notification):
        raise InvalidArgumentError(f"expected an angzarr.Notification, got {type(notification).__name__}")
    book = types_pb2.CommandBook()
    book.cover.CopyFrom(notification.cover)
    page = book.pages.add()
    page.merge_strategy = types_pb2.MERGE_COMMUTATIVE
    if type_name_from_url(notification.payload.type_url) == REJECTION_TYPE:
        rejection = unpack(notification.payload, types_pb2.RejectionNotification)
        pages = rejection.rejected_command.pages
        if pages and pages[0].header.HasField("angzarr_deferred"):
            page.header.angzarr_deferred.CopyFrom(pages[0].header.angzarr_deferred)
    page.command.CopyFrom(pack(notification))
    return book


def delegate_to_framework(reason: str, **flags: bool) -> command_handler_pb2.RevocationResponse:
    """A ``RevocationResponse`` asking the coordinator to handle the rejection.

    ``flags`` are the response's boolean fields (``emit_system_revocation``,
    ``send_to_dead_letter_queue``, ``escalate``, ``abort``); with none given,
    ``emit_system_revocation`` is set.

    Raises:
        InvalidArgumentError: an unknown flag.
    """
    allowed = {"emit_system_revocation", "send_to_dead_letter_queue", "escalate", "abort"}
    unknown = set(flags) - allowed
    if unknown:
        raise InvalidArgumentError(f"unknown revocation flag(s) {sorted(unknown)}; use {sorted(allowed)}")
    if not flags:
        flags = {"emit_system_revocation": True}
    return command_handler_pb2.RevocationResponse(reason=reason, **{k: bool(v) for k, v in flags.items()})
