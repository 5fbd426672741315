"""HandleSyncSpeculative over gRPC: would-be results, nothing stored (spec/coordinator.md §3.7)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from coord_support import command, struct_of

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2


def speculate(coordinator, root, **point) -> command_handler_pb2.CommandResponse:
    request = command_handler_pb2.SpeculateCommandHandlerRequest(
        command=command("deposit", root=root, sequence=0, amount=100).command
    )
    for name, value in point.items():
        if name == "as_of_time":
            request.point_in_time.as_of_time.FromSeconds(value)
        else:
            request.point_in_time.as_of_sequence = value
    return coordinator.commands.HandleSyncSpeculative(request)


def test_speculation_returns_would_be_sequences_and_stores_nothing(coordinator):
    root = uuid.uuid4()
    for seq in range(3):
        coordinator.commands.HandleCommand(command(root=root, sequence=seq, amount=1))
    response = speculate(coordinator, root)
    assert [p.header.sequence for p in response.events.pages] == [3]
    assert response.events.next_sequence == 4
    assert struct_of(response.events.pages[0].event)["balance"] == 103
    # The domain's projector saw the would-be pages.
    assert len(response.projections) == 1 and response.projections[0].projector == "bank-view"
    assert struct_of(response.projections[0].projection)["pages"] == 1
    assert coordinator.event_count() == 3
    assert coordinator.dead_letters() == []
    # A real command afterwards still gets sequence 3.
    assert coordinator.commands.HandleCommand(command(root=root, sequence=3)).events.pages[0].header.sequence == 3


def test_speculation_as_of_sequence_and_time(coordinator):
    root = uuid.uuid4()
    for seq in range(3):
        coordinator.commands.HandleCommand(command(root=root, sequence=seq, amount=1, created_at=1_000 + seq * 100))
    for seq in range(3, 5):
        coordinator.commands.HandleCommand(command(root=root, sequence=seq, amount=1))
    as_of_2 = speculate(coordinator, root, as_of_sequence=2)
    assert [p.header.sequence for p in as_of_2.events.pages] == [3]
    assert struct_of(as_of_2.events.pages[0].event)["balance"] == 103  # pages 0-2 seen
    as_of_time = speculate(coordinator, root, as_of_time=1_150)  # pages 0 (t=1000) and 1 (t=1100)
    assert [p.header.sequence for p in as_of_time.events.pages] == [2]
    assert struct_of(as_of_time.events.pages[0].event)["balance"] == 102
    before_all = speculate(coordinator, root, as_of_time=10)
    assert [p.header.sequence for p in before_all.events.pages] == [0]
    assert coordinator.event_count() == 5


def test_speculation_rejections_and_revocations_store_nothing(coordinator):
    root = uuid.uuid4()
    for op, code in [("withdraw", grpc.StatusCode.FAILED_PRECONDITION), ("revoke", grpc.StatusCode.FAILED_PRECONDITION)]:
        request = command_handler_pb2.SpeculateCommandHandlerRequest(
            command=command(op, root=root, amount=5, dlq=True, reason="no").command
        )
        with pytest.raises(grpc.RpcError) as info:
            coordinator.commands.HandleSyncSpeculative(request)
        assert info.value.code() == code
    assert coordinator.dead_letters() == [] and coordinator.event_count() == 0


def test_speculation_ignores_strict_sequences(coordinator):
    root = uuid.uuid4()
    coordinator.commands.HandleCommand(command(root=root))
    request = command_handler_pb2.SpeculateCommandHandlerRequest(
        command=command(root=root, sequence=0, merge=types_pb2.MERGE_STRICT).command
    )
    assert coordinator.commands.HandleSyncSpeculative(request).events.pages[0].header.sequence == 1
