"""CommandHandler behaviour without infrastructure (contract items 50–55, 57, 59, 61)."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from google.protobuf import any_pb2
from hypothesis import given
from hypothesis import strategies as st

from angzarr_client import Aggregate, CommandRejectedError, StateRebuildError, now, pack, unpack
from angzarr_client.handlers import (
    CommandHandler,
    CompensationContext,
    applies,
    handles,
    handles_fact,
    rejected,
    require_not_empty,
)
from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_client.testing import build_command_book, build_event_book, build_rejection, uuid_for
from poker_contracts import player_pb2 as pb
from poker_contracts import table_pb2
from poker_contracts.poker_types_pb2 import Currency


class Player(CommandHandler[pb.PlayerState]):
    domain = "player"

    @handles(pb.RegisterPlayer)
    def handle_register_player(self, cmd: pb.RegisterPlayer) -> pb.PlayerRegistered:
        if self.exists:
            raise CommandRejectedError("player already exists")
        require_not_empty(cmd.display_name, "display_name")
        return pb.PlayerRegistered(display_name=cmd.display_name, email=cmd.email, registered_at=now())

    @handles(pb.DepositFunds)
    def handle_deposit_funds(self, cmd: pb.DepositFunds) -> pb.FundsDeposited:
        if cmd.amount.amount <= 0:
            raise CommandRejectedError.invalid_argument("amount must be positive")
        balance = Currency(amount=self.state.bankroll.amount + cmd.amount.amount)
        return pb.FundsDeposited(amount=cmd.amount, new_balance=balance, deposited_at=now())

    @handles(pb.TransferFunds)
    def handle_transfer_funds(self, cmd: pb.TransferFunds):
        # Two events from one command: a tuple keeps their order.
        up = Currency(amount=self.state.bankroll.amount + cmd.amount.amount)
        down = Currency(amount=up.amount - 1)
        return (
            pb.FundsDeposited(amount=cmd.amount, new_balance=up),
            pb.FundsWithdrawn(amount=Currency(amount=1), new_balance=down),
        )

    @handles(pb.SitOut)
    def handle_sit_out(self, cmd: pb.SitOut) -> None:
        return None

    @handles(pb.SitIn)
    def handle_sit_in(self, cmd: pb.SitIn):
        return "not an event"

    @handles(pb.WithdrawFunds)
    def handle_withdraw_funds(self, cmd: pb.WithdrawFunds) -> pb.FundsWithdrawn:
        event = pb.FundsWithdrawn(
            amount=cmd.amount, new_balance=Currency(amount=self.state.bankroll.amount - cmd.amount.amount)
        )
        self._emit(event)
        return event

    @handles_fact(pb.FundsTransferred)
    def handle_funds_transferred(self, fact: pb.FundsTransferred) -> None:
        self.state.bankroll.CopyFrom(fact.new_balance)

    @rejected("table", table_pb2.JoinTable)
    def on_join_rejected(self, ctx: CompensationContext) -> pb.FundsReleased:
        return pb.FundsReleased(amount=Currency(amount=0), table_root=b"t")

    @applies(pb.PlayerRegistered)
    def apply_player_registered(self, state: pb.PlayerState, event: pb.PlayerRegistered) -> None:
        state.display_name = event.display_name
        state.status = "active"

    @applies(pb.FundsDeposited)
    def apply_funds_deposited(self, state: pb.PlayerState, event: pb.FundsDeposited) -> None:
        state.bankroll.CopyFrom(event.new_balance)

    @applies(pb.FundsWithdrawn)
    def apply_funds_withdrawn(self, state: pb.PlayerState, event: pb.FundsWithdrawn) -> None:
        state.bankroll.CopyFrom(event.new_balance)

    @applies(pb.FundsReleased)
    def apply_funds_released(self, state: pb.PlayerState, event: pb.FundsReleased) -> None:
        state.table_reservations.pop(event.table_root.hex(), None)


def deposited(amount: int, balance: int) -> pb.FundsDeposited:
    return pb.FundsDeposited(amount=Currency(amount=amount), new_balance=Currency(amount=balance))


# -- item 50 ------------------------------------------------------------------------------------------


def test_fresh_instance_is_empty_and_first_event_is_recorded_at_zero():
    player = Player()
    assert player.state == pb.PlayerState()
    assert not player.exists
    event = player.handle_register_player(pb.RegisterPlayer(display_name="alice"))
    assert isinstance(event, pb.PlayerRegistered) and event.display_name == "alice"
    assert [p.header.sequence for p in player.new_events] == [0]
    assert unpack(player.new_events[0].event, pb.PlayerRegistered) == event
    assert player.new_events[0].HasField("created_at")
    assert player.state.display_name == "alice" and player.exists
    assert player.next_sequence == 1


def test_rejection_propagates_and_records_nothing():
    player = Player(build_event_book([pb.PlayerRegistered(display_name="a")], domain="player"))
    with pytest.raises(CommandRejectedError, match="already exists") as info:
        player.handle_register_player(pb.RegisterPlayer(display_name="b"))
    assert info.value.is_precondition_failed()
    with pytest.raises(CommandRejectedError) as info:
        player.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=0)))
    assert info.value.is_invalid_argument()
    assert player.new_events == []


def test_wrong_message_type_raises_type_error():
    with pytest.raises(TypeError, match="expects examples.DepositFunds"):
        Player().handle_deposit_funds(pb.WithdrawFunds())


# -- item 51 ------------------------------------------------------------------------------------------


def test_history_numbers_next_event_and_callers_book_is_unchanged():
    book = build_event_book(
        [pb.PlayerRegistered(display_name="a"), deposited(10, 10), deposited(5, 15)], domain="player"
    )
    before = book.SerializeToString(deterministic=True)
    player = Player(book)
    assert player.bankroll.amount == 15
    player.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=1)))
    assert [p.header.sequence for p in player.new_events] == [3]
    assert book.SerializeToString(deterministic=True) == before
    # the instance's history is a private copy: changing the caller's book later changes nothing
    book.pages.add()
    assert player.next_sequence == 4


# -- item 52 ------------------------------------------------------------------------------------------


def test_snapshot_skips_covered_pages_and_next_event_follows_last_page():
    snapshot_state = pb.PlayerState(display_name="snap", bankroll=Currency(amount=100))
    book = types_pb2.EventBook(cover=types_pb2.Cover(domain="player"))
    book.snapshot.sequence = 5
    book.snapshot.state.CopyFrom(pack(snapshot_state))
    for sequence, event in [
        (3, deposited(1, 1)),
        (4, deposited(1, 2)),
        (6, deposited(7, 107)),
        (7, pb.FundsWithdrawn(new_balance=Currency(amount=100))),
    ]:
        page = book.pages.add()
        page.header.sequence = sequence
        page.event.CopyFrom(pack(event))
    applied = []

    class Tracking(Player):
        def _apply_event(self, state, event):
            applied.append(event.type_url.rsplit(".", 1)[-1])
            super()._apply_event(state, event)

    player = Tracking(book)
    assert player.state.display_name == "snap"
    assert player.state.bankroll.amount == 100
    assert applied == ["FundsDeposited", "FundsWithdrawn"]
    player.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=1)))
    assert [p.header.sequence for p in player.new_events] == [8]


# -- item 53 ------------------------------------------------------------------------------------------


def test_tuple_return_gives_consecutive_events():
    player = Player(build_event_book([pb.PlayerRegistered()], domain="player"))
    result = player.handle_transfer_funds(pb.TransferFunds(amount=Currency(amount=10)))
    assert isinstance(result, tuple) and len(result) == 2
    assert [p.header.sequence for p in player.new_events] == [1, 2]
    assert [p.event.type_url for p in player.new_events] == [
        "type.googleapis.com/examples.FundsDeposited",
        "type.googleapis.com/examples.FundsWithdrawn",
    ]
    assert player.bankroll.amount == 9


def test_none_return_records_nothing_and_str_raises():
    player = Player()
    assert player.handle_sit_out(pb.SitOut()) is None
    assert player.new_events == []
    with pytest.raises(TypeError, match="returned str"):
        player.handle_sit_in(pb.SitIn())
    assert player.new_events == []


# -- item 54 ------------------------------------------------------------------------------------------


def test_unknown_events_are_skipped():
    book = build_event_book(
        [pb.PlayerRegistered(display_name="a"), table_pb2.TableCreated(table_name="x"), deposited(3, 3)],
        domain="player",
    )
    player = Player(book)
    assert player.state.display_name == "a" and player.bankroll.amount == 3
    assert player.next_sequence == 3


def test_corrupt_event_raises_state_rebuild_error_naming_sequence_and_type():
    book = build_event_book([pb.PlayerRegistered(display_name="a"), deposited(3, 3)], domain="player")
    book.pages[1].event.value = b"\xff\xff\xff"
    player = Player(book)
    with pytest.raises(
        StateRebuildError, match=r"sequence 1 \(type.googleapis.com/examples.FundsDeposited\)"
    ):
        _ = player.state
    # the failure is not cached as a half-built state
    with pytest.raises(StateRebuildError):
        player.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=1)))


def test_external_payload_is_a_rebuild_error():
    book = build_event_book([pb.PlayerRegistered()], domain="player")
    book.pages[0].external.uri = "s3://bucket/key"
    with pytest.raises(StateRebuildError, match="external"):
        _ = Player(book).state


# -- item 55 ------------------------------------------------------------------------------------------


def test_seeded_state_is_used_as_is():
    player = Player(build_event_book([pb.PlayerRegistered(display_name="alice")], domain="player"))
    player.state.bankroll.amount = 1000
    event = player.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=500)))
    assert event.new_balance.amount == 1500 and player.state.bankroll.amount == 1500
    assert [p.header.sequence for p in player.new_events] == [1]

    replaced = Player()
    replaced.state = pb.PlayerState(bankroll=Currency(amount=7))
    replaced.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=1)))
    assert replaced.bankroll.amount == 8


def test_emit_then_return_records_once():
    player = Player(build_event_book([deposited(10, 10)], domain="player"))
    event = player.handle_withdraw_funds(pb.WithdrawFunds(amount=Currency(amount=4)))
    assert [p.header.sequence for p in player.new_events] == [1]
    assert unpack(player.new_events[0].event, pb.FundsWithdrawn) == event
    assert player.bankroll.amount == 6


# -- item 57 ------------------------------------------------------------------------------------------


def test_fact_updates_state_records_the_fact_and_rebuild_replays_it():
    player = Player(build_event_book([pb.PlayerRegistered()], domain="player"))
    fact = pb.FundsTransferred(new_balance=Currency(amount=42))
    assert player.handle_funds_transferred(fact) is None
    assert player.bankroll.amount == 42
    assert len(player.new_events) == 1
    assert unpack(player.new_events[0].event, pb.FundsTransferred) == fact

    history = build_event_book([pb.PlayerRegistered(), fact, deposited(1, 43)], domain="player")
    assert Player(history).bankroll.amount == 43


def test_dispatch_routes_commands_and_facts_by_full_name():
    player = Player()
    player.dispatch(pack(pb.RegisterPlayer(display_name="z")))
    player.dispatch(pack(pb.FundsTransferred(new_balance=Currency(amount=2))))
    assert player.display_name == "z" and player.bankroll.amount == 2
    assert [p.header.sequence for p in player.new_events] == [0, 1]
    from angzarr_client import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="no handler"):
        player.dispatch(pack(table_pb2.TableCreated()))
    broken = any_pb2.Any(type_url="type.googleapis.com/examples.DepositFunds", value=b"\xff")
    with pytest.raises(InvalidArgumentError):
        player.dispatch(broken)


# -- compensation at instance level (the gRPC side is item 58) ----------------------------------------


def _join_table_rejection(reactor="saga:player-table") -> any_pb2.Any:
    source = types_pb2.Cover(domain="player", correlation_id="c1")
    join = build_command_book(table_pb2.JoinTable(buy_in_amount=5), domain="table", correlation_id="c1")
    join.pages[0].header.angzarr_deferred.source.CopyFrom(source)
    join.pages[0].header.angzarr_deferred.source_seq = 4
    notice_book = build_rejection(join, "FAILED_PRECONDITION: table full", reactor=reactor)
    return notice_book.pages[0].command


def test_matching_rejection_reaches_rejected_handler_with_context():
    seen: list[CompensationContext] = []

    class Watching(Player):
        @rejected("table", table_pb2.JoinTable)
        def on_join_rejected(self, ctx: CompensationContext) -> pb.FundsReleased:
            seen.append(ctx)
            return pb.FundsReleased(table_root=b"t")

    player = Watching()
    result = player.dispatch(_join_table_rejection())
    assert isinstance(result, pb.FundsReleased)
    assert len(player.new_events) == 1
    ctx = seen[0]
    assert ctx.rejection_reason == "FAILED_PRECONDITION: table full"
    assert ctx.rejected_command_type == "examples.JoinTable"
    assert ctx.target_domain == "table" and ctx.correlation_id == "c1"
    assert ctx.source.domain == "player" and ctx.source_event_sequence == 4
    assert (ctx.reactor, ctx.issuer_type, ctx.issuer_name) == ("saga:player-table", "saga", "player-table")
    assert ctx.sent_at is not None


def test_unmatched_rejection_returns_a_system_revocation():
    class NoCompensation(CommandHandler[pb.PlayerState]):
        domain = "player"

        @applies(pb.PlayerRegistered)
        def apply(self, state: pb.PlayerState, event: pb.PlayerRegistered) -> None:
            state.display_name = event.display_name

    result = NoCompensation().dispatch(_join_table_rejection())
    assert isinstance(result, command_handler_pb2.RevocationResponse)
    assert result.emit_system_revocation
    assert result.reason == "NoCompensation has no compensation for table/examples.JoinTable"


# -- item 59 ------------------------------------------------------------------------------------------


class SnappyPlayer(Player):
    snapshot_every = 3


def test_snapshot_every_attaches_packed_state_when_due():
    player = SnappyPlayer(build_event_book([pb.PlayerRegistered(display_name="s")], domain="player"))
    player.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=1)))
    assert not player.event_book().HasField("snapshot")  # events 0..1: two since base 0
    player.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=1)))
    book = player.event_book()
    assert book.HasField("snapshot") and book.snapshot.sequence == 2
    assert unpack(book.snapshot.state, pb.PlayerState) == player.state


def test_snapshot_base_counts_from_the_restored_snapshot():
    history = build_event_book([], domain="player", snapshot=(9, pb.PlayerState(display_name="s")))
    player = SnappyPlayer(history)
    player.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=1)))
    player.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=1)))
    assert not player.event_book().HasField("snapshot")  # 10, 11
    player.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=1)))
    assert player.event_book().snapshot.sequence == 12


@given(st.integers(min_value=0, max_value=40), st.integers(min_value=1, max_value=10))
def test_next_sequence_and_snapshot_rule_for_any_history_length(history_len, new_count):
    events = [deposited(1, i + 1) for i in range(history_len)]
    player = SnappyPlayer(build_event_book(events, domain="player"))
    for _ in range(new_count):
        player.handle_deposit_funds(pb.DepositFunds(amount=Currency(amount=1)))
    sequences = [p.header.sequence for p in player.new_events]
    assert sequences == list(range(history_len, history_len + new_count))
    assert player.bankroll.amount == history_len + new_count
    book = player.event_book()
    assert book.HasField("snapshot") == (history_len + new_count >= 3)


# -- item 61 ------------------------------------------------------------------------------------------


def test_state_fields_are_readable_on_the_instance_and_unknown_names_raise():
    player = Player(build_event_book([deposited(5, 5)], domain="player"))
    assert player.bankroll.amount == 5
    with pytest.raises(AttributeError, match="no_such_field"):
        _ = player.no_such_field
    with pytest.raises(AttributeError):
        _ = player._private_name


# -- identity -------------------------------------------------------------------------------------------


def test_cover_root_and_correlation_id_come_from_history_on_direct_calls():
    root = uuid_for("alice")
    player = Player(
        build_event_book([pb.PlayerRegistered()], domain="player", root=root, correlation_id="c9")
    )
    assert player.root == root and player.correlation_id == "c9" and player.cover.domain == "player"
    assert Player().root is None and Player().correlation_id == ""
    assert isinstance(uuid_for("x"), uuid.UUID) and uuid_for("x") == uuid_for("x") != uuid_for("y")


# -- the older documented shapes (seed docs 000 and 004) ----------------------------------------------


@dataclasses.dataclass
class _PlayerState:
    player_id: str = ""
    bankroll: int = 0


class LegacyPlayer(Aggregate[_PlayerState]):
    domain = "player"

    def _create_empty_state(self) -> _PlayerState:
        return _PlayerState()

    def _apply_event(self, state: _PlayerState, event_any) -> None:
        if event_any.type_url.endswith("PlayerRegistered"):
            event = pb.PlayerRegistered()
            event_any.Unpack(event)
            state.player_id = event.display_name
        elif event_any.type_url.endswith("FundsDeposited"):
            event = pb.FundsDeposited()
            event_any.Unpack(event)
            state.bankroll = event.new_balance.amount

    @handles(pb.RegisterPlayer)
    def register(self, cmd: pb.RegisterPlayer) -> pb.PlayerRegistered:
        if self.exists:
            raise CommandRejectedError("Player already exists")
        return pb.PlayerRegistered(display_name=cmd.display_name)

    @handles(pb.DepositFunds)
    def deposit(self, cmd: pb.DepositFunds) -> pb.FundsDeposited:
        return pb.FundsDeposited(new_balance=Currency(amount=self.bankroll + cmd.amount.amount))

    @property
    def exists(self) -> bool:
        return bool(self._get_state().player_id)


def test_rich_model_from_the_readme_works():
    player = LegacyPlayer()
    event = player.register(pb.RegisterPlayer(display_name="alice"))
    assert event.display_name == "alice" and player.exists
    player2 = LegacyPlayer(build_event_book([pb.PlayerRegistered(display_name="alice")]))
    player2.deposit(pb.DepositFunds(amount=Currency(amount=100)))
    assert player2.bankroll == 100
    with pytest.raises(CommandRejectedError):
        player2.register(pb.RegisterPlayer(display_name="again"))


class Table(CommandHandler[table_pb2.TableState]):
    domain = "table"

    @handles(table_pb2.CreateTable)
    def handle_create_table(
        self, cmd: table_pb2.CreateTable, state: table_pb2.TableState | None = None, seq: int | None = None
    ) -> table_pb2.TableCreated:
        router_mode = state is not None
        saved = self._router_bind(state) if router_mode else None
        try:
            if self.exists:
                raise CommandRejectedError("Table already exists")
            event = table_pb2.TableCreated(table_name=cmd.table_name, created_at=now())
            if not router_mode:
                self._emit(event)
            return event
        finally:
            if router_mode:
                self._state = saved

    @applies(table_pb2.TableCreated)
    def apply_table_created(self, state: table_pb2.TableState, event: table_pb2.TableCreated) -> None:
        state.table_name = event.table_name


def test_router_mode_handler_from_the_aggregates_guide():
    table = Table()
    event = table.handle_create_table(table_pb2.CreateTable(table_name="t1"))
    assert event.table_name == "t1" and table.table_name == "t1"
    assert [p.header.sequence for p in table.new_events] == [0]
    # router mode: state passed in, nothing recorded by the method itself, cached state restored
    other = Table()
    explicit = table_pb2.TableState()
    result = other.handle_create_table(table_pb2.CreateTable(table_name="t2"), explicit, 0)
    assert result.table_name == "t2"
    assert other.new_events == [] and other._state is None
