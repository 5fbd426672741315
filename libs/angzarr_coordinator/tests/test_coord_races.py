"""Append races and concurrency (spec/coordinator.md §3.2): two coordinators on one store race like
replicas; 32 concurrent clients on one aggregate lose nothing."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from coord_support import CLIENT_OPTIONS, aggregate_query, command, status_details, struct_of

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, types_pb2


def racer_target(tmp_path, coordinator) -> str:
    """Start a second coordinator on the same store; the handler's ``race`` op commits through it."""
    socket = tmp_path / "peer.sock"
    coordinator.add_peer(socket)
    return f"unix:{socket}"


def test_commutative_races_beyond_the_bound_abort_and_store_nothing_of_the_command(tmp_path, coordinator, bank_service):
    racer = racer_target(tmp_path, coordinator)
    root = uuid.uuid4()
    coordinator.commands.HandleCommand(command("deposit", root=root))
    tag = uuid.uuid4().hex
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(command("race", root=root, sequence=1, racer=racer, tag=tag, amount=50))
    assert info.value.code() == grpc.StatusCode.ABORTED
    assert info.value.details().startswith("Sequence conflict:")
    assert len(bank_service.calls(tag)) == 5  # commutative_max_attempts decisions
    _, (mismatch, book) = status_details(info.value)
    assert book.next_sequence == 6 and mismatch.actual_sequence == 6
    # Only the racer's five deposits (amount 1) were stored besides the first one.
    stored = coordinator.queries.GetEventBook(aggregate_query("bank", root))
    assert [struct_of(p.event)["amount"] for p in stored.pages] == [1.0] * 6


def test_strict_losing_an_append_race_fails_with_the_fresh_book(tmp_path, coordinator, bank_service):
    racer = racer_target(tmp_path, coordinator)
    root = uuid.uuid4()
    coordinator.commands.HandleCommand(command("deposit", root=root))
    tag = uuid.uuid4().hex
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(
            command("race", root=root, sequence=1, merge=types_pb2.MERGE_STRICT, racer=racer, tag=tag)
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details().startswith("Sequence mismatch:")
    assert len(bank_service.calls(tag)) == 1  # never re-decided
    _, (mismatch, book) = status_details(info.value)
    assert (mismatch.expected_sequence, mismatch.actual_sequence) == (1, 2)
    assert book.next_sequence == 2 and [p.header.sequence for p in book.pages] == [1]


def test_manual_losing_an_append_race_aborts_with_a_dead_letter(tmp_path, coordinator):
    racer = racer_target(tmp_path, coordinator)
    root = uuid.uuid4()
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(
            command("race", root=root, sequence=0, merge=types_pb2.MERGE_MANUAL, racer=racer)
        )
    assert info.value.code() == grpc.StatusCode.ABORTED
    letters = coordinator.dead_letters()
    assert len(letters) == 1 and letters[0].letter.sequence_mismatch.actual_sequence == 1
    assert coordinator.event_count() == 1  # the racer's event only


def test_aggregate_handles_race_is_re_decided(tmp_path, coordinator, bank_service):
    racer = racer_target(tmp_path, coordinator)
    root = uuid.uuid4()
    tag = uuid.uuid4().hex
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(
            command("race", root=root, sequence=0, merge=types_pb2.MERGE_AGGREGATE_HANDLES, racer=racer, tag=tag)
        )
    assert info.value.code() == grpc.StatusCode.ABORTED  # the racer wins every time
    assert len(bank_service.calls(tag)) == 5


async def _concurrent(target: str, requests: list[types_pb2.CommandRequest]):
    async with grpc.aio.insecure_channel(target, options=CLIENT_OPTIONS) as channel:
        stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)

        async def send(request):
            try:
                return await stub.HandleCommand(request)
            except grpc.aio.AioRpcError as err:
                return err

        return await asyncio.gather(*(send(r) for r in requests))


