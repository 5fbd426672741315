"""Saga behaviour, directly and over SagaService (item 65)."""

from __future__ import annotations

import grpc
import pytest

from angzarr_client import InvalidArgumentError, root_of, unpack
from angzarr_client.handlers import Saga, SagaContext, handles
from angzarr_client.proto.angzarr import saga_pb2, saga_pb2_grpc, types_pb2
from angzarr_client.testing import build_event_book, running_server, uuid_for
from poker_contracts import player_pb2 as pb
from poker_contracts import table_pb2

TABLE = uuid_for("table-1")


class TablePlayerSaga(Saga):
    """Reserve the buy-in on the player when a player joins a table."""

    name = "table-player"
    input_domain = "table"
    output_domain = "player"

    @handles(table_pb2.PlayerJoined)
    def on_player_joined(self, event: table_pb2.PlayerJoined, ctx: SagaContext):
        reserve = pb.ReserveFunds(table_root=ctx.root.bytes if ctx.root else b"")
        reserve.amount.amount = event.buy_in_amount
        return ctx.command(reserve, root=event.player_root)

    @handles(table_pb2.PlayerLeft)
    def on_player_left(self, event: table_pb2.PlayerLeft, ctx: SagaContext):
        release = ctx.command(pb.ReleaseFunds(table_root=ctx.root.bytes), root=event.player_root)
        fact = ctx.fact(
            pb.PlayerSittingOut(table_root=ctx.root.bytes),
            root=event.player_root,
            external_id=f"left-{ctx.sequence}",
        )
        return [release, fact]

    @handles(table_pb2.HandEnded)
    def on_hand_ended(self, event: table_pb2.HandEnded):
        return pb.ReleaseFunds()  # a bare message: a programming error


class MultiDomain(Saga):
    name = "multi"
    input_domains = ["table", "hand"]

    @handles(table_pb2.TableCreated, input_domain="table")
    def on_table(self, event: table_pb2.TableCreated, ctx: SagaContext):
        return ctx.command(pb.SitIn(), root=uuid_for("p"), domain="player")


def source(*events, correlation_id="corr-1", domain="table"):
    return build_event_book(list(events), domain=domain, root=TABLE, correlation_id=correlation_id)


def joined(player: str, amount: int) -> table_pb2.PlayerJoined:
    return table_pb2.PlayerJoined(player_root=uuid_for(player).bytes, buy_in_amount=amount)


def test_pages_are_visited_in_order_and_commands_carry_provenance():
    book = source(joined("a", 10), table_pb2.TableCreated(), joined("b", 20))
    response = TablePlayerSaga().handle_request(saga_pb2.SagaHandleRequest(source=book))
    assert [root_of(c) for c in response.commands] == [uuid_for("a"), uuid_for("b")]
    first = response.commands[0]
    assert first.cover.domain == "player" and first.cover.correlation_id == "corr-1"
    deferred = first.pages[0].header.angzarr_deferred
    assert deferred.source == book.cover and deferred.source_seq == 0
    assert response.commands[1].pages[0].header.angzarr_deferred.source_seq == 2
    assert first.pages[0].merge_strategy == types_pb2.MERGE_COMMUTATIVE
    assert unpack(first.pages[0].command, pb.ReserveFunds).amount.amount == 10


def test_facts_are_returned_as_event_books_in_order():
    book = source(table_pb2.PlayerLeft(player_root=uuid_for("a").bytes))
    response = TablePlayerSaga().handle_request(saga_pb2.SagaHandleRequest(source=book))
    assert len(response.commands) == 1 and len(response.events) == 1
    fact = response.events[0]
    assert fact.cover.domain == "player" and root_of(fact) == uuid_for("a")
    assert fact.pages[0].header.external_deferred.external_id == "left-0"


def test_foreign_source_domain_is_invalid_argument():
    with pytest.raises(InvalidArgumentError, match="not to 'hand'"):
        TablePlayerSaga().handle_request(saga_pb2.SagaHandleRequest(source=source(domain="hand")))


def test_direct_call_supplies_a_test_context():
    commands = TablePlayerSaga().on_player_joined(joined("a", 5))
    assert commands.cover.domain == "player" and commands.cover.correlation_id
    with pytest.raises(TypeError, match=r"ctx.command"):
        TablePlayerSaga().on_hand_ended(table_pb2.HandEnded())


def test_context_sequence_lookup_and_missing_domain():
    book = source(joined("a", 1))
    ctx = SagaContext(
        source=book, page=book.pages[0], destination_sequences={"player": 4, f"player/{uuid_for('b').hex}": 9}
    )
    assert ctx.sequence_for("player") == 4
    assert ctx.sequence_for("player", uuid_for("b")) == 9
    assert ctx.sequence_for("player", uuid_for("c")) == 4
    assert ctx.sequence_for("hand") is None
    with pytest.raises(InvalidArgumentError, match="needs a domain"):
        ctx.command(pb.SitIn(), root=uuid_for("a"))


def test_multi_domain_saga_requires_handler_domains():
    assert MultiDomain.input_domain_list() == ("table", "hand")
    with pytest.raises(TypeError, match="input_domain"):

        class Ambiguous(Saga):
            name = "ambiguous"
            input_domains = ["table", "hand"]

            @handles(table_pb2.TableCreated)
            def on_table(self, event: table_pb2.TableCreated):
                return None

    with pytest.raises(TypeError, match="name"):

        class Nameless(Saga):
            input_domain = "table"

            @handles(table_pb2.TableCreated)
            def on_table(self, event: table_pb2.TableCreated):
                return None


@pytest.fixture(params=["tcp", "uds"])
def saga_stub(request, tmp_path):
    path = str(tmp_path / "saga.sock") if request.param == "uds" else None
    with (
        running_server(TablePlayerSaga(), uds_path=path) as handle,
        grpc.insecure_channel(handle.address) as ch,
    ):
        yield saga_pb2_grpc.SagaServiceStub(ch)


def test_saga_over_grpc(saga_stub):
    book = source(joined("a", 10))
    response = saga_stub.Handle(saga_pb2.SagaHandleRequest(source=book))
    assert len(response.commands) == 1
    assert response.commands[0].pages[0].header.angzarr_deferred.source == book.cover


def test_bare_message_is_internal_over_grpc(saga_stub):
    with pytest.raises(grpc.RpcError) as info:
        saga_stub.Handle(saga_pb2.SagaHandleRequest(source=source(table_pb2.HandEnded())))
    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert "ctx.command" in info.value.details()


def test_unlistened_domain_is_invalid_argument_over_grpc(saga_stub):
    with pytest.raises(grpc.RpcError) as info:
        saga_stub.Handle(saga_pb2.SagaHandleRequest(source=source(domain="hand")))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
