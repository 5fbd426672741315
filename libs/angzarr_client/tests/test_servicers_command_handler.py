"""CommandHandlerService over real gRPC, on TCP and on a Unix socket (items 54, 56, 58, 60, 62, 69, 70)."""

from __future__ import annotations

import copy
import dataclasses

import grpc
import pytest
from google.protobuf import any_pb2

from angzarr_client import CommandRejectedError, now, pack, pack_event, unpack
from angzarr_client.handlers import (
    CommandHandler,
    CommandRouter,
    CompensationContext,
    StateRouter,
    applies,
    handles,
    handles_fact,
    rejected,
)
from angzarr_client.proto.angzarr import command_handler_pb2, command_handler_pb2_grpc, types_pb2
from angzarr_client.router import Router
from angzarr_client.servicers import CommandHandlerGrpc, SagaGrpc
from angzarr_client.testing import (
    build_command_book,
    build_contextual_command,
    build_event_book,
    build_rejection,
    running_server,
)
from poker_contracts import player_pb2 as pb
from poker_contracts import table_pb2
from poker_contracts.poker_types_pb2 import Currency


class Player(CommandHandler[pb.PlayerState]):
    domain = "player"
    snapshot_every = 3

    def __init__(self, event_book=None, *, limits=None):
        super().__init__(event_book)
        self.limits = limits if limits is not None else {"max_deposit": 1_000_000}

    @handles(pb.RegisterPlayer)
    def handle_register_player(self, cmd: pb.RegisterPlayer) -> pb.PlayerRegistered:
        if self.exists:
            raise CommandRejectedError("player already exists")
        if not cmd.display_name:
            raise CommandRejectedError.invalid_argument("display_name is required")
        return pb.PlayerRegistered(display_name=cmd.display_name, registered_at=now())

    @handles(pb.DepositFunds)
    def handle_deposit_funds(self, cmd: pb.DepositFunds) -> pb.FundsDeposited:
        if cmd.amount.amount <= 0:
            raise CommandRejectedError.invalid_argument("amount must be positive")
        if cmd.amount.amount > self.limits["max_deposit"]:
            raise CommandRejectedError("deposit over the limit")
        if cmd.amount.amount == 13:
            raise RuntimeError("unlucky")
        balance = Currency(amount=self.state.bankroll.amount + cmd.amount.amount)
        return pb.FundsDeposited(amount=cmd.amount, new_balance=balance)

    @handles_fact(pb.FundsTransferred)
    def handle_funds_transferred(self, fact: pb.FundsTransferred) -> None:
        self.state.bankroll.CopyFrom(fact.new_balance)

    @rejected("table", table_pb2.JoinTable)
    def on_join_rejected(self, ctx: CompensationContext):
        if ctx.rejection_reason.endswith("silent"):
            return None
        return pb.FundsReleased(amount=Currency(amount=1), table_root=b"t")

    @applies(pb.PlayerRegistered)
    def apply_player_registered(self, state: pb.PlayerState, event: pb.PlayerRegistered) -> None:
        state.display_name = event.display_name

    @applies(pb.FundsDeposited)
    def apply_funds_deposited(self, state: pb.PlayerState, event: pb.FundsDeposited) -> None:
        state.bankroll.CopyFrom(event.new_balance)

    @applies(pb.FundsReleased)
    def apply_funds_released(self, state: pb.PlayerState, event: pb.FundsReleased) -> None:
        state.reserved_funds.amount -= event.amount.amount


@dataclasses.dataclass
class Tally:
    total: int = 0


class DataclassPlayer(CommandHandler[Tally]):
    domain = "player"

    @handles(pb.DepositFunds)
    def deposit(self, cmd: pb.DepositFunds) -> pb.FundsDeposited:
        return pb.FundsDeposited(new_balance=Currency(amount=self.state.total + cmd.amount.amount))

    def _apply_event(self, state, event_any) -> None:
        if event_any.type_url.endswith("examples.FundsDeposited"):
            state.total = unpack(event_any, pb.FundsDeposited).new_balance.amount


@pytest.fixture(params=["tcp", "uds"])
def serve(request, tmp_path):
    """Serve a component and return a CommandHandlerService stub, on TCP or on a Unix socket."""
    handles_ = []

    def start(component):
        path = str(tmp_path / "sock" / "player.sock") if request.param == "uds" else None
        context = running_server(component, uds_path=path)
        handle = context.__enter__()
        handles_.append(context)
        channel = grpc.insecure_channel(handle.address)
        handles_.append(channel)
        return command_handler_pb2_grpc.CommandHandlerServiceStub(channel)

    yield start
    for item in reversed(handles_):
        if isinstance(item, grpc.Channel):
            item.close()
        else:
            item.__exit__(None, None, None)


def deposit(amount: int) -> pb.DepositFunds:
    return pb.DepositFunds(amount=Currency(amount=amount))


def registered_history(*extra):
    return build_event_book([pb.PlayerRegistered(display_name="alice"), *extra], domain="player")


# -- happy path ---------------------------------------------------------------------------------------


def test_handle_returns_new_events_under_the_command_cover(serve):
    stub = serve(Player)
    request = build_contextual_command(
        deposit(5), registered_history(), domain="player", correlation_id="c-1"
    )
    response = stub.Handle(request)
    assert response.WhichOneof("result") == "events"
    assert response.events.cover == request.command.cover
    assert [p.header.sequence for p in response.events.pages] == [1]
    assert unpack(response.events.pages[0].event, pb.FundsDeposited).new_balance.amount == 5
    assert not response.events.HasField("snapshot")


def test_snapshot_every_attaches_state_through_the_router(serve):
    stub = serve(Player)
    history = registered_history(pb.FundsDeposited(new_balance=Currency(amount=10)))
    response = stub.Handle(build_contextual_command(deposit(5), history, domain="player"))
    assert response.events.snapshot.sequence == 2
    assert unpack(response.events.snapshot.state, pb.PlayerState).bankroll.amount == 15


def test_a_fact_page_is_recorded_and_applied_through_the_fact_method(serve):
    stub = serve(Player)
    fact = pb.FundsTransferred(new_balance=Currency(amount=77))
    response = stub.Handle(build_contextual_command(fact, registered_history(), domain="player"))
    assert [p.header.sequence for p in response.events.pages] == [1]
    assert unpack(response.events.pages[0].event, pb.FundsTransferred) == fact
    two_more = registered_history(fact, pb.FundsDeposited(new_balance=Currency(amount=80)))
    replay = stub.Replay(command_handler_pb2.ReplayRequest(events=two_more.pages))
    assert unpack(replay.state, pb.PlayerState).bankroll.amount == 80


# -- item 56: rejections --------------------------------------------------------------------------------