async def test_32_concurrent_commutative_clients_lose_no_update(tmp_path, coordinator):
    peer = racer_target(tmp_path, coordinator)  # half the clients go through a second coordinator
    root = uuid.uuid4()
    amounts = [float(i + 1) for i in range(32)]
    requests = [command("deposit", root=root, sequence=0, amount=a) for a in amounts]
    results = await asyncio.gather(
        _concurrent(f"unix:{coordinator.socket}", requests[:16]), _concurrent(peer, requests[16:])
    )
    replies = results[0] + results[1]
    accepted = [a for a, r in zip(amounts, replies) if not isinstance(r, grpc.aio.AioRpcError)]
    for r in replies:
        if isinstance(r, grpc.aio.AioRpcError):
            assert r.code() == grpc.StatusCode.ABORTED and r.details().startswith("Sequence conflict:")
    assert len(accepted) >= 16
    book = coordinator.queries.GetEventBook(aggregate_query("bank", root))
    assert [p.header.sequence for p in book.pages] == list(range(len(accepted)))
    assert struct_of(book.pages[-1].event)["balance"] == sum(accepted)
    assert sorted(struct_of(p.event)["amount"] for p in book.pages) == sorted(accepted)


async def test_32_concurrent_commutative_clients_on_one_coordinator_all_succeed(coordinator):
    root = uuid.uuid4()
    amounts = [float(i + 1) for i in range(32)]
    replies = await _concurrent(f"unix:{coordinator.socket}", [command("deposit", root=root, amount=a) for a in amounts])
    assert not [r for r in replies if isinstance(r, grpc.aio.AioRpcError)]
    book = coordinator.queries.GetEventBook(aggregate_query("bank", root))
    assert [p.header.sequence for p in book.pages] == list(range(32))
    assert struct_of(book.pages[-1].event)["balance"] == sum(amounts)


async def test_32_concurrent_strict_clients_one_wins_losers_get_the_current_book(coordinator):
    root = uuid.uuid4()
    requests = [command("deposit", root=root, sequence=0, merge=types_pb2.MERGE_STRICT, amount=1) for _ in range(32)]
    replies = await _concurrent(f"unix:{coordinator.socket}", requests)
    losers = [r for r in replies if isinstance(r, grpc.aio.AioRpcError)]
    assert len(losers) == 31
    for err in losers:
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
        _, (mismatch, book) = status_details(err)
        assert mismatch.actual_sequence == 1 and book.next_sequence == 1 and len(book.pages) == 1
    assert coordinator.event_count() == 1


@pytest.mark.slow
async def test_16_clients_times_50_commutative_increments_lose_nothing(tmp_path, coordinator):
    peer = racer_target(tmp_path, coordinator)
    root = uuid.uuid4()

    async def client(target: str) -> int:
        async with grpc.aio.insecure_channel(target, options=CLIENT_OPTIONS) as channel:
            stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
            retried = 0
            for _ in range(50):
                while True:  # a client retries the rare ABORTED, as the library's retry policy does
                    try:
                        await stub.HandleCommand(command(root=root, sequence=0, amount=1))
                        break
                    except grpc.aio.AioRpcError as err:
                        assert err.code() == grpc.StatusCode.ABORTED
                        retried += 1
            return retried

    targets = [f"unix:{coordinator.socket}", peer] * 8
    await asyncio.gather(*(client(t) for t in targets))
    book = coordinator.queries.GetEventBook(aggregate_query("bank", root))
    assert [p.header.sequence for p in book.pages] == list(range(800))
    assert struct_of(book.pages[-1].event)["balance"] == 800


async def test_concurrent_redeliveries_of_one_reaction_apply_once(tmp_path, coordinator):
    peer = racer_target(tmp_path, coordinator)
    root, source = uuid.uuid4(), uuid.uuid4()
    request = command(root=root, amount=3)
    request.command.pages[0].header.angzarr_deferred.source.CopyFrom(
        types_pb2.Cover(domain="table", root=types_pb2.UUID(value=source.bytes))
    )
    metadata = (("x-angzarr-reaction", f"saga:s;table;{source.hex};0;0"),)

    async def deliver(target: str):
        async with grpc.aio.insecure_channel(target, options=CLIENT_OPTIONS) as channel:
            stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
            return await asyncio.gather(*(stub.HandleCommand(request, metadata=metadata) for _ in range(6)))

    results = await asyncio.gather(deliver(f"unix:{coordinator.socket}"), deliver(peer))
    replies = results[0] + results[1]
    assert len({tuple(p.SerializeToString() for p in r.events.pages) for r in replies}) == 1
    assert coordinator.event_count() == 1
