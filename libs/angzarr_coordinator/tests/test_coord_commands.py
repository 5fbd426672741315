"""HandleCommand over gRPC: stamping, correlation ids, strategies on stale sequences, handler replies,
dedupe of deferred commands, snapshots and upcasters (spec/coordinator.md §3.1-3.4, §7)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from coord_support import (
    CoordinatorHarness,
    aggregate_query,
    bank_topology,
    command,
    cover,
    fill,
    status_details,
    struct_of,
)

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, types_pb2

STRICT, MANUAL = types_pb2.MERGE_STRICT, types_pb2.MERGE_MANUAL
AGGREGATE_HANDLES = types_pb2.MERGE_AGGREGATE_HANDLES


def stored(coordinator, domain: str, root: uuid.UUID) -> types_pb2.EventBook:
    return coordinator.queries.GetEventBook(aggregate_query(domain, root))


def deposit_n(coordinator, root: uuid.UUID, n: int, domain: str = "bank", **fields) -> None:
    for _ in range(n):
        coordinator.commands.HandleCommand(command("deposit", domain=domain, root=root, amount=1, **fields))


def test_first_event_is_sequence_zero_and_next_sequence_one(coordinator):
    root = uuid.uuid4()
    response = coordinator.commands.HandleCommand(command("deposit", root=root, amount=5))
    assert [p.header.sequence for p in response.events.pages] == [0]
    assert response.events.next_sequence == 1
    assert response.events.cover.domain == "bank" and response.events.cover.root.value == root.bytes
    assert not response.events.cover.HasField("edition")


def test_coordinator_stamps_sequences_and_created_at(coordinator):
    root = uuid.uuid4()
    deposit_n(coordinator, root, 2)
    # The handler stamps sequence 999 on both pages and no created_at.
    response = coordinator.commands.HandleCommand(
        command("deposit", root=root, sequence=2, amount=1, events=2, stamp_sequence=999)
    )
    assert [p.header.sequence for p in response.events.pages] == [2, 3]
    assert all(p.created_at.seconds > 1_700_000_000 for p in response.events.pages)
    # A created_at the handler set is kept.
    kept = coordinator.commands.HandleCommand(command("deposit", root=root, sequence=4, created_at=1_000_000))
    assert kept.events.pages[0].created_at.seconds == 1_000_000
    book = stored(coordinator, "bank", root)
    assert [p.header.sequence for p in book.pages] == [0, 1, 2, 3, 4]
    assert book.pages[4].created_at.seconds == 1_000_000
    assert not any(p.committed for p in book.pages)


def test_echoed_input_pages_are_not_stored_twice(coordinator):
    root = uuid.uuid4()
    deposit_n(coordinator, root, 3)
    response = coordinator.commands.HandleCommand(command("echo", root=root, sequence=3, amount=2))
    assert [p.header.sequence for p in response.events.pages] == [3]
    assert struct_of(response.events.pages[0].event)["balance"] == 5
    assert [p.header.sequence for p in stored(coordinator, "bank", root).pages] == [0, 1, 2, 3]


def test_empty_correlation_id_becomes_a_uuid_returned_and_stored(coordinator, bank_service):
    root = uuid.uuid4()
    tag = uuid.uuid4().hex
    response = coordinator.commands.HandleCommand(command("deposit", root=root, tag=tag))
    cid = response.events.cover.correlation_id
    assert uuid.UUID(cid).version == 4
    assert bank_service.calls(tag)[0]["correlation_id"] == cid
    by_correlation = coordinator.queries.GetEventBook(types_pb2.Query(cover=types_pb2.Cover(correlation_id=cid)))
    assert by_correlation.cover.root.value == root.bytes and len(by_correlation.pages) == 1
    # A given id is kept.
    given = coordinator.commands.HandleCommand(command("deposit", root=root, sequence=1, correlation_id="order-7"))
    assert given.events.cover.correlation_id == "order-7"


def test_strict_stale_sequence_fails_with_details_and_handler_not_called(coordinator, bank_service):
    root = uuid.uuid4()
    deposit_n(coordinator, root, 3)
    tag = uuid.uuid4().hex
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(command("deposit", root=root, sequence=1, merge=STRICT, tag=tag))
    err = info.value
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert err.details().startswith("Sequence mismatch:")
    assert bank_service.calls(tag) == []
    status, (mismatch, book) = status_details(err)
    assert status.code == grpc.StatusCode.FAILED_PRECONDITION.value[0] and status.message == err.details()
    assert (mismatch.expected_sequence, mismatch.actual_sequence, mismatch.merge_strategy) == (1, 3, STRICT)
    assert book.next_sequence == 3 and [p.header.sequence for p in book.pages] == [1, 2]
    assert book.cover.root.value == root.bytes
    assert coordinator.event_count() == 3
    # At the right sequence STRICT succeeds.
    ok = coordinator.commands.HandleCommand(command("deposit", root=root, sequence=3, merge=STRICT))
    assert ok.events.pages[0].header.sequence == 3


def test_mismatch_details_of_a_10000_event_aggregate_stay_under_4_kib(coordinator):
    root = uuid.uuid4()
    fill(coordinator, root, 10_000)
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(command("deposit", root=root, sequence=0, merge=STRICT))
    raw = dict(info.value.trailing_metadata())["grpc-status-details-bin"]
    assert len(raw) <= 4096
    _, (mismatch, book) = status_details(info.value)
    assert mismatch.actual_sequence == 10_000 and book.next_sequence == 10_000
    assert book.pages and book.pages[0].header.sequence == 0
    assert book.pages[-1].header.sequence + 1 < book.next_sequence  # truncation is visible


def test_commutative_stale_sequence_is_decided_on_current_state(coordinator, bank_service):
    root = uuid.uuid4()
    deposit_n(coordinator, root, 3)
    tag = uuid.uuid4().hex
    response = coordinator.commands.HandleCommand(command("deposit", root=root, sequence=0, amount=10, tag=tag))
    assert response.events.pages[0].header.sequence == 3
    assert struct_of(response.events.pages[0].event)["balance"] == 13
    assert bank_service.calls(tag)[0]["page_sequences"] == [0, 1, 2]


def test_manual_stale_sequence_aborts_and_records_a_dead_letter(coordinator, bank_service):
    root = uuid.uuid4()
    deposit_n(coordinator, root, 2)
    tag = uuid.uuid4().hex
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(command("deposit", root=root, sequence=0, merge=MANUAL, tag=tag))
    assert info.value.code() == grpc.StatusCode.ABORTED
    assert info.value.details().startswith("Sequence mismatch:")
    assert "dead letter" in info.value.details() and "manual review" in info.value.details()
    _, (mismatch, book) = status_details(info.value)
    assert mismatch.merge_strategy == MANUAL and book.next_sequence == 2
    assert bank_service.calls(tag) == []
    assert coordinator.event_count() == 2
    letters = coordinator.dead_letters()
    assert len(letters) == 1
    letter = letters[0].letter
    assert letter.WhichOneof("rejection_details") == "sequence_mismatch"
    assert (letter.sequence_mismatch.expected_sequence, letter.sequence_mismatch.actual_sequence) == (0, 2)
    assert struct_of(letter.rejected_command.pages[0].command)["tag"] == tag
    assert f"dead letter {letters[0].id} " in info.value.details()


def test_aggregate_handles_passes_the_stale_header_and_stores(coordinator, bank_service):
    root = uuid.uuid4()
    deposit_n(coordinator, root, 2)
    tag = uuid.uuid4().hex
    response = coordinator.commands.HandleCommand(
        command("deposit", root=root, sequence=0, merge=AGGREGATE_HANDLES, tag=tag)
    )
    assert response.events.pages[0].header.sequence == 2
    call = bank_service.calls(tag)[0]
    assert call["header"] == "sequence" and call["header_sequence"] == 0


@pytest.mark.parametrize(
    "code", ["FAILED_PRECONDITION", "INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS", "OUT_OF_RANGE",
             "PERMISSION_DENIED"]
)
def test_business_rejections_pass_through_unchanged_after_one_call(coordinator, bank_service, code):
    root = uuid.uuid4()
    tag = uuid.uuid4().hex
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(command("reject", root=root, code=code, message=f"no: {tag}", tag=tag))
    assert info.value.code() == getattr(grpc.StatusCode, code)
    assert info.value.details() == f"no: {tag}"
    assert len(bank_service.calls(tag)) == 1
    assert coordinator.event_count() == 0


@pytest.mark.parametrize(
    ("code", "expected"),
    [("UNIMPLEMENTED", "UNIMPLEMENTED"), ("RESOURCE_EXHAUSTED", "RESOURCE_EXHAUSTED"), ("INTERNAL", "INTERNAL"),
     ("ABORTED", "INTERNAL"), ("UNKNOWN", "INTERNAL"), ("DATA_LOSS", "INTERNAL")],
)
def test_other_handler_errors_map_per_spec(coordinator, code, expected):
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(command("reject", code=code, message="boom"))
    assert info.value.code() == getattr(grpc.StatusCode, expected)
    if expected == "INTERNAL":
        assert info.value.details().startswith("handler for domain 'bank' failed:")
    assert coordinator.event_count() == 0


def test_unreachable_handler_is_unavailable(coordinator):
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(command("deposit", domain="ghost"))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "handler for domain 'ghost' is unreachable" in info.value.details()
    assert coordinator.event_count() == 0


def test_hung_handler_is_deadline_exceeded_and_nothing_stored(tmp_path, bank_service):
    from angzarr_coordinator.topology import Limits

    harness = CoordinatorHarness(tmp_path / "e.db", bank_topology(str(bank_service.socket)), tmp_path / "h.sock",
                                 limits=Limits(handler_timeout=1.0))
    try:
        with pytest.raises(grpc.RpcError) as info:
            harness.commands.HandleCommand(command("hang", seconds=4))
        assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert "did not answer within 1 s" in info.value.details()
        assert harness.event_count() == 0
    finally:
        harness.close()


def test_restarting_service_gets_unavailable(coordinator, bank_service):
    tag = uuid.uuid4().hex
    coordinator.coordinator.set_service_available("bank", False)
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(command("deposit", tag=tag))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert info.value.details().startswith("handler for domain 'bank' is restarting")
    assert bank_service.calls(tag) == []
    coordinator.coordinator.set_service_available("bank", True)
    assert coordinator.commands.HandleCommand(command("deposit", tag=tag)).events.next_sequence == 1


def test_revocation_is_failed_precondition_with_optional_dead_letter(coordinator):
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(command("revoke", reason="account frozen"))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == "Command revoked: account frozen"
    assert coordinator.dead_letters() == []
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(command("revoke", reason="audit", dlq=True, escalate=True))
    assert info.value.details().startswith("Command revoked: audit; recorded as dead letter")
    letters = coordinator.dead_letters()
    assert len(letters) == 1 and letters[0].letter.rejection_reason.startswith("Command revoked: audit")
    assert coordinator.event_count() == 0


@pytest.mark.parametrize("op", ["nopayload", "external"])
def test_invalid_pages_from_the_handler_are_internal_and_nothing_stored(coordinator, op):
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(command(op))
    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert info.value.details().startswith("handler returned invalid page")
    assert coordinator.event_count() == 0


@pytest.mark.parametrize("op", ["empty_events", "notification", "nothing"])
def test_replies_without_pages_are_ok_no_ops(coordinator, op):
    root = uuid.uuid4()
    deposit_n(coordinator, root, 2)
    response = coordinator.commands.HandleCommand(command(op, root=root, sequence=2))
    assert list(response.events.pages) == [] and response.events.next_sequence == 2
    assert coordinator.event_count() == 2


def deferred(source_root: uuid.UUID, source_seq: int) -> types_pb2.AngzarrDeferredSequence:
    return types_pb2.AngzarrDeferredSequence(source=cover("table", source_root), source_seq=source_seq)


def test_deferred_command_with_reaction_id_applies_once(coordinator, bank_service):
    root, source = uuid.uuid4(), uuid.uuid4()
    tag = uuid.uuid4().hex
    request = command("deposit", root=root, amount=7, tag=tag, deferred=deferred(source, 4))
    metadata = (("x-angzarr-reaction", f"saga:table-saga;table;{source.hex};4;0"),)
    first = coordinator.commands.HandleCommand(request, metadata=metadata)
    second = coordinator.commands.HandleCommand(request, metadata=metadata)
    assert list(first.events.pages) == list(second.events.pages)
    assert len(bank_service.calls(tag)) == 1
    assert coordinator.event_count() == 1
    # The same provenance on a different source_seq but the same reaction id is still a duplicate.
    third = coordinator.commands.HandleCommand(
        command("deposit", root=root, amount=7, tag=tag, deferred=deferred(source, 9)), metadata=metadata
    )
    assert list(third.events.pages) == list(first.events.pages)
    # A new reaction id applies.
    other = (("x-angzarr-reaction", f"saga:table-saga;table;{source.hex};4;1"),)
    fourth = coordinator.commands.HandleCommand(request, metadata=other)
    assert fourth.events.pages[0].header.sequence == 1


def test_deferred_command_without_reaction_id_dedupes_by_source(coordinator, bank_service):
    root, source = uuid.uuid4(), uuid.uuid4()
    tag = uuid.uuid4().hex
    first = coordinator.commands.HandleCommand(command("deposit", root=root, tag=tag, deferred=deferred(source, 3)))
    again = coordinator.commands.HandleCommand(command("deposit", root=root, tag=tag, deferred=deferred(source, 3)))
    assert list(again.events.pages) == list(first.events.pages)
    assert len(bank_service.calls(tag)) == 1
    later = coordinator.commands.HandleCommand(command("deposit", root=root, tag=tag, deferred=deferred(source, 4)))
    assert later.events.pages[0].header.sequence == 1
    assert bank_service.calls(tag)[0]["header"] == "angzarr_deferred"


def test_snapshot_is_stored_and_the_handler_then_gets_only_later_pages(coordinator, bank_service):
    root = uuid.uuid4()
    deposit_n(coordinator, root, 3)
    persisted = coordinator.commands.HandleCommand(
        command("deposit", root=root, sequence=3, snapshot=types_pb2.RETENTION_PERSIST)
    )
    assert persisted.events.snapshot.sequence == 3  # the commit's last sequence, whatever the handler said
    deposit_n(coordinator, root, 2)
    tag = uuid.uuid4().hex
    response = coordinator.commands.HandleCommand(command("deposit", root=root, sequence=6, tag=tag))
    call = bank_service.calls(tag)[0]
    assert call["snapshot_sequence"] == 3 and call["page_sequences"] == [4, 5] and call["next_sequence"] == 6
    assert struct_of(response.events.pages[0].event)["balance"] == 7  # snapshot balance 4 + 3 deposits
    # Queries never return snapshots and still hold every page.
    book = stored(coordinator, "bank", root)
    assert not book.HasField("snapshot") and len(book.pages) == 7


def test_snapshot_survives_a_cold_cache(tmp_path, bank_service):
    topology = bank_topology(str(bank_service.socket))
    db = tmp_path / "events.db"
    root = uuid.uuid4()
    first = CoordinatorHarness(db, topology, tmp_path / "a.sock")
    try:
        deposit_n(first, root, 2)
        first.commands.HandleCommand(command("deposit", root=root, sequence=2, snapshot=types_pb2.RETENTION_TRANSIENT))
    finally:
        first.close()
    second = CoordinatorHarness(db, topology, tmp_path / "b.sock")
    try:
        tag = uuid.uuid4().hex
        second.commands.HandleCommand(command("deposit", root=root, sequence=3, tag=tag))
        call = bank_service.calls(tag)[0]
        assert call["snapshot_sequence"] == 2 and call["page_sequences"] == []
    finally:
        second.close()


def test_default_retention_stores_every_16_events_at_most(coordinator, bank_service):
    root = uuid.uuid4()
    default = types_pb2.RETENTION_DEFAULT
    first = coordinator.commands.HandleCommand(command("deposit", root=root, snapshot=default))
    assert first.events.snapshot.sequence == 0  # none stored yet: stored
    for seq in range(1, 16):
        response = coordinator.commands.HandleCommand(command("deposit", root=root, sequence=seq, snapshot=default))
        assert not response.events.HasField("snapshot")
    sixteenth = coordinator.commands.HandleCommand(command("deposit", root=root, sequence=16, snapshot=default))
    assert sixteenth.events.snapshot.sequence == 16


def test_snapshot_reads_off_forces_full_replay(coordinator, bank_service):
    root = uuid.uuid4()
    deposit_n(coordinator, root, 2, domain="rawbank")
    coordinator.commands.HandleCommand(
        command("deposit", domain="rawbank", root=root, sequence=2, snapshot=types_pb2.RETENTION_PERSIST)
    )
    tag = uuid.uuid4().hex
    coordinator.commands.HandleCommand(command("deposit", domain="rawbank", root=root, sequence=3, tag=tag))
    call = bank_service.calls(tag)[0]
    assert call["snapshot_sequence"] is None and call["page_sequences"] == [0, 1, 2]


def test_upcaster_changes_the_handlers_view_not_the_stored_bytes(coordinator, bank_service):
    root = uuid.uuid4()
    deposit_n(coordinator, root, 2, domain="upbank")
    tag = uuid.uuid4().hex
    coordinator.commands.HandleCommand(command("deposit", domain="upbank", root=root, sequence=2, tag=tag))
    assert bank_service.calls(tag)[0]["upcast"] == [True, True]
    book = stored(coordinator, "upbank", root)
    assert all("upcast" not in struct_of(p.event) for p in book.pages)
    # Without an upcaster the handler sees stored bytes.
    deposit_n(coordinator, root, 1)
    plain = uuid.uuid4().hex
    coordinator.commands.HandleCommand(command("deposit", root=root, sequence=1, tag=plain))
    assert bank_service.calls(plain)[0]["upcast"] == [False]


def test_edition_angzarr_is_the_main_timeline(coordinator):
    request = command("deposit")
    request.command.cover.edition.name = "angzarr"
    response = coordinator.commands.HandleCommand(request)
    assert response.events.next_sequence == 1


def test_commands_over_tcp(tmp_path, bank_service):
    harness = CoordinatorHarness(tmp_path / "e.db", bank_topology(str(bank_service.socket)), tmp_path / "t.sock",
                                 tcp=True)
    try:
        channel = harness.connect(f"127.0.0.1:{harness.tcp_port}")
        stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
        root = uuid.uuid4()
        stub.HandleCommand(command("deposit", root=root, amount=2))
        response = stub.HandleCommand(command("deposit", root=root, sequence=1, amount=3))
        assert struct_of(response.events.pages[0].event)["balance"] == 5
    finally:
        harness.close()


def test_trace_context_is_forwarded_to_the_handler(coordinator, bank_service):
    trace_id = uuid.uuid4().hex
    tag = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{'1' * 16}-01"
    coordinator.commands.HandleCommand(command(tag=tag), metadata=(("traceparent", traceparent),))
    seen = bank_service.calls(tag)[0]["traceparent"]
    assert seen is not None and seen.split("-")[1] == trace_id


def test_store_outage_is_unavailable(tmp_path, bank_service):
    harness = CoordinatorHarness(tmp_path / "e.db", bank_topology(str(bank_service.socket)), tmp_path / "o.sock")
    try:
        harness.commands.HandleCommand(command())
        harness.run(harness.store.close())
        with pytest.raises(grpc.RpcError) as info:
            harness.commands.HandleCommand(command())
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "event store is unavailable" in info.value.details()
        with pytest.raises(grpc.RpcError) as info:
            harness.queries.GetEventBook(aggregate_query("bank", uuid.uuid4()))
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        harness.close()


def test_unreachable_upcaster_fails_the_command_unavailable(tmp_path, bank_service):
    from angzarr_coordinator.topology import CommandHandlerSpec, ServiceSpec, Topology

    topology = Topology(services=(
        ServiceSpec(name="bank", endpoint=str(bank_service.socket),
                    command_handler=CommandHandlerSpec("bank", upcaster="/nonexistent/upcaster.sock")),
    ))
    harness = CoordinatorHarness(tmp_path / "e.db", topology, tmp_path / "u.sock")
    try:
        root = uuid.uuid4()
        harness.commands.HandleCommand(command(root=root))  # no history: nothing to upcast
        with pytest.raises(grpc.RpcError) as info:
            harness.commands.HandleCommand(command(root=root, sequence=1))
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert harness.event_count() == 1
    finally:
        harness.close()


class RecordingDownstream:
    """Stands in for the reactions runtime at the sync-mode seam: records what it is handed."""

    def __init__(self) -> None:
        self.seen: list[tuple] = []

    async def after_commit(self, commit, book, sync_mode, cascade_error_mode):
        from angzarr_coordinator.downstream import DownstreamResult

        self.seen.append((commit.key.domain, commit.first_sequence, commit.last_sequence, sync_mode,
                          cascade_error_mode, list(book.pages)))
        projection = types_pb2.Projection(projector="recorder", sequence=commit.last_sequence)
        return DownstreamResult(projections=[projection])


@pytest.mark.parametrize("mode", [types_pb2.SYNC_MODE_SIMPLE, types_pb2.SYNC_MODE_CASCADE])
def test_simple_and_cascade_are_accepted_and_logged_for_delivery(coordinator, mode):
    response = coordinator.commands.HandleCommand(command(sync_mode=mode))
    assert response.events.next_sequence == 1
    assert list(response.projections) == [] and list(response.cascade_errors) == []


def test_the_sync_mode_seam_gets_each_new_commit_once(coordinator):
    downstream = RecordingDownstream()
    coordinator.coordinator.set_downstream(downstream)
    root, source = uuid.uuid4(), uuid.uuid4()
    request = command(root=root, events=2, deferred=deferred(source, 1), sync_mode=types_pb2.SYNC_MODE_SIMPLE)
    request.cascade_error_mode = types_pb2.CASCADE_ERROR_CONTINUE
    first = coordinator.commands.HandleCommand(request)
    again = coordinator.commands.HandleCommand(request)  # a duplicate: the first delivery ran downstream
    assert [p.projector for p in first.projections] == ["recorder"] and list(again.projections) == []
    assert len(downstream.seen) == 1
    domain, first_seq, last_seq, mode, error_mode, pages = downstream.seen[0]
    assert (domain, first_seq, last_seq, mode, error_mode) == ("bank", 0, 1, 1, 1)
    assert pages == list(first.events.pages)
    coordinator.commands.HandleCommand(command("nothing", root=root, sequence=2))  # no commit, no call
    assert len(downstream.seen) == 1


def test_a_restarted_handler_is_reached_at_once_when_marked_available(tmp_path):
    from coord_support import start_bank_service

    service = start_bank_service(tmp_path)
    harness = CoordinatorHarness(tmp_path / "e.db", bank_topology(str(service.socket)), tmp_path / "r.sock")
    try:
        root = uuid.uuid4()
        harness.commands.HandleCommand(command(root=root))
        service.process.kill()
        service.process.wait(10)
        with pytest.raises(grpc.RpcError) as info:
            harness.commands.HandleCommand(command(root=root, sequence=1))
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE and "unreachable" in info.value.details()

        async def mark(available: bool) -> None:
            harness.coordinator.set_service_available("bank", available)

        harness.run(mark(False))
        service.socket.unlink(missing_ok=True)
        service.calls_path.unlink(missing_ok=True)
        service = start_bank_service(tmp_path)
        harness.run(mark(True))
        response = harness.commands.HandleCommand(command(root=root, sequence=1))
        assert response.events.pages[0].header.sequence == 1
    finally:
        harness.close()
        service.process.terminate()
        service.process.wait(10)


def test_a_deferred_redelivery_is_answered_while_the_handler_restarts(coordinator):
    root, source = uuid.uuid4(), uuid.uuid4()
    request = command(root=root, deferred=deferred(source, 2))
    first = coordinator.commands.HandleCommand(request)
    coordinator.coordinator.set_service_available("bank", False)
    try:
        again = coordinator.commands.HandleCommand(request)
        assert list(again.events.pages) == list(first.events.pages)
        with pytest.raises(grpc.RpcError) as info:
            coordinator.commands.HandleCommand(command(root=root, deferred=deferred(source, 3)))
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        coordinator.coordinator.set_service_available("bank", True)
