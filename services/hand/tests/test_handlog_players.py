"""Lazy player-name resolution of the hand log: a query of the player's history (spec poker §7)."""

from __future__ import annotations

import grpc

from angzarr_client.client import QueryClient
from angzarr_client.ids import proto_to_uuid
from angzarr_client.retry import NoRetry
from angzarr_client.testing import RecordingStub, build_event_book, rpc_error, uuid_for
from angzarr_client.typeurl import pack
from hand.handlog import RegisteredNames
from poker_contracts import player_pb2
from poker_contracts.poker_types_pb2 import AI, Currency

ALICE = uuid_for("hlq alice")


def history(*events, snapshot=None):
    return build_event_book(list(events), domain="player", root=ALICE, snapshot=snapshot)


def names_from(reply=None, error=None) -> tuple[RegisteredNames, RecordingStub]:
    stub = RecordingStub(responses={"GetEventBook": reply} if reply is not None else None,
                         errors={"GetEventBook": error} if error is not None else None)
    return RegisteredNames(QueryClient.from_stub(stub, retry=NoRetry()), timeout=3.0), stub


def test_the_name_comes_from_player_registered_in_the_players_history():
    lookup, stub = names_from(history(player_pb2.PlayerRegistered(display_name="Alice", player_type=AI),
                                      player_pb2.FundsDeposited(amount=Currency(amount=5))))
    assert lookup(ALICE.bytes) == "Alice"
    (call,) = stub.calls_to("GetEventBook")
    assert call.request.cover.domain == "player"
    assert proto_to_uuid(call.request.cover.root) == ALICE
    assert call.timeout == 3.0


def test_a_snapshot_holds_the_name_when_the_registration_is_before_it():
    state = player_pb2.PlayerState(display_name="Alice", player_id="player_a@example.com")
    lookup, _ = names_from(history(player_pb2.FundsDeposited(amount=Currency(amount=5)), snapshot=(9, state)))
    assert lookup(ALICE.bytes) == "Alice"


def test_an_unregistered_player_has_no_name():
    lookup, _ = names_from(history(player_pb2.FundsDeposited()))
    assert lookup(ALICE.bytes) is None


def test_an_unreachable_coordinator_answers_none_instead_of_failing_the_log():
    lookup, stub = names_from(error=rpc_error(grpc.StatusCode.UNAVAILABLE, "down"))
    assert lookup(ALICE.bytes) is None
    assert lookup(ALICE.bytes) is None
    assert len(stub.calls_to("GetEventBook")) == 2


def test_a_client_factory_is_called_once_on_first_use():
    made = []

    def factory():
        stub = RecordingStub(responses={"GetEventBook": history(player_pb2.PlayerRegistered(display_name="A"))})
        made.append(stub)
        return QueryClient.from_stub(stub)

    lookup = RegisteredNames(factory)
    assert made == []
    assert lookup(ALICE.bytes) == "A" and lookup(ALICE.bytes) == "A"
    assert len(made) == 1


def test_snapshot_of_another_type_is_ignored():
    book = history(player_pb2.PlayerRegistered(display_name="Alice"))
    book.snapshot.sequence = 0
    book.snapshot.state.CopyFrom(pack(player_pb2.FundsDeposited()))
    lookup, _ = names_from(book)
    assert lookup(ALICE.bytes) == "Alice"
