"""Our coordinator drives a command handler served by the published ``angzarr-client`` 0.3.1.

A real ``angzarr standalone`` starts ``published_wallet_service.py`` with the published package's Python
(``.tools/interop-venv``, isolated mode) as its ``player`` service on a Unix socket; the service reaches
its socket through the variables the runtime sets (spec/coordinator.md §10.1). Our client sends
commands through the coordinator to it and reads the history back, over the coordinator's Unix socket
and its TCP listener. The published package is never imported here.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import grpc
import pytest

from angzarr_client import CommandHandlerClient, NoRetry, QueryClient
from angzarr_client.books import new_cover
from angzarr_client.errors import GRPCError
from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_client.typeurl import pack, unpack
from poker_contracts import player_pb2, poker_types_pb2

pytestmark = pytest.mark.network

SERVICE = Path(__file__).with_name("published_wallet_service.py")
@pytest.fixture(scope="module")
def wallet_system(published_python, player_standalone):
    """``angzarr standalone`` whose ``player`` service is the published package's handler."""
    # -I: neither this repository nor PYTHONPATH can shadow the published package.
    service = {"command": [str(published_python), "-I", str(SERVICE)], "transport": "uds"}
    with player_standalone(service, "azh") as system:
        # The business service is the published package's server on the socket the runtime named.
        assert (system.root / "s" / "business-player.sock").exists(), system.logs()
        yield system


def _book(root: uuid.UUID, command, *, sequence: int = 0, strategy: int = types_pb2.MERGE_COMMUTATIVE):
    book = types_pb2.CommandBook(cover=new_cover("player", root, f"wallet-{root.hex[:8]}"))
    page = book.pages.add()
    page.header.sequence = sequence
    page.merge_strategy = strategy
    page.command.CopyFrom(pack(command))
    return book


def _register(name: str) -> player_pb2.RegisterPlayer:
    return player_pb2.RegisterPlayer(
        display_name=name, email=f"{name}@example.com", player_type=poker_types_pb2.HUMAN
    )


def _deposit(amount: int) -> player_pb2.DepositFunds:
    return player_pb2.DepositFunds(amount=poker_types_pb2.Currency(amount=amount, currency_code="CHIPS"))


def _handle(endpoint: str, book: types_pb2.CommandBook) -> command_handler_pb2.CommandResponse:
    with CommandHandlerClient(endpoint, retry=NoRetry(), default_timeout=30) as client:
        return client.handle(book)


def _rejection(endpoint: str, book: types_pb2.CommandBook) -> GRPCError:
    with pytest.raises(GRPCError) as caught:
        _handle(endpoint, book)
    return caught.value


def _history(endpoint: str, root: uuid.UUID) -> types_pb2.EventBook:
    with QueryClient(endpoint, retry=NoRetry(), default_timeout=30) as client:
        return client.get_event_book(types_pb2.Query(cover=new_cover("player", root)))


def test_commands_reach_the_published_handler_and_get_coordinator_sequences(wallet_system):
    root = uuid.uuid4()
    registered = _handle(wallet_system.socket_path, _book(root, _register("alice")))
    assert [p.header.sequence for p in registered.events.pages] == [0]
    assert registered.events.next_sequence == 1
    assert uuid.UUID(bytes=registered.events.cover.root.value) == root
    event = unpack(registered.events.pages[0].event, player_pb2.PlayerRegistered)
    assert (event.display_name, event.email) == ("alice", "alice@example.com")
    assert registered.events.pages[0].HasField("created_at")  # the handler left it unset

    # Stale header under the default (commutative) strategy: decided against the current state, so the
    # published handler's balance is computed from the history the coordinator loaded for it.
    first = _handle(wallet_system.tcp, _book(root, _deposit(100), sequence=0))
    second = _handle(wallet_system.socket_path, _book(root, _deposit(50), sequence=0))
    assert [p.header.sequence for p in first.events.pages] == [1]
    assert [p.header.sequence for p in second.events.pages] == [2]
    assert second.events.next_sequence == 3
    balance = unpack(second.events.pages[0].event, player_pb2.FundsDeposited).new_balance
    assert (balance.amount, balance.currency_code) == (150, "CHIPS")

    # STRICT with the right expectation is accepted; with a stale one the handler is never asked.
    strict = _handle(
        wallet_system.socket_path, _book(root, _deposit(7), sequence=3, strategy=types_pb2.MERGE_STRICT)
    )
    assert [p.header.sequence for p in strict.events.pages] == [3]
    stale = _rejection(
        wallet_system.socket_path, _book(root, _deposit(9), sequence=1, strategy=types_pb2.MERGE_STRICT)
    )
    assert stale.code == grpc.StatusCode.FAILED_PRECONDITION
    assert stale.details.startswith("Sequence mismatch:")
    assert stale.sequence_mismatch().actual_sequence == 4

    stored = _history(wallet_system.socket_path, root)
    assert [p.header.sequence for p in stored.pages] == [0, 1, 2, 3]
    assert stored.next_sequence == 4
    assert unpack(stored.pages[3].event, player_pb2.FundsDeposited).new_balance.amount == 157


