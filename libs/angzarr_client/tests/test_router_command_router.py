"""Function-style command handling: CommandRouter and StateRouter (items 63, 64), and Router building."""

from __future__ import annotations

import pytest
from google.protobuf import any_pb2, wrappers_pb2

from angzarr_client import CommandRejectedError, StateRebuildError, pack, pack_event, unpack
from angzarr_client.handlers import CommandRouter, Projector, Saga, StateRouter, handles
from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_client.router import CommandHandlerRouter, ProjectorRouter, Router, SagaRouter
from angzarr_client.testing import build_command_book, build_contextual_command, build_event_book
from poker_contracts import player_pb2 as pb
from poker_contracts.poker_types_pb2 import Currency


def balance_router() -> StateRouter[pb.PlayerState]:
    return (
        StateRouter(pb.PlayerState)
        .on(pb.PlayerRegistered, lambda s, e: setattr(s, "display_name", e.display_name))
        .on("FundsDeposited", lambda s, e: s.bankroll.CopyFrom(e.new_balance))
    )


# -- item 63 ---------------------------------------------------------------------------------------------


def test_on_calls_fn_with_book_any_state_and_next_sequence_and_renumbers():
    calls = []

    def handle_register(cb, cmd_any, state, seq):
        calls.append((cb, cmd_any, state, seq))
        return pack_event(
            pb.PlayerRegistered(display_name=unpack(cmd_any, pb.RegisterPlayer).display_name), 99
        )

    router = CommandRouter("player", balance_router()).on("RegisterPlayer", handle_register)
    history = build_event_book([pb.FundsDeposited(new_balance=Currency(amount=3))] * 2, domain="player")
    request = build_contextual_command(pb.RegisterPlayer(display_name="al"), history, domain="player")
    response = router.dispatch(request)

    book, cmd_any, state, seq = calls[0]
    assert book == request.command and isinstance(cmd_any, any_pb2.Any)
    assert cmd_any.type_url == "type.googleapis.com/examples.RegisterPlayer"
    assert state.bankroll.amount == 3 and seq == 2
    assert response.events.cover == request.command.cover
    assert [p.header.sequence for p in response.events.pages] == [2]
    assert response.events.pages[0].HasField("created_at")


def test_rebuild_function_always_receives_a_book():
    seen = []

    def rebuild(book):
        seen.append(book)
        return pb.PlayerState()

    router = CommandRouter("player", rebuild).on(pb.RegisterPlayer, lambda *a: pb.PlayerRegistered())
    router.dispatch(build_contextual_command(pb.RegisterPlayer(), domain="player"))
    assert isinstance(seen[0], types_pb2.EventBook) and len(seen[0].pages) == 0


def test_handler_may_return_none_a_message_or_a_list():
    router = (
        CommandRouter("player", balance_router())
        .on(pb.SitOut, lambda *a: None)
        .on(pb.SitIn, lambda *a: pb.PlayerReturningToPlay())
        .on(pb.TransferFunds, lambda *a: [pb.FundsDeposited(), pb.FundsWithdrawn()])
        .on(pb.ReleaseFunds, lambda *a: "nope")
    )
    assert len(router.dispatch(build_contextual_command(pb.SitOut(), domain="player")).events.pages) == 0
    assert len(router.dispatch(build_contextual_command(pb.SitIn(), domain="player")).events.pages) == 1
    pages = router.dispatch(build_contextual_command(pb.TransferFunds(), domain="player")).events.pages
    assert [p.header.sequence for p in pages] == [0, 1]
    with pytest.raises(TypeError):
        router.dispatch(build_contextual_command(pb.ReleaseFunds(), domain="player"))


def test_multi_page_books_see_the_events_of_earlier_pages():
    def deposit(cb, cmd_any, state, seq):
        amount = unpack(cmd_any, pb.DepositFunds).amount.amount
        return pb.FundsDeposited(new_balance=Currency(amount=state.bankroll.amount + amount))

    router = CommandRouter("player", balance_router()).on(pb.DepositFunds, deposit)
    book = build_command_book(pb.DepositFunds(amount=Currency(amount=2)), domain="player")
    book.pages.add().command.CopyFrom(pack(pb.DepositFunds(amount=Currency(amount=5))))
    response = router.dispatch(build_contextual_command(book))
    assert [unpack(p.event, pb.FundsDeposited).new_balance.amount for p in response.events.pages] == [2, 7]
    assert [p.header.sequence for p in response.events.pages] == [0, 1]


def test_class_beats_string_and_longer_string_beats_shorter():
    router = (
        CommandRouter("player", balance_router())
        .on("UInt32Value", lambda *a: wrappers_pb2.StringValue(value="UInt32Value"))
        .on("protobuf.UInt32Value", lambda *a: wrappers_pb2.StringValue(value="protobuf.UInt32Value"))
        .on("Int32Value", lambda *a: wrappers_pb2.StringValue(value="Int32Value"))
        .on(wrappers_pb2.BoolValue, lambda *a: wrappers_pb2.StringValue(value="class"))
        .on("google.protobuf.BoolValue", lambda *a: wrappers_pb2.StringValue(value="string"))
    )

    def winner(msg):
        page = router.dispatch(build_contextual_command(msg, domain="player")).events.pages[0]
        return unpack(page.event, wrappers_pb2.StringValue).value

    assert winner(wrappers_pb2.UInt32Value()) == "protobuf.UInt32Value"
    assert winner(wrappers_pb2.Int32Value()) == "Int32Value"
    assert winner(wrappers_pb2.BoolValue()) == "class"
    assert router.command_types() == sorted(
        ["UInt32Value", "protobuf.UInt32Value", "Int32Value", "google.protobuf.BoolValue"]
    )


