"""Delivery from the global log: tailers, the outbox, compensation, retries and dead letters (§4, §6, §8).

Real coordinator (gRPC over a Unix socket, SQLite file), real shop handler processes, and the real
``angzarr`` CLI for dead letters.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from coord_support import CoordinatorHarness
from react_support import (
    REACT_LIMITS,
    event_kinds,
    events_of,
    order,
    reserve,
    shop_topology,
    start_shop_process,
    wait_until,
)

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.topology import ProjectorSpec, ServiceSpec, Topology

ANGZARR = Path(sys.executable).with_name("angzarr")


def angzarr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ANGZARR), *args], capture_output=True, text=True, timeout=60)


def test_a_rejected_saga_command_is_compensated_at_its_source(harness):
    origin, stock = uuid.uuid4(), uuid.uuid4()
    harness.commands.HandleCommand(order("place", root=origin, saga=[reserve(stock, 20)]))
    wait_until(lambda: event_kinds(harness, "order", origin) == ["place", "compensated"], message="the compensation")
    compensated = events_of(harness, "order", origin)[1]
    assert compensated["rejected_op"] == "reserve"
    assert compensated["reason"].startswith("FAILED_PRECONDITION: insufficient stock")
    assert event_kinds(harness, "stock", stock) == []
    assert harness.dead_letters() == []


def test_an_unhandled_rejection_is_a_dead_letter_the_cli_lists_and_replays(harness, tmp_path):
    origin, stock = uuid.uuid4(), uuid.uuid4()
    handled = tmp_path / "handler-now-matches"
    harness.commands.HandleCommand(order(
        "place", root=origin, saga=[{"domain": "stock", "op": "nocomp", "root": str(stock), "until": str(handled)}]))
    [letter] = wait_until(harness.dead_letters, message="the no-compensation dead letter")
    assert letter.letter.source_component_type == "compensation"
    assert letter.letter.rejected_command.cover.domain == "stock"
    assert event_kinds(harness, "order", origin) == ["place"]  # the source stored nothing
    listed = angzarr("dlq", "list", "--db", str(harness.db_path), "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["status"], row["source"]) == (letter.id, "open", "compensation:order")
    handled.touch()  # the source's rejection handler now matches
    replayed = angzarr("dlq", "replay", str(letter.id), "--db", str(harness.db_path), "--wait", "20")
    assert replayed.returncode == 0, replayed.stderr
    assert f"dead letter {letter.id}: replayed" in replayed.stdout
    assert event_kinds(harness, "order", origin) == ["place", "compensated"]
    assert harness.run(harness.store.get_dead_letter(letter.id)).status == "replayed"


def test_a_reaction_stops_at_its_first_rejected_command(harness):
    origin, first, later = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    harness.commands.HandleCommand(order("place", root=origin, saga=[reserve(first, 20), reserve(later, 1)]))
    wait_until(lambda: event_kinds(harness, "order", origin) == ["place", "compensated"], message="the compensation")
    reaction = harness.run(harness.store.find_reaction("saga:order-saga", _key("order", origin), 0))
    assert [e.status for e in reaction.entries] == ["rejected", "cancelled"]
    assert event_kinds(harness, "stock", later) == []


def _key(domain, root):
    from angzarr_coordinator.store.base import AggregateKey

    return AggregateKey(domain, root)


def test_commands_of_one_trigger_aggregate_are_sent_in_trigger_order(harness, shop):
    origin, stock = uuid.uuid4(), uuid.uuid4()
    for i in range(8):
        harness.commands.HandleCommand(order(
            "place", root=origin, n=i, saga=[{"domain": "stock", "op": "add", "root": str(stock), "n": i},
                                             {"domain": "stock", "op": "add", "root": str(stock), "n": i + 0.5}]))
    wait_until(lambda: len(events_of(harness, "stock", stock)) == 16, message="all reaction commands")
    assert [e["n"] for e in events_of(harness, "stock", stock)] == [x / 2 for x in range(16)]
    # each came with the provenance of its trigger commit
    calls = shop.stock.calls("aggregate", stock)
    assert [c["deferred_seq"] for c in calls] == [i // 2 for i in range(16)]


def test_a_restarted_subscriber_resumes_at_its_checkpoint_and_misses_nothing(harness, shop):
    root = uuid.uuid4()
    harness.commands.HandleCommand(order("place", root=root))
    wait_until(lambda: shop.view("order", root) == [(0, "place")], message="first delivery")
    reactions = harness.coordinator.reactions
    harness.run(reactions.stop())
    saved = harness.run(harness.store.get_checkpoint("order-view"))
    assert saved >= 1
    for i in range(5):
        harness.commands.HandleCommand(order("note", root=root, i=i))
    assert shop.view("order", root) == [(0, "place")]  # nobody delivers while stopped
    harness.run(reactions.start())
    wait_until(lambda: len(shop.view("order", root)) == 6, message="the backlog after restart")
    assert shop.view("order", root) == [(0, "place")] + [(i, "note") for i in range(1, 6)]
    assert [c["seqs"] for c in shop.order.calls("projector", root)] == [[0], [1], [2], [3], [4], [5]]


def test_a_subscriber_failing_internal_is_retried_then_dead_lettered_and_the_next_commit_follows(harness, shop):
    root = uuid.uuid4()
    harness.commands.HandleCommand(order("place", root=root, project_fail="internal"))
    harness.commands.HandleCommand(order("note", root=root))
    wait_until(lambda: shop.view("order", root) == [(1, "note")], message="the next commit")
    [letter] = [r for r in harness.dead_letters() if r.subscriber == "order-view"]
    details = letter.letter.event_processing_failed
    assert (details.retry_count, details.is_transient) == (REACT_LIMITS.delivery_max_attempts, True)
    assert details.error.startswith("INTERNAL: projector failed on purpose")
    assert [p.header.sequence for p in letter.letter.rejected_events.pages] == [0]
    attempts = [c["seqs"] for c in shop.order.calls("projector", root)]
    assert attempts == [[0]] * REACT_LIMITS.delivery_max_attempts + [[1]]


def test_dlq_replay_of_a_poison_event_delivers_it_to_that_subscriber_only(harness, shop, tmp_path):
    root = uuid.uuid4()
    flag = tmp_path / "healed"
    harness.commands.HandleCommand(order("place", root=root, project_fail=f"poison_until:{flag}"))
    [letter] = wait_until(lambda: [r for r in harness.dead_letters() if r.subscriber == "order-view"],
                          message="the poison dead letter")
    assert letter.letter.event_processing_failed.is_transient is False
    assert letter.letter.event_processing_failed.retry_count == 1  # poison: no retries
    saga_calls = len(shop.order.calls("saga", root))
    flag.touch()
    replayed = angzarr("dlq", "replay", str(letter.id), "--db", str(harness.db_path), "--wait", "20")
    assert replayed.returncode == 0, replayed.stderr
    assert shop.view("order", root) == [(0, "place")]
    assert len(shop.order.calls("saga", root)) == saga_calls
    assert harness.run(harness.store.get_dead_letter(letter.id)).status == "replayed"


def test_an_unreachable_subscriber_is_retried_without_dead_letters(tmp_path, shop):
    late_socket_dir = tmp_path / "late"
    late_socket_dir.mkdir()
    base = shop_topology(shop)
    ghost = ServiceSpec(name="ghostsvc", endpoint=str(late_socket_dir / "late.sock"),
                        projector=ProjectorSpec("late-view", ("order",)))
    topology = Topology(services=(*base.services, ghost))
    h = CoordinatorHarness(tmp_path / "events.db", topology, tmp_path / "c.sock", limits=REACT_LIMITS)
    late = None
    try:
        h.run(h.coordinator.start_delivery())
        root = uuid.uuid4()
        for i in range(3):  # distinct payloads: an identical reply would read as an echo of the history
            h.commands.HandleCommand(order("place", root=root, i=i))
        tailer = h.coordinator.reactions.tailers["late-view"]
        wait_until(lambda: tailer.state == "waiting for subscriber", message="the tailer to wait")
        assert "UNAVAILABLE" in tailer.last_error
        assert [r for r in h.dead_letters() if r.subscriber == "late-view"] == []
        late = start_shop_process(late_socket_dir, "late", "--projector-db", str(tmp_path / "late.db"),
                                  "--projector-name", "late-view")
        wait_until(lambda: [c["seqs"] for c in late.calls("projector", root)] == [[0], [1], [2]],
                   message="delivery once the subscriber is up")
        assert h.dead_letters() == []
    finally:
        h.close()
        if late is not None:
            late.stop()


def test_a_deferred_command_sent_twice_with_one_reaction_id_applies_once(harness):
    stock, source = uuid.uuid4(), uuid.uuid4()
    request = order("add", domain="stock", root=stock)
    page = request.command.pages[0]
    page.header.angzarr_deferred.source.CopyFrom(
        types_pb2.Cover(domain="order", root=types_pb2.UUID(value=source.bytes)))
    page.header.angzarr_deferred.source_seq = 4
    metadata = (("x-angzarr-reaction", f"saga:order-saga;order;{source.hex};4;0"),)
    first = harness.commands.HandleCommand(request, metadata=metadata)
    again = harness.commands.HandleCommand(request, metadata=metadata)
    assert first.events == again.events
    assert event_kinds(harness, "stock", stock) == ["add"]
    with pytest.raises(grpc.RpcError):  # a bare sequence mismatch shows the aggregate moved once only
        harness.commands.HandleCommand(order("add", domain="stock", root=stock, merge=types_pb2.MERGE_STRICT))


def test_an_exhausted_reaction_command_is_dead_lettered_and_replayed_with_its_provenance(harness, shop, tmp_path):
    origin, stock = uuid.uuid4(), uuid.uuid4()
    fixed = tmp_path / "fixed"
    harness.commands.HandleCommand(order(
        "place", root=origin, saga=[{"domain": "stock", "op": "crash", "root": str(stock), "until": str(fixed)},
                                    reserve(stock, 1)]))
    [letter] = wait_until(harness.dead_letters, message="the exhausted command's dead letter")
    assert len(shop.stock.calls("aggregate", stock)) == REACT_LIMITS.dispatch_max_attempts
    assert letter.letter.metadata["angzarr.outbox.kind"] == "command"
    assert letter.letter.metadata["angzarr.reaction_id"] == f"saga:order-saga;order;{origin.hex};0;0"
    assert letter.letter.event_processing_failed.is_transient is True
    reaction = harness.run(harness.store.find_reaction("saga:order-saga", _key("order", origin), 0))
    assert [e.status for e in reaction.entries] == ["dead_lettered", "cancelled"]
    fixed.touch()
    replayed = angzarr("dlq", "replay", str(letter.id), "--db", str(harness.db_path), "--wait", "20")
    assert replayed.returncode == 0, replayed.stderr
    assert event_kinds(harness, "stock", stock) == ["crash"]
    # the replay carried the original reaction id: sending it again changes nothing
    again = angzarr("dlq", "replay", str(letter.id), "--db", str(harness.db_path), "--wait", "20")
    assert again.returncode == 0, again.stderr
    assert event_kinds(harness, "stock", stock) == ["crash"]
