"""EventStreamService.Subscribe and coordinator shutdown over gRPC (spec/coordinator.md §5.2, §10.2)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from coord_support import CoordinatorHarness, bank_topology, command

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.topology import Limits


def collect(stream, into: list, until: threading.Event) -> grpc.RpcError | None:
    try:
        for book in stream:
            into.append(book)
            if until.is_set():
                break
    except grpc.RpcError as err:
        return err
    return None


def test_subscribe_needs_a_valid_correlation_id(coordinator):
    for cid in ["", "bad.id"]:
        with pytest.raises(grpc.RpcError) as info:
            list(coordinator.streams.Subscribe(types_pb2.EventStreamFilter(correlation_id=cid)))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_history_then_live_without_gap_or_duplicate_while_writers_run(coordinator):
    cid = "live-" + uuid.uuid4().hex[:8]
    roots = [uuid.uuid4() for _ in range(4)]
    written: dict[bytes, int] = defaultdict(int)
    lock = threading.Lock()
    subscribed = threading.Event()

    def writer(root: uuid.UUID, count: int) -> None:
        for i in range(count):
            coordinator.commands.HandleCommand(command(root=root, correlation_id=cid, sequence=i))
            coordinator.commands.HandleCommand(command(domain="upbank", root=root, correlation_id="noise"))
            with lock:
                written[root.bytes] += 1
            if i == count // 3:
                subscribed.wait(10)

    received: list[types_pb2.EventBook] = []
    with ThreadPoolExecutor(len(roots) + 1) as pool:
        writers = [pool.submit(writer, root, 30) for root in roots]
        time.sleep(0.05)  # let history build up before subscribing
        stream = coordinator.streams.Subscribe(types_pb2.EventStreamFilter(correlation_id=cid))
        done = threading.Event()
        reader = pool.submit(collect, stream, received, done)
        subscribed.set()
        for w in writers:
            w.result(60)
        deadline = time.monotonic() + 20
        while sum(len(b.pages) for b in received) < 120 and time.monotonic() < deadline:
            time.sleep(0.02)
        stream.cancel()
        reader.result(10)
    pages_by_root: dict[bytes, list[int]] = defaultdict(list)
    for book in received:
        assert book.cover.correlation_id == cid and book.cover.domain == "bank"
        pages_by_root[book.cover.root.value].extend(p.header.sequence for p in book.pages)
    assert set(pages_by_root) == {r.bytes for r in roots}
    for root in roots:
        assert pages_by_root[root.bytes] == list(range(30))


def test_shutdown_ends_streams_with_unavailable_and_refuses_new_rpcs(tmp_path, bank_service):
    harness = CoordinatorHarness(tmp_path / "e.db", bank_topology(str(bank_service.socket)), tmp_path / "s.sock")
    try:
        harness.commands.HandleCommand(command(correlation_id="bye"))
        stream = harness.streams.Subscribe(types_pb2.EventStreamFilter(correlation_id="bye"))
        received: list = []
        with ThreadPoolExecutor(2) as pool:
            reader = pool.submit(collect, stream, received, threading.Event())
            tag = uuid.uuid4().hex
            in_flight = pool.submit(harness.commands.HandleCommand, command("hang", seconds=0.5, tag=tag))
            deadline = time.monotonic() + 10
            while not bank_service.calls(tag) and time.monotonic() < deadline:
                time.sleep(0.01)
            harness.run(harness.coordinator.stop(grace=5))
            assert in_flight.result(10).events.next_sequence == 0  # finished, not cut off
            err = reader.result(10)
        assert len(received) == 1
        assert err is not None and err.code() == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(grpc.RpcError) as info:
            harness.commands.HandleCommand(command())
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE and "shutting down" in info.value.details()
    finally:
        harness.close()


def test_stream_limit_is_resource_exhausted(tmp_path, bank_service):
    harness = CoordinatorHarness(
        tmp_path / "e.db", bank_topology(str(bank_service.socket)), tmp_path / "l.sock",
        limits=Limits(max_streams=1),
    )
    try:
        first = harness.streams.Subscribe(types_pb2.EventStreamFilter(correlation_id="one"))
        harness.commands.HandleCommand(command(correlation_id="one"))
        assert next(first).cover.correlation_id == "one"  # the first stream is open and live
        with pytest.raises(grpc.RpcError) as info:
            list(harness.streams.Subscribe(types_pb2.EventStreamFilter(correlation_id="two")))
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        first.cancel()
    finally:
        harness.close()
