"""EventQueryService over gRPC (spec/coordinator.md §5.1): selections, correlation queries, roots,
chunked streaming and the message-size limit."""

from __future__ import annotations

import uuid

import grpc
import pytest
from coord_support import CoordinatorHarness, aggregate_query, bank_topology, command, fill
from google.protobuf import empty_pb2

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.topology import Limits


def seqs(book: types_pb2.EventBook) -> list[int]:
    return [p.header.sequence for p in book.pages]


@pytest.fixture
def ten(coordinator):
    root = uuid.uuid4()
    for seq in range(10):
        coordinator.commands.HandleCommand(command(root=root, sequence=seq, created_at=1_000 + seq))
    return root


def test_range_bounds_are_inclusive(coordinator, ten):
    query = aggregate_query("bank", ten)
    query.range.lower, query.range.upper = 3, 6
    book = coordinator.queries.GetEventBook(query)
    assert seqs(book) == [3, 4, 5, 6] and book.next_sequence == 10
    open_ended = aggregate_query("bank", ten)
    open_ended.range.lower = 8
    assert seqs(coordinator.queries.GetEventBook(open_ended)) == [8, 9]
    bad = aggregate_query("bank", ten)
    bad.range.lower, bad.range.upper = 5, 4
    with pytest.raises(grpc.RpcError) as info:
        coordinator.queries.GetEventBook(bad)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "above upper" in info.value.details()


def test_sequence_sets_and_temporal_queries(coordinator, ten):
    query = aggregate_query("bank", ten)
    query.sequences.values.extend([7, 2, 42, 2])
    assert seqs(coordinator.queries.GetEventBook(query)) == [2, 7]
    as_of = aggregate_query("bank", ten)
    as_of.temporal.as_of_sequence = 4
    assert seqs(coordinator.queries.GetEventBook(as_of)) == [0, 1, 2, 3, 4]
    at = aggregate_query("bank", ten)
    at.temporal.as_of_time.FromSeconds(1_002)
    book = coordinator.queries.GetEventBook(at)
    assert seqs(book) == [0, 1, 2] and book.next_sequence == 10
    no_point = aggregate_query("bank", ten)
    no_point.temporal.SetInParent()
    with pytest.raises(grpc.RpcError) as info:
        coordinator.queries.GetEventBook(no_point)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    too_many = aggregate_query("bank", ten)
    too_many.sequences.values.extend(range(10_001))
    with pytest.raises(grpc.RpcError) as info:
        coordinator.queries.GetEventBook(too_many)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_unknown_root_is_an_empty_book_and_bad_queries_are_typed(coordinator):
    book = coordinator.queries.GetEventBook(aggregate_query("bank", uuid.uuid4()))
    assert list(book.pages) == [] and book.next_sequence == 0
    for query, code in [
        (types_pb2.Query(), grpc.StatusCode.INVALID_ARGUMENT),
        (types_pb2.Query(cover=types_pb2.Cover(domain="bank")), grpc.StatusCode.INVALID_ARGUMENT),
        (aggregate_query("nowhere", uuid.uuid4()), grpc.StatusCode.NOT_FOUND),
    ]:
        with pytest.raises(grpc.RpcError) as info:
            coordinator.queries.GetEventBook(query)
        assert info.value.code() == code


def test_correlation_query_returns_one_book_per_aggregate_by_first_position(coordinator):
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    coordinator.commands.HandleCommand(command(root=a, correlation_id="other"))
    coordinator.commands.HandleCommand(command(domain="upbank", root=b, correlation_id="trip-1"))
    coordinator.commands.HandleCommand(command(root=a, sequence=1, correlation_id="trip-1"))
    coordinator.commands.HandleCommand(command(domain="upbank", root=b, sequence=1, correlation_id="trip-1"))
    coordinator.commands.HandleCommand(command(root=c, correlation_id="trip-2"))
    query = types_pb2.Query(cover=types_pb2.Cover(correlation_id="trip-1"))
    books = list(coordinator.queries.GetEvents(query))
    assert [(bk.cover.domain, bk.cover.root.value) for bk in books] == [("upbank", b.bytes), ("bank", a.bytes)]
    assert seqs(books[0]) == [0, 1] and seqs(books[1]) == [1]
    assert books[1].next_sequence == 2
    assert all(bk.cover.correlation_id == "trip-1" for bk in books)
    narrowed = types_pb2.Query(cover=types_pb2.Cover(correlation_id="trip-1", domain="bank"))
    assert [bk.cover.domain for bk in coordinator.queries.GetEvents(narrowed)] == ["bank"]
    by_root = types_pb2.Query(cover=types_pb2.Cover(correlation_id="trip-1", root=types_pb2.UUID(value=b.bytes)))
    assert [bk.cover.root.value for bk in coordinator.queries.GetEvents(by_root)] == [b.bytes]
    first = coordinator.queries.GetEventBook(query)
    assert first.cover.domain == "upbank"
    ranged = types_pb2.Query(cover=types_pb2.Cover(correlation_id="trip-1"))
    ranged.range.lower = 1
    assert [seqs(bk) for bk in coordinator.queries.GetEvents(ranged)] == [[1], [1]]


