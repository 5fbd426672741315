"""HandleCompensation over gRPC: rejection notices applied once, dead letters only when nothing
matched (spec/coordinator.md §3.8)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from coord_support import command, cover, struct_any, struct_of
from google.protobuf import any_pb2

from angzarr_client.proto.angzarr import types_pb2


def notice(root: uuid.UUID, rejected_op: str, *, source_seq: int = 0) -> types_pb2.CommandRequest:
    """A rejection notice for ``root`` (the saga source) about a command with ``op`` = rejected_op."""
    rejected = types_pb2.CommandBook(cover=cover("upbank", uuid.uuid4()))
    rejected.pages.add().command.CopyFrom(struct_any(op=rejected_op, tag=rejected_op))
    note = types_pb2.Notification(cover=cover("bank", root))
    note.payload.Pack(types_pb2.RejectionNotification(rejected_command=rejected, rejection_reason="FAILED_PRECONDITION: full"))
    note.metadata.update({"reactor": "saga:s", "reaction_id": "r", "target_domain": "upbank"})
    book = types_pb2.CommandBook(cover=cover("bank", root))
    page = book.pages.add(merge_strategy=types_pb2.MERGE_STRICT)
    page.header.angzarr_deferred.source.CopyFrom(cover("bank", root))
    page.header.angzarr_deferred.source_seq = source_seq
    packed = any_pb2.Any()
    packed.Pack(note)
    page.command.CopyFrom(packed)
    return types_pb2.CommandRequest(command=book)


def test_matched_compensation_appends_its_events_once(coordinator, bank_service):
    root = uuid.uuid4()
    coordinator.commands.HandleCommand(command(root=root))
    request = notice(root, "compensable", source_seq=0)
    metadata = (("x-angzarr-reaction", f"saga:s;bank;{root.hex};0;0;rejected"),)
    reply = coordinator.commands.HandleCompensation(request, metadata=metadata)
    assert reply.WhichOneof("result") == "events"
    assert [p.header.sequence for p in reply.events.pages] == [1]
    assert struct_of(reply.events.pages[0].event)["event"] == "compensated"
    again = coordinator.commands.HandleCompensation(request, metadata=metadata)
    assert list(again.events.pages) == list(reply.events.pages)
    assert len(bank_service.calls("compensable")) == 1
    assert coordinator.event_count() == 2 and coordinator.dead_letters() == []


def test_matched_handler_emitting_nothing_is_handled_without_dead_letter(coordinator):
    root = uuid.uuid4()
    reply = coordinator.commands.HandleCompensation(notice(root, "handled_noop"))
    assert reply.WhichOneof("result") == "events" and list(reply.events.pages) == []
    assert coordinator.event_count() == 0 and coordinator.dead_letters() == []


def test_unmatched_notice_is_a_no_compensation_dead_letter(coordinator):
    root = uuid.uuid4()
    reply = coordinator.commands.HandleCompensation(notice(root, "unmatched"))
    assert reply.WhichOneof("result") == "revocation"
    assert coordinator.event_count() == 0
    letters = coordinator.dead_letters()
    assert len(letters) == 1
    letter = letters[0].letter
    assert letter.source_component_type == "compensation"
    assert letter.rejection_reason.startswith("no compensation")
    assert struct_of(letter.rejected_command.pages[0].command)["op"] == "unmatched"
    assert letter.cover.root.value == root.bytes


def test_compensation_needs_a_notification(coordinator):
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCompensation(command("deposit"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "expects an angzarr.Notification" in info.value.details()
    assert coordinator.event_count() == 0
