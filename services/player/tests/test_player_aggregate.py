"""The player aggregate against the behaviour examples PE1–PE14 (spec poker §9) and the §2 check order."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from angzarr_client import CommandRejectedError, Router, decode_event, unpack
from angzarr_client.proto.angzarr import command_handler_pb2
from angzarr_client.testing import (
    build_command_book,
    build_contextual_command,
    build_event_book,
    build_rejection,
    uuid_for,
)
from player import Player
from poker_contracts import player_pb2 as pb
from poker_contracts import table_pb2
from poker_contracts.poker_types_pb2 import AI, HUMAN, PREFLOP, Card, Currency

A = uuid_for("player alice")
T = uuid_for("table main").bytes
T2 = uuid_for("table second").bytes
R = uuid_for("hand one").bytes
FIXED = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
FP, IA = grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT


def chips(n: int, code: str = "CHIPS") -> Currency:
    return Currency(amount=n, currency_code=code)


REGISTERED = pb.PlayerRegistered(display_name="Alice", email="alice@example.com", player_type=HUMAN)
REGISTERED_AI = pb.PlayerRegistered(display_name="Alice", email="alice@example.com", player_type=AI)
DEPOSITED_1000 = pb.FundsDeposited(amount=chips(1000), new_balance=chips(1000))
RESERVED_400 = pb.FundsReserved(
    amount=chips(400), table_root=T, new_available_balance=chips(600), new_reserved_balance=chips(400)
)


def player(*history) -> Player:
    """A player on ``history`` (events at sequences 0…), reading time from a fixed clock."""
    p = Player(build_event_book(history, domain="player", root=A))
    p.clock = lambda: FIXED
    return p


def rejected(p: Player, call, command, code: grpc.StatusCode, keyword: str) -> None:
    before = (list(p.new_events), p.state.SerializeToString(deterministic=True))
    with pytest.raises(CommandRejectedError) as raised:
        call(command)
    assert raised.value.code == code
    assert keyword.lower() in str(raised.value).lower()
    assert (list(p.new_events), p.state.SerializeToString(deterministic=True)) == before, "a rejection emits nothing"


# -- PE1, PE2: registration -------------------------------------------------------------------------


def test_pe1_register_emits_the_identity_and_starts_an_empty_bankroll():
    p = player()
    event = p.register(pb.RegisterPlayer(display_name="Alice", email="alice@example.com", player_type=HUMAN))
    assert event == pb.PlayerRegistered(
        display_name="Alice", email="alice@example.com", player_type=HUMAN,
        registered_at=_ts(FIXED),
    )
    assert p.state.player_id == "player_alice@example.com"
    assert p.state.status == "active"
    assert (p.state.bankroll, p.state.reserved_funds) == (chips(0), chips(0))


def test_pe2_register_twice_or_without_email_is_refused():
    p = player(REGISTERED)
    rejected(p, p.register, pb.RegisterPlayer(display_name="A", email="a@b", player_type=HUMAN), FP,
             "already exists")
    fresh = player()
    rejected(fresh, fresh.register, pb.RegisterPlayer(display_name="Alice", email="", player_type=HUMAN), IA,
             "email is required")


@pytest.mark.parametrize(
    ("command", "keyword"),
    [
        (pb.RegisterPlayer(display_name="  ", email="", player_type=HUMAN), "display_name is required"),
        (pb.RegisterPlayer(display_name="Alice", email=" ", player_type=HUMAN), "email is required"),
        (pb.RegisterPlayer(display_name="Alice", email="a@b"), "player_type"),
        (pb.RegisterPlayer(display_name="Alice", email="a@b", player_type=7), "player_type"),
    ],
)
def test_register_validates_in_the_listed_order(command, keyword):
    p = player()
    rejected(p, p.register, command, IA, keyword)


# -- PE3–PE6: deposits and withdrawals --------------------------------------------------------------


def test_pe3_deposits_accumulate_in_the_bankroll():
    p = player(REGISTERED)
    assert p.deposit(pb.DepositFunds(amount=chips(1000, ""))) == pb.FundsDeposited(
        amount=chips(1000), new_balance=chips(1000), deposited_at=_ts(FIXED)
    )
    second = p.deposit(pb.DepositFunds(amount=chips(500)))
    assert (second.amount, second.new_balance) == (chips(500), chips(1500))
    assert [page.header.sequence for page in p.new_events] == [1, 2]


def test_pe4_deposit_needs_a_player_and_a_positive_amount():
    nobody = player()
    rejected(nobody, nobody.deposit, pb.DepositFunds(amount=chips(100)), FP, "does not exist")
    p = player(REGISTERED)
    for amount in (0, -5):
        rejected(p, p.deposit, pb.DepositFunds(amount=chips(amount)), IA, "positive")
    rejected(p, p.deposit, pb.DepositFunds(), IA, "positive")
    rejected(p, p.deposit, pb.DepositFunds(amount=chips(5, "EUR")), IA, "currency_code")


def test_pe5_withdraw_lowers_the_bankroll():
    p = player(REGISTERED, DEPOSITED_1000)
    event = p.withdraw(pb.WithdrawFunds(amount=chips(300)))
    assert (event.amount, event.new_balance) == (chips(300), chips(700))
    assert p.state.bankroll == chips(700)


def test_pe6_withdraw_may_only_use_available_chips():
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    rejected(p, p.withdraw, pb.WithdrawFunds(amount=chips(700)), FP, "insufficient")
    assert p.withdraw(pb.WithdrawFunds(amount=chips(600))).new_balance == chips(400)


# -- PE7–PE9: reservations --------------------------------------------------------------------------


def test_pe7_reserve_moves_chips_from_available_to_reserved():
    p = player(REGISTERED, DEPOSITED_1000)
    event = p.reserve(pb.ReserveFunds(amount=chips(400), table_root=T))
    assert event == pb.FundsReserved(
        amount=chips(400), table_root=T, new_available_balance=chips(600), new_reserved_balance=chips(400),
        reserved_at=_ts(FIXED),
    )
    assert not event.HasField("preferred_seat")
    assert dict(p.state.table_reservations) == {T.hex(): 400}
    assert p.available_chips == 600


def test_reserve_carries_the_preferred_seat_when_given():
    p = player(REGISTERED, DEPOSITED_1000)
    event = p.reserve(pb.ReserveFunds(amount=chips(400), table_root=T, preferred_seat=0))
    assert event.HasField("preferred_seat") and event.preferred_seat == 0


def test_pe8_reserve_twice_for_a_table_or_beyond_available_is_refused():
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    rejected(p, p.reserve, pb.ReserveFunds(amount=chips(100), table_root=T), FP, "already reserved for this table")
    poor = player(REGISTERED, pb.FundsDeposited(amount=chips(300), new_balance=chips(300)))
    rejected(poor, poor.reserve, pb.ReserveFunds(amount=chips(400), table_root=T), FP, "insufficient")


def test_reserve_validates_in_the_listed_order():
    p = player(REGISTERED, DEPOSITED_1000)
    rejected(p, p.reserve, pb.ReserveFunds(amount=chips(0)), IA, "positive")
    rejected(p, p.reserve, pb.ReserveFunds(amount=chips(10, "USD")), IA, "currency_code")
    rejected(p, p.reserve, pb.ReserveFunds(amount=chips(10)), IA, "table_root is required")
    rejected(p, p.reserve, pb.ReserveFunds(amount=chips(10), table_root=b"short"), IA, "table_root")


def test_pe9_release_returns_the_whole_reservation_or_is_refused_without_one():
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    event = p.release(pb.ReleaseFunds(table_root=T))
    assert event == pb.FundsReleased(
        amount=chips(400), table_root=T, new_available_balance=chips(1000), new_reserved_balance=chips(0),
        released_at=_ts(FIXED),
    )
    assert dict(p.state.table_reservations) == {}
    nothing = player(REGISTERED, DEPOSITED_1000)
    rejected(nothing, nothing.release, pb.ReleaseFunds(table_root=T), FP, "No funds reserved")
    rejected(nothing, nothing.release, pb.ReleaseFunds(), IA, "table_root is required")


# -- PE10: settlement -------------------------------------------------------------------------------


def test_pe10_transfer_moves_bankroll_and_reservation_together():
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    event = p.transfer(pb.TransferFunds(amount=chips(-150), hand_root=R, table_root=T, reason="hand result"))
    assert event == pb.FundsTransferred(
        to_player_root=A.bytes, amount=chips(-150), hand_root=R, reason="hand result", new_balance=chips(850),
        transferred_at=_ts(FIXED), table_root=T, new_reserved_balance=chips(250),
        new_available_balance=chips(600),
    )
    assert dict(p.state.table_reservations) == {T.hex(): 250}
    assert (p.bankroll_chips, p.reserved_chips, p.available_chips) == (850, 250, 600)


def test_pe10_debit_beyond_the_reservation_is_refused():
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    rejected(p, p.transfer, pb.TransferFunds(amount=chips(-500), hand_root=R, table_root=T), FP, "insufficient")


def test_transfer_validates_in_the_listed_order():
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    rejected(p, p.transfer, pb.TransferFunds(hand_root=R, table_root=T), IA, "non-zero")
    rejected(p, p.transfer, pb.TransferFunds(amount=chips(0), hand_root=R, table_root=T), IA, "non-zero")
    rejected(p, p.transfer, pb.TransferFunds(amount=chips(5, "X"), hand_root=R, table_root=T), IA, "currency")
    rejected(p, p.transfer, pb.TransferFunds(amount=chips(5), hand_root=R), IA, "is required")
    rejected(p, p.transfer, pb.TransferFunds(amount=chips(5), table_root=T), IA, "is required")
    rejected(p, p.transfer, pb.TransferFunds(amount=chips(5), hand_root=R, table_root=T2), FP, "No funds reserved")


def test_transfer_copies_the_payer_for_direct_transfers():
    payer = uuid_for("player bob").bytes
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    event = p.transfer(pb.TransferFunds(from_player_root=payer, amount=chips(50), hand_root=R, table_root=T))
    assert (event.from_player_root, event.to_player_root) == (payer, A.bytes)


# -- PE11: compensation of a refused seat -------------------------------------------------------------


def _join_refused(reason: str, table: bytes = T):
    join = build_command_book(table_pb2.JoinTable(player_root=A.bytes, preferred_seat=-1, buy_in_amount=400),
                              domain="table", root=table)
    return build_rejection(join, reason, reactor="saga:table-saga").pages[0].command


def test_pe11_a_refused_join_releases_the_reservation():
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    event = p.dispatch(_join_refused("INVALID_ARGUMENT: Buy-in must be at least 500"))
    assert event == pb.FundsReleased(
        amount=chips(400), table_root=T, new_available_balance=chips(1000), new_reserved_balance=chips(0),
        released_at=_ts(FIXED),
    )
    assert [page.header.sequence for page in p.new_events] == [3]


def test_pe11_already_seated_keeps_the_reservation_that_backs_the_seat():
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    assert p.dispatch(_join_refused("FAILED_PRECONDITION: Player is already seated at this table")) is None
    assert list(p.new_events) == []
    assert dict(p.state.table_reservations) == {T.hex(): 400}


def test_a_refused_join_without_a_reservation_is_handled_with_no_events():
    p = player(REGISTERED, DEPOSITED_1000)
    assert p.dispatch(_join_refused("FAILED_PRECONDITION: Table is full", table=T2)) is None
    assert list(p.new_events) == []


def test_other_rejections_are_left_to_the_framework_as_dead_letters():
    release = build_command_book(pb.ReleaseFunds(table_root=T), domain="player", root=A)
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    answer = p.dispatch(build_rejection(release, "FAILED_PRECONDITION: nope").pages[0].command)
    assert isinstance(answer, command_handler_pb2.RevocationResponse)
    assert answer.emit_system_revocation
    assert list(p.new_events) == []


# -- PE12: sitting out --------------------------------------------------------------------------------


def test_pe12_sit_out_needs_a_reservation_at_the_table():
    p = player(REGISTERED, DEPOSITED_1000)
    rejected(p, p.sit_out, pb.SitOut(table_root=T), FP, "not at this table")
    seated = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    assert seated.sit_out(pb.SitOut(table_root=T)) == pb.PlayerSittingOut(table_root=T, sat_out_at=_ts(FIXED))
    assert list(seated.state.sitting_out_tables) == [T.hex()]


def test_sit_out_and_sit_in_alternate():
    out = pb.PlayerSittingOut(table_root=T)
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400, out)
    rejected(p, p.sit_out, pb.SitOut(table_root=T), FP, "already sitting out")
    assert p.sit_in(pb.SitIn(table_root=T)) == pb.PlayerReturningToPlay(table_root=T, sat_in_at=_ts(FIXED))
    assert list(p.state.sitting_out_tables) == []
    rejected(p, p.sit_in, pb.SitIn(table_root=T), FP, "not sitting out")
    rejected(p, p.sit_in, pb.SitIn(), IA, "table_root is required")


def test_releasing_a_table_clears_its_sitting_out_mark():
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400, pb.PlayerSittingOut(table_root=T))
    p.release(pb.ReleaseFunds(table_root=T))
    assert list(p.state.sitting_out_tables) == []


# -- PE13: asking a player to act ---------------------------------------------------------------------


def test_pe13_request_action_stamps_the_deadline_from_the_clock():
    p = player(REGISTERED_AI, DEPOSITED_1000, RESERVED_400)
    hole = [Card(suit=1, rank=14), Card(suit=2, rank=13)]
    event = p.request_action(pb.RequestAction(
        hand_root=R, table_root=T, amount_to_call=10, min_raise=20, max_raise=500, hole_cards=hole,
        pot_size=15, phase=PREFLOP, timeout_seconds=30,
    ))
    assert event == pb.ActionRequested(
        hand_root=R, table_root=T, player_root=A.bytes, player_type=AI, amount_to_call=10, min_raise=20,
        max_raise=500, hole_cards=hole, pot_size=15, phase=PREFLOP,
        deadline=_ts(FIXED + dt.timedelta(seconds=30)),
    )


def test_request_action_keeps_an_explicit_deadline():
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    deadline = _ts(FIXED + dt.timedelta(seconds=7))
    event = p.request_action(pb.RequestAction(hand_root=R, table_root=T, phase=PREFLOP, deadline=deadline,
                                              is_draw=True))
    assert (event.deadline, event.is_draw, event.player_type) == (deadline, True, HUMAN)


def test_request_action_validates_in_the_listed_order():
    p = player(REGISTERED, DEPOSITED_1000, RESERVED_400)
    rejected(p, p.request_action, pb.RequestAction(table_root=T, phase=PREFLOP, timeout_seconds=30), IA,
             "is required")
    rejected(p, p.request_action, pb.RequestAction(hand_root=R, phase=PREFLOP, timeout_seconds=30), IA,
             "is required")
    rejected(p, p.request_action, pb.RequestAction(hand_root=R, table_root=T, timeout_seconds=30), IA, "phase")
    rejected(p, p.request_action, pb.RequestAction(hand_root=R, table_root=T, phase=PREFLOP), IA, "positive")
    rejected(p, p.request_action, pb.RequestAction(hand_root=R, table_root=T2, phase=PREFLOP, timeout_seconds=5),
             FP, "not at this table")
    nobody = player()
    rejected(nobody, nobody.request_action, pb.RequestAction(), FP, "does not exist")


# -- PE14: rebuild ------------------------------------------------------------------------------------


def test_pe14_rebuild_takes_absolute_values_from_the_events():
    p = player(
        REGISTERED, DEPOSITED_1000, RESERVED_400,
        pb.FundsTransferred(to_player_root=A.bytes, amount=chips(250), hand_root=R, table_root=T,
                            new_balance=chips(1250), new_reserved_balance=chips(650),
                            new_available_balance=chips(600)),
        pb.ActionRequested(hand_root=R, table_root=T, player_root=A.bytes),
    )
    assert (p.bankroll_chips, p.reserved_chips, p.available_chips) == (1250, 650, 600)
    assert dict(p.state.table_reservations) == {T.hex(): 650}


def test_every_command_on_a_missing_player_is_refused_first():
    nobody = player()
    for call, command in [
        (nobody.withdraw, pb.WithdrawFunds()), (nobody.reserve, pb.ReserveFunds()),
        (nobody.release, pb.ReleaseFunds()), (nobody.transfer, pb.TransferFunds()),
        (nobody.sit_out, pb.SitOut()), (nobody.sit_in, pb.SitIn()),
    ]:
        rejected(nobody, call, command, FP, "does not exist")


def _ts(moment: dt.datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


# -- through the router, as the coordinator calls it --------------------------------------------------


def _join_from_saga(reason: str):
    """The notice a coordinator sends back when table-saga's JoinTable (caused by event 2) is refused."""
    join = build_command_book(table_pb2.JoinTable(player_root=A.bytes, preferred_seat=-1, buy_in_amount=400),
                              domain="table", root=T)
    source = join.pages[0].header.angzarr_deferred
    source.source.domain, source.source.root.value, source.source_seq = "player", A.bytes, 2
    return build_rejection(join, reason, reactor="saga:table-saga")