def test_a_rejection_by_the_published_handler_passes_through_unchanged(wallet_system):
    root = uuid.uuid4()
    unregistered = _rejection(wallet_system.socket_path, _book(root, _deposit(10)))
    assert unregistered.code == grpc.StatusCode.FAILED_PRECONDITION
    assert unregistered.details == "deposit refused: player is not registered"
    assert list(_history(wallet_system.socket_path, root).pages) == []

    _handle(wallet_system.socket_path, _book(root, _register("bob")))
    again = _rejection(wallet_system.tcp, _book(root, _register("bob-again")))
    assert again.code == grpc.StatusCode.FAILED_PRECONDITION
    assert again.details == "player 'bob' is already registered"
    negative = _rejection(wallet_system.socket_path, _book(root, _deposit(-5)))
    assert negative.code == grpc.StatusCode.FAILED_PRECONDITION
    assert negative.details == "deposit refused: amount must be positive, got -5"

    # Nothing of the rejected commands was stored; the next accepted one continues the sequence.
    stored = _history(wallet_system.tcp, root)
    assert [p.header.sequence for p in stored.pages] == [0]
    accepted = _handle(wallet_system.socket_path, _book(root, _deposit(20), sequence=1))
    assert [p.header.sequence for p in accepted.events.pages] == [1]


def test_queries_return_the_history_the_published_handler_decided(wallet_system):
    root = uuid.uuid4()
    responses = [
        _handle(wallet_system.socket_path, _book(root, _register("carol"))),
        *[_handle(wallet_system.tcp, _book(root, _deposit(amount))) for amount in (5, 10, 20)],
    ]
    written = [page for response in responses for page in response.events.pages]

    for endpoint in (wallet_system.socket_path, wallet_system.tcp):
        stored = _history(endpoint, root)
        assert list(stored.pages) == written  # the stored pages are exactly what the responses said
        assert [p.header.sequence for p in stored.pages] == [0, 1, 2, 3]
        balances = [unpack(p.event, player_pb2.FundsDeposited).new_balance.amount for p in stored.pages[1:]]
        assert balances == [5, 15, 35]

    with QueryClient(wallet_system.tcp, retry=NoRetry(), default_timeout=30) as client:
        ranged = client.get_event_book(
            types_pb2.Query(cover=new_cover("player", root), range=types_pb2.SequenceRange(lower=1, upper=2))
        )
        by_correlation = client.get_events(
            types_pb2.Query(cover=types_pb2.Cover(domain="player", correlation_id=f"wallet-{root.hex[:8]}"))
        )
    assert [p.header.sequence for p in ranged.pages] == [1, 2]
    assert [uuid.UUID(bytes=b.cover.root.value) for b in by_correlation] == [root]
    assert list(by_correlation[0].pages) == written


def test_speculation_runs_the_published_handler_and_stores_nothing(wallet_system):
    root = uuid.uuid4()
    _handle(wallet_system.socket_path, _book(root, _register("dave")))
    _handle(wallet_system.socket_path, _book(root, _deposit(40)))
    with CommandHandlerClient(wallet_system.socket_path, retry=NoRetry(), default_timeout=30) as client:
        would_be = client.handle_sync_speculative(
            command_handler_pb2.SpeculateCommandHandlerRequest(command=_book(root, _deposit(2)))
        )
    assert [p.header.sequence for p in would_be.events.pages] == [2]
    assert unpack(would_be.events.pages[0].event, player_pb2.FundsDeposited).new_balance.amount == 42
    assert [p.header.sequence for p in _history(wallet_system.socket_path, root).pages] == [0, 1]
