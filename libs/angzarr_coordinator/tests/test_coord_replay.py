"""``snapshots.replay_when_oversized``: an aggregate too big for one message is folded with
``CommandHandlerService.Replay`` into a TRANSIENT snapshot (spec/coordinator.md §7)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from coord_support import CoordinatorHarness, command, fill, start_bank_service

from angzarr_coordinator.topology import CommandHandlerSpec, Limits, ServiceSpec, Topology


def test_oversized_context_is_folded_by_replay_else_resource_exhausted(tmp_path):
    service = start_bank_service(tmp_path)
    endpoint = str(service.socket)
    topology = Topology(services=(
        ServiceSpec(name="bank", endpoint=endpoint, command_handler=CommandHandlerSpec("bank")),
        ServiceSpec(name="bigbank", endpoint=endpoint,
                    command_handler=CommandHandlerSpec("bigbank", snapshots_replay_when_oversized=True)),
    ))
    limits = Limits(handler_timeout=5.0, max_message_bytes=1024 * 1024)
    harness = CoordinatorHarness(tmp_path / "e.db", topology, tmp_path / "r.sock", limits=limits)
    try:
        plain, big = uuid.uuid4(), uuid.uuid4()
        fill(harness, plain, 8, payload=200 * 1024, per_fact=2)
        fill(harness, big, 8, domain="bigbank", payload=200 * 1024, per_fact=2)
        with pytest.raises(grpc.RpcError) as info:
            harness.commands.HandleCommand(command(root=plain, sequence=8))
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        tag = uuid.uuid4().hex
        response = harness.commands.HandleCommand(command(domain="bigbank", root=big, sequence=8, tag=tag))
        assert response.events.pages[0].header.sequence == 8
        replays = service.calls("replay")
        assert len(replays) >= 2
        assert [s for r in replays for s in r["page_sequences"]] == list(range(8))
        assert replays[0]["snapshot_sequence"] is None and replays[1]["snapshot_sequence"] is not None
        call = service.calls(tag)[0]
        assert call["snapshot_sequence"] == 7 and call["page_sequences"] == []
    finally:
        harness.close()
    # The snapshot was stored: a fresh coordinator loads it plus the later page, with no more replays.
    again = CoordinatorHarness(tmp_path / "e.db", topology, tmp_path / "s.sock", limits=limits)
    try:
        before = len(service.calls("replay"))
        tag = uuid.uuid4().hex
        again.commands.HandleCommand(command(domain="bigbank", root=big, sequence=9, tag=tag))
        call = service.calls(tag)[0]
        assert call["snapshot_sequence"] == 7 and call["page_sequences"] == [8]
        assert len(service.calls("replay")) == before
    finally:
        again.close()
        service.process.terminate()
        service.process.wait(10)
