"""This library's clients against this project's coordinator (``angzarr standalone``), over a Unix
socket and TCP: builders, queries, rich sequence-mismatch errors, speculation, streams.

The interoperability tests with the published package check the wire format; these check that the
client reads the coordinator's real answers (rich details, inclusive ranges, streams) as documented.
"""

from __future__ import annotations

import uuid

import grpc
import pytest

from angzarr_client import DomainClient, NoRetry, SpeculateAggregateRequest
from angzarr_client.books import new_cover, pack_event
from angzarr_client.errors import GRPCError
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import decode_events, unpack
from poker_contracts import player_pb2, poker_types_pb2


@pytest.fixture(params=["uds", "tcp"])
def client(request, player_coordinator):
    endpoint = player_coordinator.socket_path if request.param == "uds" else player_coordinator.tcp
    with DomainClient(endpoint, retry=NoRetry(), default_timeout=20) as connected:
        yield connected


def _register(client: DomainClient, name: str = "alice"):
    builder = client.command_new("player").with_command(
        player_pb2.RegisterPlayer(
            display_name=name, email=f"{name}@example.com", player_type=poker_types_pb2.HUMAN
        )
    )
    response = builder.execute()
    return builder, response


def _deposit(amount: int) -> player_pb2.DepositFunds:
    return player_pb2.DepositFunds(amount=poker_types_pb2.Currency(amount=amount))


def test_command_new_then_queries_over_the_history(client):
    builder, response = _register(client)
    root = builder.root
    assert [p.header.sequence for p in response.events.pages] == [0]
    for seq, amount in ((1, 100), (2, 50)):
        client.command("player", root).with_command("DepositFunds", _deposit(amount)).with_sequence(
            seq
        ).execute()

    def sequences(query_builder):
        return [p.header.sequence for p in query_builder.get_event_book().pages]

    assert sequences(client.query("player", root)) == [0, 1, 2]
    assert sequences(client.query("player", root).range(1)) == [1, 2]
    assert sequences(client.query("player", root).range_to(0, 1)) == [0, 1]  # upper bound inclusive
    assert sequences(client.query("player", root).as_of_sequence(1)) == [0, 1]
    assert sequences(client.query("player", root).sequences(0, 2)) == [0, 2]
    deposits = decode_events(client.query("player", root).get_event_book(), player_pb2.FundsDeposited)
    assert [d.new_balance.amount for d in deposits] == [100, 150]
    books = client.query_domain("player").by_correlation_id(builder.correlation_id).get_events()
    assert [b.cover.root.value for b in books] == [root.bytes]
    assert ("player", root) in client.query.get_aggregate_roots()


def test_strict_mismatch_carries_details_and_resending_at_actual_succeeds(client):
    builder, _ = _register(client)
    stale = (
        client.command("player", builder.root)
        .with_command(_deposit(10))
        .with_sequence(0)
        .with_merge_strategy(types_pb2.MERGE_STRICT)
    )
    with pytest.raises(GRPCError) as info:
        stale.execute()
    error = info.value
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION and error.is_precondition_failed()
    assert error.is_sequence_mismatch()
    mismatch = error.sequence_mismatch()
    assert (mismatch.expected_sequence, mismatch.actual_sequence) == (0, 1)
    current = error.current_event_book()
    assert current is not None and current.cover.root.value == builder.root.bytes
    assert [p.header.sequence for p in current.pages] == [0]
    response = stale.with_sequence(mismatch.actual_sequence).execute()
    assert [p.header.sequence for p in response.events.pages] == [1]


def test_business_rejection_keeps_code_and_message(client):
    builder, _ = _register(client, "bob")
    again = client.command("player", builder.root).with_command(
        player_pb2.RegisterPlayer(
            display_name="bob", email="b@example.com", player_type=poker_types_pb2.HUMAN
        )
    )
    with pytest.raises(GRPCError) as info:
        again.execute()
    assert info.value.is_precondition_failed() and not info.value.is_sequence_mismatch()
    assert "already exists" in info.value.details
    with pytest.raises(GRPCError) as info:
        client.command("player", builder.root).with_command(_deposit(-5)).with_sequence(1).execute()
    assert info.value.is_invalid_argument()


def test_speculation_persists_nothing(client):
    builder, _ = _register(client, "carol")
    command = client.command("player", builder.root).with_command(_deposit(70)).with_sequence(1).build()
    history = client.query("player", builder.root).get_event_book()
    response = client.speculative.aggregate(SpeculateAggregateRequest(command=command, events=history))
    (page,) = response.events.pages
    assert page.header.sequence == 1
    assert unpack(page.event, player_pb2.FundsDeposited).new_balance.amount == 70
    assert len(client.query("player", builder.root).get_pages()) == 1


def test_subscribe_replays_history_of_a_correlation_id(client):
    builder, _ = _register(client, "dave")
    with client.query.subscribe(builder.correlation_id, timeout=20) as stream:
        first = next(stream)
    assert first.cover.root.value == builder.root.bytes
    assert [p.header.sequence for p in first.pages] == [0]
    assert stream.cancelled


def test_unknown_domain_is_not_found(client):
    with pytest.raises(GRPCError) as info:
        client.query("nosuchdomain", uuid.uuid4()).get_event_book()
    assert info.value.is_not_found(), info.value


def test_fact_after_three_events_gets_sequence_three_and_is_idempotent(client):
    builder, _ = _register(client, "erin")
    for seq in (1, 2):
        client.command("player", builder.root).with_command(_deposit(5)).with_sequence(seq).execute()
    fact = pack_event(
        player_pb2.FundsDeposited(amount=poker_types_pb2.Currency(amount=1)),
        cover=new_cover("player", builder.root, builder.correlation_id),
    )
    fact.pages[0].header.external_deferred.external_id = f"bonus-{builder.root}"
    first = client.command_handler.inject_fact(fact)
    assert [p.header.sequence for p in first.events.pages] == [3]
    assert not first.already_processed
    again = client.aggregate.inject_fact(fact)
    assert again.already_processed
    assert [p.header.sequence for p in client.query("player", builder.root).get_pages()] == [0, 1, 2, 3]
