"""Projectors (item 67) and upcasters (item 68), directly and over gRPC."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import wrappers_pb2

from angzarr_client import InvalidArgumentError, pack, unpack
from angzarr_client.handlers import Projector, ProjectorContext, Upcaster, handles, upcasts
from angzarr_client.proto.angzarr import projector_pb2_grpc, types_pb2, upcaster_pb2, upcaster_pb2_grpc
from angzarr_client.testing import build_event_book, running_server, uuid_for
from poker_contracts import player_pb2 as pb
from poker_contracts.poker_types_pb2 import Currency


class BankrollView(Projector):
    """Keeps the last balance per player; records which calls were speculative."""

    name = "bankroll-view"
    input_domain = "player"

    def __init__(self):
        self.balances: dict[str, int] = {}
        self.speculative_calls = 0

    @handles(pb.FundsDeposited)
    def on_deposit(self, event: pb.FundsDeposited, ctx: ProjectorContext):
        if ctx.speculative:
            self.speculative_calls += 1
        else:
            self.balances[ctx.cover.root.value.hex()] = event.new_balance.amount
        return wrappers_pb2.Int64Value(value=event.new_balance.amount)

    @handles(pb.PlayerRegistered)
    def on_registered(self, event: pb.PlayerRegistered):
        return None


def history():
    events = [
        pb.FundsDeposited(new_balance=Currency(amount=5)),
        pb.FundsDeposited(new_balance=Currency(amount=8)),
        pb.PlayerRegistered(),
    ]
    return build_event_book(events, domain="player", root=uuid_for("p"), start_sequence=10)


def test_projection_names_projector_and_last_page_and_packs_last_result():
    view = BankrollView()
    projection = view.project(history())
    assert projection.projector == "bankroll-view"
    assert projection.sequence == 12
    assert projection.cover == history().cover
    assert unpack(projection.projection, wrappers_pb2.Int64Value).value == 8
    assert view.balances == {uuid_for("p").hex: 8}


def test_foreign_domain_is_refused_and_direct_calls_get_a_context():
    with pytest.raises(InvalidArgumentError):
        BankrollView().project(build_event_book([], domain="table"))
    assert BankrollView().on_deposit(pb.FundsDeposited()).value == 0


@pytest.fixture(params=["tcp", "uds"])
def projector(request, tmp_path):
    view = BankrollView()
    path = str(tmp_path / "proj.sock") if request.param == "uds" else None
    with running_server(view, uds_path=path) as server, grpc.insecure_channel(server.address) as ch:
        yield view, projector_pb2_grpc.ProjectorServiceStub(ch)


def test_handle_and_handle_speculative_over_grpc(projector):
    view, stub = projector
    speculative = stub.HandleSpeculative(history())
    assert speculative.sequence == 12 and view.speculative_calls == 2 and view.balances == {}
    real = stub.Handle(history())
    assert real.projector == "bankroll-view" and view.balances == {uuid_for("p").hex: 8}


# -- upcasters ----------------------------------------------------------------------------------------


class ScoreUpcaster(Upcaster):
    name = "score-upcaster"
    domain = "player"

    @upcasts(wrappers_pb2.Int32Value, wrappers_pb2.Int64Value)
    def v1_to_v2(self, old: wrappers_pb2.Int32Value) -> wrappers_pb2.Int64Value:
        return wrappers_pb2.Int64Value(value=old.value * 10)

    @upcasts(wrappers_pb2.Int64Value, wrappers_pb2.StringValue)
    def v2_to_v3(self, old: wrappers_pb2.Int64Value) -> wrappers_pb2.StringValue:
        return wrappers_pb2.StringValue(value=str(old.value))


def page(event, sequence: int) -> types_pb2.EventPage:
    result = types_pb2.EventPage(event=pack(event), committed=False, cascade_id="cas-1")
    result.header.sequence = sequence
    result.created_at.seconds = 1000 + sequence
    return result


def test_upcasting_chains_and_keeps_page_metadata():
    pages = [
        page(wrappers_pb2.Int32Value(value=4), 0),
        page(wrappers_pb2.UInt32Value(value=4), 1),
        page(wrappers_pb2.Int64Value(value=2), 2),
    ]
    response = ScoreUpcaster().upcast(upcaster_pb2.UpcastRequest(domain="player", events=pages))
    out = list(response.events)
    assert unpack(out[0].event, wrappers_pb2.StringValue).value == "40"
    assert out[1] == pages[1]  # UInt32Value is not Int32Value
    assert unpack(out[2].event, wrappers_pb2.StringValue).value == "2"
    for before, after in zip(pages, out):
        assert after.header == before.header and after.created_at == before.created_at
        assert after.cascade_id == "cas-1"


def test_foreign_domain_is_invalid_argument():
    with pytest.raises(InvalidArgumentError):
        ScoreUpcaster().upcast(upcaster_pb2.UpcastRequest(domain="table"))


class Cycle(Upcaster):
    name = "cycle"
    domain = "player"

    @upcasts(wrappers_pb2.Int32Value, wrappers_pb2.Int64Value)
    def up(self, old: wrappers_pb2.Int32Value) -> wrappers_pb2.Int64Value:
        return wrappers_pb2.Int64Value(value=old.value)

    @upcasts(wrappers_pb2.Int64Value, wrappers_pb2.Int32Value)
    def down(self, old: wrappers_pb2.Int64Value) -> wrappers_pb2.Int32Value:
        return wrappers_pb2.Int32Value(value=old.value)


class Liar(Upcaster):
    name = "liar"
    domain = "player"

    @upcasts(wrappers_pb2.Int32Value, wrappers_pb2.Int64Value)
    def up(self, old: wrappers_pb2.Int32Value) -> wrappers_pb2.Int64Value:
        return wrappers_pb2.StringValue(value="not the declared type")


@pytest.mark.parametrize("upcaster", [Cycle, Liar])
def test_cycles_and_wrong_results_are_internal_over_grpc(tmp_path, upcaster):
    with (
        running_server(upcaster, uds_path=str(tmp_path / "up.sock")) as server,
        grpc.insecure_channel(server.address) as ch,
    ):
        stub = upcaster_pb2_grpc.UpcasterServiceStub(ch)
        with pytest.raises(grpc.RpcError) as info:
            stub.Upcast(
                upcaster_pb2.UpcastRequest(domain="player", events=[page(wrappers_pb2.Int32Value(), 0)])
            )
        assert info.value.code() == grpc.StatusCode.INTERNAL
        ok = stub.Upcast(
            upcaster_pb2.UpcastRequest(domain="player", events=[page(wrappers_pb2.BoolValue(), 0)])
        )
        assert len(ok.events) == 1


def test_upcaster_over_grpc(tmp_path):
    with running_server(ScoreUpcaster) as server, grpc.insecure_channel(server.address) as ch:
        stub = upcaster_pb2_grpc.UpcasterServiceStub(ch)
        response = stub.Upcast(upcaster_pb2.UpcastRequest(events=[page(wrappers_pb2.Int32Value(value=1), 0)]))
        assert unpack(response.events[0].event, wrappers_pb2.StringValue).value == "10"
        with pytest.raises(grpc.RpcError) as info:
            stub.Upcast(upcaster_pb2.UpcastRequest(domain="table"))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