def test_get_aggregate_roots_lists_every_aggregate_once(coordinator):
    roots = [uuid.uuid4() for _ in range(3)]
    coordinator.commands.HandleCommand(command(domain="upbank", root=roots[0]))
    coordinator.commands.HandleCommand(command(root=roots[1]))
    coordinator.commands.HandleCommand(command(root=roots[2]))
    coordinator.commands.HandleCommand(command(root=roots[1], sequence=1))
    listed = [(r.domain, r.root.value) for r in coordinator.queries.GetAggregateRoots(empty_pb2.Empty())]
    assert listed == [("bank", roots[1].bytes), ("bank", roots[2].bytes), ("upbank", roots[0].bytes)]


def test_get_events_chunks_by_page_count_and_bytes(coordinator):
    root = uuid.uuid4()
    fill(coordinator, root, 2_500)
    chunks = list(coordinator.queries.GetEvents(aggregate_query("bank", root)))
    assert [len(c.pages) for c in chunks] == [1000, 1000, 500]
    assert [s for c in chunks for s in seqs(c)] == list(range(2_500))
    assert all(c.cover.root.value == root.bytes and c.next_sequence == 2_500 for c in chunks)
    heavy = uuid.uuid4()
    fill(coordinator, heavy, 12, payload=200 * 1024, per_fact=4)
    big_chunks = list(coordinator.queries.GetEvents(aggregate_query("bank", heavy)))
    assert len(big_chunks) > 1 and all(c.ByteSize() <= 1024 * 1024 + 1024 for c in big_chunks)
    assert [s for c in big_chunks for s in seqs(c)] == list(range(12))


@pytest.mark.slow
def test_get_events_streams_a_100000_event_aggregate(coordinator):
    root = uuid.uuid4()
    fill(coordinator, root, 100_000)
    total = 0
    expected = 0
    for chunk in coordinator.queries.GetEvents(aggregate_query("bank", root)):
        assert len(chunk.pages) <= 1000
        assert seqs(chunk) == list(range(expected, expected + len(chunk.pages)))
        expected += len(chunk.pages)
        total += 1
    assert expected == 100_000 and total == 100
    whole = coordinator.queries.GetEventBook(aggregate_query("bank", root))  # under the 64 MiB limit
    assert len(whole.pages) == 100_000


def test_get_event_book_over_the_message_limit_is_resource_exhausted(tmp_path, bank_service):
    limits = Limits(max_message_bytes=1024 * 1024)
    harness = CoordinatorHarness(tmp_path / "e.db", bank_topology(str(bank_service.socket)), tmp_path / "q.sock",
                                 limits=limits)
    try:
        root = uuid.uuid4()
        fill(harness, root, 8, payload=200 * 1024, per_fact=2)
        with pytest.raises(grpc.RpcError) as info:
            harness.queries.GetEventBook(aggregate_query("bank", root))
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "use GetEvents or a range" in info.value.details()
        ranged = aggregate_query("bank", root)
        ranged.range.lower, ranged.range.upper = 0, 2
        assert seqs(harness.queries.GetEventBook(ranged)) == [0, 1, 2]
        assert sum(len(c.pages) for c in harness.queries.GetEvents(aggregate_query("bank", root))) == 8
    finally:
        harness.close()


def test_synchronize_answers_each_query_in_order_and_ends_on_an_invalid_one(coordinator, ten):
    other = uuid.uuid4()
    coordinator.commands.HandleCommand(command(root=other))
    first = aggregate_query("bank", ten)
    first.range.lower, first.range.upper = 0, 1
    answers = list(coordinator.queries.Synchronize(iter([first, aggregate_query("bank", other)])))
    assert [(a.cover.root.value, seqs(a)) for a in answers] == [(ten.bytes, [0, 1]), (other.bytes, [0])]
    bad = aggregate_query("bank", ten)
    bad.range.lower, bad.range.upper = 3, 1
    stream = coordinator.queries.Synchronize(iter([first, bad, first]))
    received = []
    with pytest.raises(grpc.RpcError) as info:
        for book in stream:
            received.append(book)
    assert len(received) == 1 and info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_correlation_query_as_of_time_applies_per_book(coordinator):
    a, b = uuid.uuid4(), uuid.uuid4()
    coordinator.commands.HandleCommand(command(root=a, correlation_id="t-time", created_at=1_000))
    coordinator.commands.HandleCommand(command(root=a, sequence=1, correlation_id="t-time", created_at=2_000))
    coordinator.commands.HandleCommand(command(root=b, correlation_id="t-time", created_at=3_000))
    query = types_pb2.Query(cover=types_pb2.Cover(correlation_id="t-time"))
    query.temporal.as_of_time.FromSeconds(1_500)
    books = list(coordinator.queries.GetEvents(query))
    assert [seqs(book) for book in books] == [[0], []]
    assert [book.next_sequence for book in books] == [2, 1]
