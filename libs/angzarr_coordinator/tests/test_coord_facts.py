"""HandleEvent (facts) over gRPC: coordinator stamping, idempotency by external id, validation
(spec/coordinator.md §3.6)."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from coord_support import CLIENT_OPTIONS, aggregate_query, command, cover, struct_any

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, types_pb2


def fact(root: uuid.UUID, external_id: str | None, *, pages: int = 1, domain: str = "bank",
         correlation_id: str = "") -> types_pb2.EventRequest:
    book = types_pb2.EventBook(cover=cover(domain, root, correlation_id))
    for i in range(pages):
        page = book.pages.add()
        page.event.CopyFrom(struct_any(event="deposited", amount=100, balance=100))
        if i == 0 and external_id is not None:
            page.header.external_deferred.external_id = external_id
        else:
            page.header.sequence = 777 + i
    return types_pb2.EventRequest(events=book)


def test_facts_get_next_sequences_whatever_their_headers_said(coordinator):
    root = uuid.uuid4()
    coordinator.commands.HandleCommand(command(root=root))
    coordinator.commands.HandleCommand(command(root=root, sequence=1))
    response = coordinator.commands.HandleEvent(fact(root, "payment-1", pages=3))
    assert not response.already_processed
    assert [p.header.sequence for p in response.events.pages] == [2, 3, 4]
    assert all(p.header.WhichOneof("sequence_type") == "sequence" for p in response.events.pages)
    assert all(p.created_at.seconds > 0 for p in response.events.pages)
    assert response.events.next_sequence == 5
    assert uuid.UUID(response.events.cover.correlation_id).version == 4
    # The handler meets facts in history: the next command decides on top of them.
    after = coordinator.commands.HandleCommand(command(root=root, sequence=5))
    assert after.events.pages[0].header.sequence == 5


def test_a_repeated_fact_is_already_processed_with_the_first_commit(coordinator):
    root = uuid.uuid4()
    first = coordinator.commands.HandleEvent(fact(root, "wire-42", correlation_id="pay-1"))
    again = coordinator.commands.HandleEvent(fact(root, "wire-42", pages=2))
    assert again.already_processed
    assert list(again.events.pages) == list(first.events.pages)
    assert coordinator.event_count() == 1
    # Another aggregate may use the same external id.
    other = coordinator.commands.HandleEvent(fact(uuid.uuid4(), "wire-42"))
    assert not other.already_processed


async def test_concurrent_injections_of_one_fact_store_it_once(tmp_path, coordinator):
    peer = tmp_path / "peer.sock"
    coordinator.add_peer(peer)
    root = uuid.uuid4()

    async def inject(target: str):
        async with grpc.aio.insecure_channel(target, options=CLIENT_OPTIONS) as channel:
            stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
            return await asyncio.gather(*(stub.HandleEvent(fact(root, "once")) for _ in range(8)))

    results = await asyncio.gather(inject(f"unix:{coordinator.socket}"), inject(f"unix:{peer}"))
    replies = results[0] + results[1]
    assert sum(not r.already_processed for r in replies) == 1
    assert {tuple(p.SerializeToString() for p in r.events.pages) for r in replies}.__len__() == 1
    book = coordinator.queries.GetEventBook(aggregate_query("bank", root))
    assert len(book.pages) == 1


def test_fact_validation(coordinator):
    root = uuid.uuid4()
    cases = [
        (fact(root, None), grpc.StatusCode.INVALID_ARGUMENT, "external id"),
        (fact(root, "x" * 257), grpc.StatusCode.INVALID_ARGUMENT, "external id"),
        (fact(root, "a", domain="nowhere"), grpc.StatusCode.NOT_FOUND, "unknown domain"),
        (fact(root, "a", pages=101), grpc.StatusCode.INVALID_ARGUMENT, "101 pages"),
        (types_pb2.EventRequest(), grpc.StatusCode.INVALID_ARGUMENT, "cover is required"),
    ]
    no_payload = fact(root, "a")
    no_payload.events.pages[0].ClearField("event")
    cases.append((no_payload, grpc.StatusCode.INVALID_ARGUMENT, "no event payload"))
    short_root = fact(root, "a")
    short_root.events.cover.root.value = b"\x00" * 15
    cases.append((short_root, grpc.StatusCode.INVALID_ARGUMENT, "16 bytes"))
    for request, code, text in cases:
        with pytest.raises(grpc.RpcError) as info:
            coordinator.commands.HandleEvent(request)
        assert info.value.code() == code and text in info.value.details()
    assert coordinator.event_count() == 0