def test_router_compensates_a_refused_join_on_the_players_history():
    router = Router("player").with_handler(Player).build()
    history = build_event_book([REGISTERED, DEPOSITED_1000, RESERVED_400], domain="player", root=A)
    response = router.dispatch(
        build_contextual_command(_join_from_saga("INVALID_ARGUMENT: Buy-in must be at least 500"), history)
    )
    (page,) = response.events.pages
    assert page.header.sequence == 3
    released = decode_event(page, pb.FundsReleased)
    assert (released.amount, released.new_available_balance, released.new_reserved_balance) == (
        chips(400), chips(1000), chips(0)
    )


def test_router_answers_already_seated_with_an_empty_book_not_a_revocation():
    router = Router("player").with_handler(Player).build()
    history = build_event_book([REGISTERED, DEPOSITED_1000, RESERVED_400], domain="player", root=A)
    response = router.dispatch(
        build_contextual_command(_join_from_saga("FAILED_PRECONDITION: Player is already seated"), history)
    )
    assert response.WhichOneof("result") == "events"
    assert len(response.events.pages) == 0


def test_a_snapshot_is_taken_every_50_events_and_restores_the_same_state():
    deposits = [pb.FundsDeposited(amount=chips(1), new_balance=chips(n + 1)) for n in range(48)]
    p = player(REGISTERED, *deposits)  # events 0…48
    p.deposit(pb.DepositFunds(amount=chips(1)))  # event 49: the 50th
    book = p.event_book()
    assert book.snapshot.sequence == 49
    snapshot_state = unpack(book.snapshot.state, pb.PlayerState)
    assert snapshot_state == p.state and snapshot_state.bankroll == chips(49)

    restored = Player(build_event_book(
        [pb.FundsWithdrawn(amount=chips(9), new_balance=chips(40))], domain="player", root=A, start_sequence=50,
        snapshot=(49, snapshot_state),
    ))
    assert restored.bankroll_chips == 40 and restored.state.player_id == "player_alice@example.com"


def test_a_balance_beyond_int64_is_refused_not_a_crash():
    p = player(REGISTERED, pb.FundsDeposited(amount=chips(2**63 - 1), new_balance=chips(2**63 - 1)))
    rejected(p, p.deposit, pb.DepositFunds(amount=chips(1)), IA, "out of range")