def test_rejection_is_failed_precondition_with_message_and_no_events(serve):
    stub = serve(Player)
    with pytest.raises(grpc.RpcError) as info:
        stub.Handle(
            build_contextual_command(
                pb.RegisterPlayer(display_name="b"), registered_history(), domain="player"
            )
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == "player already exists"


def test_invalid_argument_rejection_keeps_its_code(serve):
    stub = serve(Player)
    with pytest.raises(grpc.RpcError) as info:
        stub.Handle(build_contextual_command(deposit(0), registered_history(), domain="player"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details() == "amount must be positive"


# -- item 62: multi-page books and foreign domains ------------------------------------------------------


def _two_page_book(first: int, second: int) -> types_pb2.CommandBook:
    book = build_command_book(deposit(first), domain="player")
    page = book.pages.add()
    page.command.CopyFrom(pack(deposit(second)))
    return book


def test_all_pages_of_a_book_are_handled_in_order(serve):
    stub = serve(Player)
    request = build_contextual_command(_two_page_book(3, 4))
    request.events.CopyFrom(registered_history())
    response = stub.Handle(request)
    balances = [unpack(p.event, pb.FundsDeposited).new_balance.amount for p in response.events.pages]
    assert balances == [3, 7]
    assert [p.header.sequence for p in response.events.pages] == [1, 2]


def test_a_rejected_second_page_returns_no_events(serve):
    stub = serve(Player)
    request = build_contextual_command(_two_page_book(3, 0))
    request.events.CopyFrom(registered_history())
    with pytest.raises(grpc.RpcError) as info:
        stub.Handle(request)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_foreign_cover_domain_is_invalid_argument(serve):
    stub = serve(Player)
    with pytest.raises(grpc.RpcError) as info:
        stub.Handle(build_contextual_command(deposit(1), domain="table"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'table'" in info.value.details()


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda r: r.ClearField("command"), "no command book"),
        (lambda r: r.command.ClearField("pages"), "no pages"),
        (lambda r: r.command.pages[0].ClearField("command"), "no command payload"),
    ],
)
def test_malformed_requests_are_invalid_argument(serve, mutate, needle):
    stub = serve(Player)
    request = build_contextual_command(deposit(1), domain="player")
    mutate(request)
    with pytest.raises(grpc.RpcError) as info:
        stub.Handle(request)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert needle in info.value.details()


# -- item 69: never UNKNOWN -------------------------------------------------------------------------------


def test_undecodable_command_bytes_are_invalid_argument_naming_the_type(serve):
    stub = serve(Player)
    request = build_contextual_command(deposit(1), domain="player")
    request.command.pages[0].command.value = b"\xff\xff"
    with pytest.raises(grpc.RpcError) as info:
        stub.Handle(request)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "examples.DepositFunds" in info.value.details()


def test_unknown_command_type_is_invalid_argument(serve):
    stub = serve(Player)
    request = build_contextual_command(table_pb2.CreateTable(), domain="player")
    with pytest.raises(grpc.RpcError) as info:
        stub.Handle(request)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "examples.CreateTable" in info.value.details()


def test_unexpected_exception_is_internal_with_type_and_message(serve):
    stub = serve(Player)
    with pytest.raises(grpc.RpcError) as info:
        stub.Handle(build_contextual_command(deposit(13), registered_history(), domain="player"))
    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert info.value.details() == "player failed: RuntimeError: unlucky"


def test_corrupt_history_is_internal_cannot_rebuild_state(serve):
    stub = serve(Player)
    history = registered_history(pb.FundsDeposited(new_balance=Currency(amount=1)))
    history.pages[1].event.value = b"\xff\xff"
    with pytest.raises(grpc.RpcError) as info:
        stub.Handle(build_contextual_command(deposit(1), history, domain="player"))
    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert info.value.details().startswith("cannot rebuild state: ")
    assert "sequence 1" in info.value.details()


# -- item 58: compensation ------------------------------------------------------------------------------


def _rejection_request(reason: str) -> types_pb2.ContextualCommand:
    join = build_command_book(table_pb2.JoinTable(buy_in_amount=5), domain="table", correlation_id="c")
    join.pages[0].header.angzarr_deferred.source.CopyFrom(types_pb2.Cover(domain="player"))
    join.pages[0].header.angzarr_deferred.source_seq = 0
    request = build_contextual_command(build_rejection(join, reason, reactor="saga:table-player"))
    request.events.CopyFrom(registered_history())
    return request


def test_matching_notification_runs_rejected_and_returns_its_events(serve):
    stub = serve(Player)
    response = stub.Handle(_rejection_request("FAILED_PRECONDITION: table full"))
    assert response.WhichOneof("result") == "events"
    assert [p.event.type_url for p in response.events.pages] == ["type.googleapis.com/examples.FundsReleased"]


def test_matching_notification_that_emits_nothing_returns_events_without_pages(serve):
    stub = serve(Player)
    response = stub.Handle(_rejection_request("FAILED_PRECONDITION: silent"))
    assert response.WhichOneof("result") == "events"
    assert len(response.events.pages) == 0


def test_unmatched_notification_returns_a_revocation(serve):
    stub = serve(DataclassPlayer)
    response = stub.Handle(_rejection_request("FAILED_PRECONDITION: table full"))
    assert response.WhichOneof("result") == "revocation"
    assert response.revocation.emit_system_revocation
    assert response.revocation.reason == "DataclassPlayer has no compensation for table/examples.JoinTable"


def test_notification_without_a_rejection_is_invalid_argument(serve):
    stub = serve(Player)
    notice = types_pb2.Notification(payload=pack(pb.PlayerRegistered()))
    book = build_command_book(notice, domain="player")
    with pytest.raises(grpc.RpcError) as info:
        stub.Handle(build_contextual_command(book))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_command_named_like_a_notification_is_ordinary():
    # examples.SendNotification does not exist in the poker contract; a handler keyed by a
    # message whose name ends in "Notification" is dispatched like any other command.
    class Notifier(CommandHandler[pb.PlayerState]):
        domain = "player"

        @handles(types_pb2.RejectionNotification)
        def handle(self, cmd: types_pb2.RejectionNotification) -> pb.PlayerRegistered:
            return pb.PlayerRegistered(display_name=cmd.rejection_reason)

        @applies(pb.PlayerRegistered)
        def apply(self, state: pb.PlayerState, event: pb.PlayerRegistered) -> None:
            state.display_name = event.display_name

    router = Router("player").with_handler(Notifier).build()
    request = build_contextual_command(
        types_pb2.RejectionNotification(rejection_reason="hi"), domain="player"
    )
    response = router.dispatch(request)
    assert unpack(response.events.pages[0].event, pb.PlayerRegistered).display_name == "hi"


# -- item 60: Replay --------------------------------------------------------------------------------------


def test_replay_returns_protobuf_state(serve):
    stub = serve(Player)
    events = registered_history(pb.FundsDeposited(new_balance=Currency(amount=9))).pages
    response = stub.Replay(command_handler_pb2.ReplayRequest(events=events))
    state = unpack(response.state, pb.PlayerState)
    assert state.display_name == "alice" and state.bankroll.amount == 9


def test_replay_starts_from_the_base_snapshot(serve):
    stub = serve(Player)
    base = types_pb2.Snapshot(sequence=4, state=pack(pb.PlayerState(display_name="snap")))
    page = types_pb2.EventPage(event=pack(pb.FundsDeposited(new_balance=Currency(amount=2))))
    page.header.sequence = 5
    response = stub.Replay(command_handler_pb2.ReplayRequest(base_snapshot=base, events=[page]))
    state = unpack(response.state, pb.PlayerState)
    assert state.display_name == "snap" and state.bankroll.amount == 2


def test_replay_with_dataclass_state_is_unimplemented(serve):
    stub = serve(DataclassPlayer)
    with pytest.raises(grpc.RpcError) as info:
        stub.Replay(command_handler_pb2.ReplayRequest())
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_dataclass_state_handles_commands(serve):
    stub = serve(DataclassPlayer)
    history = build_event_book([pb.FundsDeposited(new_balance=Currency(amount=4))], domain="player")
    response = stub.Handle(build_contextual_command(deposit(3), history, domain="player"))
    assert unpack(response.events.pages[0].event, pb.FundsDeposited).new_balance.amount == 7


# -- item 70: what a CommandHandlerGrpc accepts -----------------------------------------------------------


def test_an_instance_prototype_keeps_collaborators_and_is_never_mutated(serve):
    prototype = Player(limits={"max_deposit": 10})
    before = copy.copy(prototype.__dict__)
    stub = serve(prototype)
    stub.Handle(build_contextual_command(deposit(5), registered_history(), domain="player"))
    with pytest.raises(grpc.RpcError) as info:
        stub.Handle(build_contextual_command(deposit(11), registered_history(), domain="player"))
    assert info.value.details() == "deposit over the limit"
    assert prototype.new_events == [] and not prototype.exists
    assert prototype.__dict__.keys() == before.keys()
    assert prototype._history == before["_history"] and prototype._state is None


def test_each_request_gets_a_fresh_instance(serve):
    stub = serve(Player)
    for _ in range(3):
        response = stub.Handle(build_contextual_command(pb.RegisterPlayer(display_name="x"), domain="player"))
        assert [p.header.sequence for p in response.events.pages] == [0]


def _function_style_router() -> CommandRouter:
    def rebuild_state(event_book: types_pb2.EventBook) -> pb.PlayerState:
        state = pb.PlayerState()
        for page in event_book.pages:
            if page.event.type_url.endswith("PlayerRegistered"):
                state.display_name = unpack(page.event, pb.PlayerRegistered).display_name
        return state

    def handle_register(cb, cmd_any, state, seq) -> types_pb2.EventBook:
        cmd = pb.RegisterPlayer()
        cmd_any.Unpack(cmd)
        if state.display_name:
            raise CommandRejectedError("Player already exists")
        return pack_event(pb.PlayerRegistered(display_name=cmd.display_name), seq)

    return CommandRouter("player", rebuild_state).on("RegisterPlayer", handle_register)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Player,
        lambda: Player(),
        lambda: _function_style_router(),
        lambda: Router("player").with_handler(Player).build(),
        lambda: CommandHandlerGrpc(Player).router,
    ],
    ids=["class", "instance", "command-router", "built-router", "servicer-router"],
)
def test_command_handler_grpc_accepts_every_form(serve, make):
    stub = serve(make())
    request = build_contextual_command(pb.RegisterPlayer(display_name="bob"), domain="player")
    response = stub.Handle(request)
    assert unpack(response.events.pages[0].event, pb.PlayerRegistered).display_name == "bob"
    assert response.events.pages[0].header.sequence == 0


def test_wrong_kind_raises_type_error():
    with pytest.raises(TypeError, match="serves a saga"):
        SagaGrpc(Player)
    with pytest.raises(TypeError):
        CommandHandlerGrpc(object())


def test_function_style_router_over_grpc_numbers_from_history(serve):
    stub = serve(StateRouterPlayer())
    history = build_event_book([pb.FundsDeposited(new_balance=Currency(amount=2))] * 4, domain="player")
    response = stub.Handle(build_contextual_command(deposit(3), history, domain="player"))
    assert [p.header.sequence for p in response.events.pages] == [4]
    assert unpack(response.events.pages[0].event, pb.FundsDeposited).new_balance.amount == 5
    replay = stub.Replay(command_handler_pb2.ReplayRequest(events=history.pages))
    assert unpack(replay.state, pb.PlayerState).bankroll.amount == 2


def StateRouterPlayer() -> CommandRouter:  # noqa: N802 - reads like the class it stands for
    state = StateRouter(pb.PlayerState).on(pb.FundsDeposited, lambda s, e: s.bankroll.CopyFrom(e.new_balance))

    def handle_deposit(book, command: any_pb2.Any, st: pb.PlayerState, seq: int):
        amount = unpack(command, pb.DepositFunds).amount.amount
        return pb.FundsDeposited(new_balance=Currency(amount=st.bankroll.amount + amount))

    return CommandRouter("player", state).on(pb.DepositFunds, handle_deposit)


def test_concurrent_requests_on_one_prototype_do_not_share_state(serve):
    from concurrent.futures import ThreadPoolExecutor

    stub = serve(Player(limits={"max_deposit": 10_000}))

    def one(i: int) -> tuple[int, int, int]:
        history = registered_history(*[pb.FundsDeposited(new_balance=Currency(amount=i))] * (i % 5))
        response = stub.Handle(
            build_contextual_command(deposit(i + 100), history, domain="player"), timeout=30
        )
        page = response.events.pages[0]
        return i, page.header.sequence, unpack(page.event, pb.FundsDeposited).new_balance.amount

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(120)))
    for i, sequence, balance in results:
        assert sequence == 1 + i % 5
        assert balance == (i if i % 5 else 0) + i + 100