def test_int32_pattern_never_matches_uint32():
    from angzarr_client import InvalidArgumentError

    router = CommandRouter("player", balance_router()).on("Int32Value", lambda *a: None)
    with pytest.raises(InvalidArgumentError, match="no handler"):
        router.dispatch(build_contextual_command(wrappers_pb2.UInt32Value(), domain="player"))


def test_duplicate_registration_raises_value_error():
    router = CommandRouter("player", balance_router()).on("RegisterPlayer", lambda *a: None)
    with pytest.raises(ValueError):
        router.on("RegisterPlayer", lambda *a: None)
    router.on(pb.RegisterPlayer, lambda *a: None)
    with pytest.raises(ValueError):
        router.on(pb.RegisterPlayer, lambda *a: None)
    with pytest.raises(ValueError):
        CommandRouter("", balance_router())


def test_rejection_unknown_type_and_foreign_domain():
    def reject(*a):
        raise CommandRejectedError("no")

    router = CommandRouter("player", balance_router()).on(pb.RegisterPlayer, reject)
    with pytest.raises(CommandRejectedError):
        router.dispatch(build_contextual_command(pb.RegisterPlayer(), domain="player"))
    from angzarr_client import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="no handler"):
        router.dispatch(build_contextual_command(pb.SitIn(), domain="player"))
    with pytest.raises(InvalidArgumentError, match="'table'"):
        router.dispatch(build_contextual_command(pb.RegisterPlayer(), domain="table"))


def test_replay_packs_protobuf_state_and_refuses_other_state():
    router = CommandRouter("player", balance_router())
    pages = build_event_book([pb.PlayerRegistered(display_name="r")], domain="player").pages
    state = unpack(router.replay(command_handler_pb2.ReplayRequest(events=pages)).state, pb.PlayerState)
    assert state.display_name == "r"
    with pytest.raises(NotImplementedError):
        CommandRouter("player", lambda book: {"not": "proto"}).replay(command_handler_pb2.ReplayRequest())


# -- item 64 ---------------------------------------------------------------------------------------------


def test_state_router_skips_pages_covered_by_the_snapshot_and_never_mutates_the_book():
    book = build_event_book(
        [pb.FundsDeposited(new_balance=Currency(amount=a)) for a in (1, 2, 3, 4)],
        domain="player",
        start_sequence=3,
        snapshot=(4, pb.PlayerState(display_name="snap", bankroll=Currency(amount=50))),
    )
    before = book.SerializeToString(deterministic=True)
    state = balance_router().rebuild(book)
    assert state.display_name == "snap"
    assert state.bankroll.amount == 4  # pages 5 and 6 applied, 3 and 4 skipped
    assert book.SerializeToString(deterministic=True) == before


def test_state_router_snapshot_loader_unknown_events_and_errors():
    loaded = []
    router = balance_router().with_snapshot(lambda any_state: loaded.append(any_state) or pb.PlayerState())
    book = build_event_book(
        [wrappers_pb2.Int32Value(value=1)], domain="player", snapshot=(0, pb.PlayerState()), start_sequence=1
    )
    assert router.rebuild(book) == pb.PlayerState()
    assert len(loaded) == 1
    assert balance_router().rebuild(None) == pb.PlayerState()
    corrupt = build_event_book([pb.FundsDeposited()], domain="player")
    corrupt.pages[0].event.value = b"\xff"
    with pytest.raises(
        StateRebuildError, match=r"sequence 0 \(type.googleapis.com/examples.FundsDeposited\)"
    ):
        balance_router().rebuild(corrupt)
    with pytest.raises(ValueError):
        balance_router().on(pb.PlayerRegistered, lambda s, e: None)


# -- Router -----------------------------------------------------------------------------------------------


class EchoSaga(Saga):
    name = "echo"
    input_domain = "player"

    @handles(pb.PlayerRegistered)
    def on_registered(self, event: pb.PlayerRegistered):
        return None


class Counter(Projector):
    name = "counter"
    input_domains = ["player", "table"]

    @handles(pb.PlayerRegistered, input_domain="player")
    def on_registered(self, event: pb.PlayerRegistered):
        return None


def test_router_builds_the_router_for_each_kind_with_descriptors():
    saga = Router("echo").with_handler(EchoSaga()).build()
    assert isinstance(saga, SagaRouter) and saga.kind == "saga"
    descriptor = saga.descriptor()
    assert descriptor.name == "echo" and descriptor.component_type == "saga"
    assert [t.domain for t in descriptor.inputs] == ["player"]
    assert saga.handled_types() == ["examples.PlayerRegistered"]

    projector = Router("counter").with_handler(Counter).build()
    assert isinstance(projector, ProjectorRouter)
    assert [t.domain for t in projector.descriptor().inputs] == ["player", "table"]

    command = (
        Router("player").with_handler(CommandRouter("player", balance_router()).on(pb.SitIn, print)).build()
    )
    assert isinstance(command, CommandHandlerRouter) and command.domain == "player"
    assert command.descriptor().component_type == "command_handler"
    assert command.handled_types() == ["examples.SitIn"]


def test_router_refuses_a_second_handler_nothing_and_non_components():
    builder = Router("echo").with_handler(EchoSaga)
    with pytest.raises(TypeError, match="already has a handler"):
        builder.with_handler(EchoSaga)
    with pytest.raises(ValueError):
        Router("empty").build()
    with pytest.raises(TypeError):
        Router("x").with_handler(object())
    with pytest.raises(TypeError):
        Router("x").with_handler(Saga)
