"""The table aggregate against the behaviour examples TE1–TE21 (spec poker §9) and the §3 check order."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from angzarr_client import CommandRejectedError, pack
from angzarr_client.testing import build_command_book, build_event_book, build_rejection, uuid_for
from poker_contracts import hand_pb2
from poker_contracts import table_pb2 as pb
from poker_contracts.poker_types_pb2 import FIVE_CARD_DRAW, OMAHA, SEVEN_CARD_STUD, TEXAS_HOLDEM
from poker_rules.roots import poker_root
from table import Table

T_ROOT = poker_root("table", "main")
P1, P2, P3, P4 = (uuid_for(f"player {n}").bytes for n in range(1, 5))
FIXED = dt.datetime(2026, 3, 1, 20, 0, 0, tzinfo=dt.UTC)
FP, IA = grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT
HAND_1 = bytes.fromhex("d6fd3c29da1b58458453e4fe043a2cfe")
HAND_2 = bytes.fromhex("7cdc8160bf5c5060b7d096c4982d9ae1")
DERIVED_SEED_1 = bytes.fromhex("c21eb11d309dd8e16836397c14ec913ab00ffe1177d72713501b5a729b6d78c9")

CREATED = pb.TableCreated(
    table_name="Main", game_variant=TEXAS_HOLDEM, small_blind=5, big_blind=10, min_buy_in=200, max_buy_in=1000,
    max_players=9, action_timeout_seconds=30,
)


def joined(player: bytes, seat: int, amount: int = 500) -> pb.PlayerJoined:
    return pb.PlayerJoined(player_root=player, seat_position=seat, buy_in_amount=amount, stack=amount)


def seat(position: int, player: bytes, stack: int = 500) -> pb.SeatSnapshot:
    return pb.SeatSnapshot(position=position, player_root=player, stack=stack)


THREE_SEATED = (CREATED, joined(P1, 0), joined(P2, 3), joined(P3, 5))
HAND_1_STARTED = pb.HandStarted(
    hand_root=HAND_1, hand_number=1, dealer_position=0, small_blind_position=3, big_blind_position=5,
    active_players=[seat(0, P1), seat(3, P2), seat(5, P3)], game_variant=TEXAS_HOLDEM, small_blind=5,
    big_blind=10, deck_seed=DERIVED_SEED_1, action_timeout_seconds=30,
)
TE12 = (*THREE_SEATED, HAND_1_STARTED)
HAND_1_ENDED_EVEN = pb.HandEnded(hand_root=HAND_1, stack_changes={P1.hex(): 0, P2.hex(): 0, P3.hex(): 0})


def table(*history) -> Table:
    t = Table(build_event_book(history, domain="table", root=T_ROOT))
    t.clock = lambda: FIXED
    return t


def rejected(t: Table, call, command, code: grpc.StatusCode, keyword: str) -> None:
    before = (list(t.new_events), t.state.SerializeToString(deterministic=True))
    with pytest.raises(CommandRejectedError) as raised:
        call(command)
    assert raised.value.code == code
    assert keyword.lower() in str(raised.value).lower()
    assert (list(t.new_events), t.state.SerializeToString(deterministic=True)) == before, "a rejection emits nothing"


def stacks(t: Table) -> dict[int, int]:
    return {s.position: s.stack.amount for s in t.state.seats}


# -- TE1–TE3: creation ------------------------------------------------------------------------------


def test_te1_create_fills_in_the_defaults():
    t = table()
    event = t.create(pb.CreateTable(table_name="Main", game_variant=TEXAS_HOLDEM, small_blind=5, big_blind=10))
    expected = pb.TableCreated()
    expected.CopyFrom(CREATED)
    expected.created_at.CopyFrom(_ts(FIXED))
    assert event == expected
    assert (t.state.table_id, t.state.status) == ("table_Main", "waiting")


def test_draw_tables_default_to_five_seats():
    t = table()
    event = t.create(pb.CreateTable(table_name="D", game_variant=FIVE_CARD_DRAW, small_blind=1, big_blind=2,
                                    min_buy_in=10, action_timeout_seconds=5))
    assert (event.max_players, event.min_buy_in, event.max_buy_in, event.action_timeout_seconds) == (5, 10, 200, 5)


def test_te2_create_twice_is_refused():
    t = table(CREATED)
    rejected(t, t.create, pb.CreateTable(table_name="Main", game_variant=TEXAS_HOLDEM, small_blind=5, big_blind=10),
             FP, "already exists")


def _create(**fields) -> pb.CreateTable:
    base = dict(table_name="Main", game_variant=TEXAS_HOLDEM, small_blind=5, big_blind=10)
    return pb.CreateTable(**{**base, **fields})


@pytest.mark.parametrize(
    ("command", "keyword"),
    [
        (_create(small_blind=10, big_blind=5), "big_blind must be at least small_blind"),  # TE3
        (_create(game_variant=FIVE_CARD_DRAW, max_players=6), "between"),  # TE3
        (_create(game_variant=SEVEN_CARD_STUD), "not supported"),  # TE3
        (_create(table_name=" "), "table_name is required"),
        (_create(table_name="", game_variant=SEVEN_CARD_STUD), "table_name is required"),
        (_create(game_variant=0), "not supported"),
        (_create(small_blind=0), "positive"),
        (_create(big_blind=-1, small_blind=-2), "positive"),
        (_create(max_players=1), "between"),
        (_create(max_players=11), "between"),
        (_create(max_players=-3), "between"),
        (_create(min_buy_in=-1), "negative"),
        (_create(action_timeout_seconds=-1), "negative"),
        (_create(min_buy_in=500, max_buy_in=400), "min_buy_in"),
        (_create(min_buy_in=2000), "min_buy_in"),
        (_create(action_timeout_seconds=3601), "action_timeout_seconds"),
        (_create(small_blind=2**62, big_blind=2**62), "out of range"),
    ],
)
def test_te3_create_validates_in_the_listed_order(command, keyword):
    t = table()
    rejected(t, t.create, command, IA, keyword)


def test_omaha_with_ten_seats_and_an_hour_to_act_is_accepted():
    event = table().create(_create(game_variant=OMAHA, max_players=10, action_timeout_seconds=3600))
    assert (event.game_variant, event.max_players, event.action_timeout_seconds) == (OMAHA, 10, 3600)


# -- TE4–TE9: joining -------------------------------------------------------------------------------


def test_te4_join_takes_the_preferred_seat():
    t = table(CREATED)
    event = t.join(pb.JoinTable(player_root=P1, preferred_seat=3, buy_in_amount=500))
    assert event == pb.PlayerJoined(player_root=P1, seat_position=3, buy_in_amount=500, stack=500,
                                    joined_at=_ts(FIXED))
    assert stacks(t) == {3: 500}


def test_te5_any_seat_is_the_lowest_free_one():
    t = table(CREATED, joined(P1, 0))
    assert t.join(pb.JoinTable(player_root=P2, preferred_seat=-1, buy_in_amount=500)).seat_position == 1


def test_te6_te7_occupied_seat_and_double_join_are_refused():
    t = table(CREATED, joined(P1, 3))
    rejected(t, t.join, pb.JoinTable(player_root=P2, preferred_seat=3, buy_in_amount=500), FP, "Seat 3 is occupied")
    t = table(CREATED, joined(P1, 0))
    rejected(t, t.join, pb.JoinTable(player_root=P1, preferred_seat=-1, buy_in_amount=500), FP, "already seated")


def test_te8_buy_in_limits():
    t = table(CREATED)
    rejected(t, t.join, pb.JoinTable(player_root=P1, buy_in_amount=100), IA, "Buy-in must be at least 200")
    rejected(t, t.join, pb.JoinTable(player_root=P1, buy_in_amount=5000), IA, "Buy-in cannot exceed 1000")


def test_te9_full_table_and_missing_table():
    two_seats = pb.TableCreated()
    two_seats.CopyFrom(CREATED)
    two_seats.max_players = 2
    t = table(two_seats, joined(P1, 0), joined(P2, 1))
    rejected(t, t.join, pb.JoinTable(player_root=P3, preferred_seat=-1, buy_in_amount=500), FP, "Table is full")
    nothing = table()
    rejected(nothing, nothing.join, pb.JoinTable(player_root=P3, buy_in_amount=500), FP, "does not exist")


@pytest.mark.parametrize(
    ("command", "keyword"),
    [
        (pb.JoinTable(buy_in_amount=500), "player_root is required"),
        (pb.JoinTable(player_root=b"abc", buy_in_amount=500), "player_root"),
        (pb.JoinTable(player_root=P1, buy_in_amount=0, preferred_seat=99), "positive"),
        (pb.JoinTable(player_root=P1, buy_in_amount=100, preferred_seat=9), "preferred_seat"),
        (pb.JoinTable(player_root=P1, buy_in_amount=100, preferred_seat=-2), "preferred_seat"),
    ],
)
def test_join_validates_in_the_listed_order(command, keyword):
    t = table(CREATED)
    rejected(t, t.join, command, IA, keyword)


def test_joining_mid_hand_is_allowed_and_plays_from_the_next_hand():
    t = table(CREATED, joined(P1, 0), joined(P2, 3), HAND_1_STARTED)
    assert t.join(pb.JoinTable(player_root=P3, preferred_seat=5, buy_in_amount=500)).seat_position == 5
    assert [p.position for p in t.state.hand_players] == [0, 3, 5]  # the started hand is unchanged


# -- TE10, TE11: leaving ----------------------------------------------------------------------------


def test_te10_leave_cashes_out_the_stack():
    t = table(CREATED, joined(P1, 0))
    assert t.leave(pb.LeaveTable(player_root=P1)) == pb.PlayerLeft(
        player_root=P1, seat_position=0, chips_cashed_out=500, left_at=_ts(FIXED)
    )
    assert stacks(t) == {}
    rejected(t, t.leave, pb.LeaveTable(player_root=P4), FP, "not seated")
    rejected(t, t.leave, pb.LeaveTable(), IA, "player_root is required")


def test_te11_participants_cannot_leave_during_a_hand_but_late_joiners_can():
    heads_up_started = pb.HandStarted(hand_root=HAND_1, hand_number=1, active_players=[seat(0, P1), seat(3, P2)])
    t = table(CREATED, joined(P1, 0), joined(P2, 3), heads_up_started, joined(P3, 5))
    rejected(t, t.leave, pb.LeaveTable(player_root=P1), FP, "during a hand")
    assert t.leave(pb.LeaveTable(player_root=P3)).player_root == P3


# -- TE12–TE15, TE19: starting hands ----------------------------------------------------------------


def test_te12_start_hand_derives_root_button_blinds_and_seed():
    t = table(*THREE_SEATED)
    event = t.start_hand(pb.StartHand())
    expected = pb.HandStarted()
    expected.CopyFrom(HAND_1_STARTED)
    expected.started_at.CopyFrom(_ts(FIXED))
    assert event == expected
    assert (t.state.status, t.state.hand_count, t.state.current_hand_root) == ("in_hand", 1, HAND_1)


def test_an_explicit_seed_is_passed_on():
    event = table(*THREE_SEATED).start_hand(pb.StartHand(deck_seed=b"e2e-1"))
    assert event.deck_seed == b"e2e-1"


def test_te13_the_button_moves_clockwise():
    t = table(*TE12, HAND_1_ENDED_EVEN)
    event = t.start_hand(pb.StartHand())
    assert (event.hand_root, event.hand_number) == (HAND_2, 2)
    assert (event.dealer_position, event.small_blind_position, event.big_blind_position) == (3, 5, 0)


def test_te14_heads_up_the_button_posts_the_small_blind():
    event = table(CREATED, joined(P1, 0), joined(P2, 3)).start_hand(pb.StartHand())
    assert (event.dealer_position, event.small_blind_position, event.big_blind_position) == (0, 0, 3)


def test_te15_start_needs_two_players_and_no_running_hand():
    t = table(CREATED, joined(P1, 0))
    rejected(t, t.start_hand, pb.StartHand(), FP, "Not enough players")
    t = table(*TE12)
    rejected(t, t.start_hand, pb.StartHand(), FP, "already in progress")
    nothing = table()
    rejected(nothing, nothing.start_hand, pb.StartHand(), FP, "does not exist")


def test_te19_players_sitting_out_are_skipped():
    t = table(*TE12, HAND_1_ENDED_EVEN, pb.PlayerSatOut(player_root=P3))
    event = t.start_hand(pb.StartHand())
    assert [p.position for p in event.active_players] == [0, 3]
    assert (event.dealer_position, event.small_blind_position, event.big_blind_position) == (3, 3, 0)


def test_empty_stacks_are_not_dealt_in():
    t = table(CREATED, joined(P1, 0), joined(P2, 3), pb.ChipsAdded(player_root=P2, new_stack=0))
    rejected(t, t.start_hand, pb.StartHand(), FP, "Not enough players")


# -- TE16–TE18: ending hands ------------------------------------------------------------------------


def test_te16_end_hand_settles_the_stacks():
    t = table(*TE12)
    results = [pb.PotResult(winner_root=P2, amount=300, pot_type="main")]
    events = t.end_hand(pb.EndHand(hand_root=HAND_1, results=results,
                                   final_stacks=[seat(0, P1, 400), seat(3, P2, 800), seat(5, P3, 300)]))
    assert events == (pb.HandEnded(
        hand_root=HAND_1, results=results, stack_changes={P1.hex(): -100, P2.hex(): 300, P3.hex(): -200},
        ended_at=_ts(FIXED),
    ),)
    assert stacks(t) == {0: 400, 3: 800, 5: 300}
    assert (t.state.status, t.state.current_hand_root, list(t.state.hand_players)) == ("waiting", b"", [])


def test_te17_busted_players_leave_in_seat_order():
    t = table(*TE12)
    events = t.end_hand(pb.EndHand(hand_root=HAND_1,
                                   final_stacks=[seat(5, P3, 500), seat(3, P2, 1000), seat(0, P1, 0)]))
    ended, left = events
    assert dict(ended.stack_changes) == {P1.hex(): -500, P2.hex(): 500, P3.hex(): 0}
    assert left == pb.PlayerLeft(player_root=P1, seat_position=0, chips_cashed_out=0, left_at=_ts(FIXED))
    assert stacks(t) == {3: 1000, 5: 500}
    assert [p.header.sequence for p in t.new_events] == [5, 6]


def test_te18_unbalanced_foreign_or_unexpected_end_hand_is_refused():
    t = table(*TE12)
    finals = [seat(0, P1, 500), seat(3, P2, 600), seat(5, P3, 500)]
    rejected(t, t.end_hand, pb.EndHand(hand_root=HAND_1, final_stacks=finals), FP, "do not balance")
    rejected(t, t.end_hand, pb.EndHand(hand_root=HAND_2, final_stacks=finals), FP, "Hand root mismatch")
    idle = table(*THREE_SEATED)
    rejected(idle, idle.end_hand, pb.EndHand(hand_root=HAND_1, final_stacks=finals), FP, "No hand in progress")


@pytest.mark.parametrize(
    ("command", "code", "keyword"),
    [
        (pb.EndHand(final_stacks=[seat(0, P1)]), IA, "hand_root is required"),
        (pb.EndHand(hand_root=HAND_1, final_stacks=[seat(0, b"")]), IA, "player root"),
        (pb.EndHand(hand_root=HAND_1, results=[pb.PotResult(amount=5)]), IA, "player root"),
        (pb.EndHand(hand_root=HAND_1, final_stacks=[seat(0, P1, -1)]), IA, "negative"),
        (pb.EndHand(hand_root=HAND_1, final_stacks=[seat(0, P1, 1000), seat(3, P2, 500)]), FP, "participant"),
        (pb.EndHand(hand_root=HAND_1, final_stacks=[seat(0, P1, 500), seat(3, P2, 500), seat(5, P3, 400),
                                                    seat(5, P3, 100)]), FP, "participant"),
        (pb.EndHand(hand_root=HAND_1, final_stacks=[seat(0, P1, 500), seat(3, P2, 500), seat(7, P4, 500)]),
         FP, "participant"),
    ],
)
def test_end_hand_validates_in_the_listed_order(command, code, keyword):
    t = table(*TE12)
    rejected(t, t.end_hand, command, code, keyword)


def test_legacy_end_hand_reads_results_as_net_changes():
    t = table(*TE12)
    results = [pb.PotResult(winner_root=P2, amount=150), pb.PotResult(winner_root=P1, amount=-150)]
    (ended,) = t.end_hand(pb.EndHand(hand_root=HAND_1, results=results))
    assert dict(ended.stack_changes) == {P1.hex(): -150, P2.hex(): 150, P3.hex(): 0}
    assert stacks(t) == {0: 350, 3: 650, 5: 500}


def test_legacy_end_hand_applies_the_same_checks():
    t = table(*TE12)
    rejected(t, t.end_hand, pb.EndHand(hand_root=HAND_1, results=[pb.PotResult(winner_root=P2, amount=10)]),
             FP, "do not balance")
    rejected(t, t.end_hand, pb.EndHand(hand_root=HAND_1, results=[pb.PotResult(winner_root=P4, amount=0)]),
             FP, "participant")
    overdrawn = [pb.PotResult(winner_root=P2, amount=600), pb.PotResult(winner_root=P1, amount=-600)]
    rejected(t, t.end_hand, pb.EndHand(hand_root=HAND_1, results=overdrawn), FP, "negative")


# -- TE20: top-ups ----------------------------------------------------------------------------------


def test_te20_add_chips_is_not_supported():
    t = table(CREATED, joined(P1, 0))
    rejected(t, t.add_chips, pb.AddChips(player_root=P1, amount=100), FP, "not supported")
    nothing = table()
    rejected(nothing, nothing.add_chips, pb.AddChips(player_root=P1, amount=100), FP, "does not exist")


# -- TE21 and facts: rebuild ------------------------------------------------------------------------


def test_te21_rebuild_restores_seats_and_the_running_hand():
    heads_up = pb.HandStarted(hand_root=HAND_1, hand_number=1, dealer_position=0,
                              active_players=[seat(0, P1), seat(3, P2)])
    t = table(CREATED, joined(P1, 0), joined(P2, 3), heads_up)
    assert [s.position for s in t.state.seats] == [0, 3]
    assert (t.state.status, t.state.hand_count) == ("in_hand", 1)
    assert [p.position for p in t.state.hand_players] == [0, 3]


def test_sit_out_facts_toggle_seated_players_and_ignore_others():
    t = table(CREATED, joined(P1, 0), joined(P2, 3))
    t.dispatch(pack(pb.PlayerSatOut(player_root=P2)))
    t.dispatch(pack(pb.PlayerSatOut(player_root=P4)))  # not seated: no effect, still recorded
    assert [s.is_sitting_out for s in t.state.seats] == [False, True]
    t.dispatch(pack(pb.PlayerSatIn(player_root=P2)))
    assert [s.is_sitting_out for s in t.state.seats] == [False, False]
    assert len(t.new_events) == 3
    rebuilt = table(CREATED, joined(P1, 0), joined(P2, 3), pb.PlayerSatOut(player_root=P2))
    assert [s.is_sitting_out for s in rebuilt.state.seats] == [False, True]


def test_rebuild_from_the_emitted_events_equals_the_live_state():
    live = table()
    live.create(_create(min_buy_in=200, max_buy_in=1000))
    for player, position in ((P1, -1), (P2, 4), (P3, -1)):
        live.join(pb.JoinTable(player_root=player, preferred_seat=position, buy_in_amount=500))
    started = live.start_hand(pb.StartHand())
    live.end_hand(pb.EndHand(hand_root=started.hand_root, final_stacks=[
        seat(0, P1, 0), seat(1, P3, 900), seat(4, P2, 600)]))
    live.start_hand(pb.StartHand(deck_seed=b"x"))
    rebuilt = table(*live.new_events)
    assert rebuilt.state == live.state
    assert [s.position for s in live.state.seats] == [1, 4]


# -- compensation -----------------------------------------------------------------------------------


def _deal_refused(hand_root: bytes) -> object:
    deal = build_command_book(hand_pb2.DealCards(table_root=T_ROOT, hand_number=1), domain="hand", root=hand_root)
    return build_rejection(deal, "INVALID_ARGUMENT: at least 2 players", reactor="saga:table-saga").pages[0].command


def test_a_refused_deal_aborts_the_running_hand_with_no_chips_moved():
    t = table(*TE12)
    event = t.dispatch(_deal_refused(HAND_1))
    assert event == pb.HandEnded(
        hand_root=HAND_1, stack_changes={P1.hex(): 0, P2.hex(): 0, P3.hex(): 0}, ended_at=_ts(FIXED)
    )
    assert (t.state.status, stacks(t)) == ("waiting", {0: 500, 3: 500, 5: 500})


def test_a_refused_deal_for_another_hand_changes_nothing():
    t = table(*TE12)
    assert t.dispatch(_deal_refused(HAND_2)) is None
    idle = table(*TE12, HAND_1_ENDED_EVEN)
    assert idle.dispatch(_deal_refused(HAND_1)) is None
    assert list(t.new_events) == list(idle.new_events) == []


def _ts(moment: dt.datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts
