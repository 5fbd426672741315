"""TimeOutPlayer (spec §4.3, §6 timeouts; HE38, HE39)."""

from __future__ import annotations

import datetime as dt

import grpc
from hand_harness import P1, P2, T0, HandUnderTest, hu_blinds, names

from poker_contracts import hand_pb2 as pb
from poker_contracts.poker_types_pb2 import CALL, CHECK, FIVE_CARD_DRAW, FOLD, PREFLOP

FP = grpc.StatusCode.FAILED_PRECONDITION
IA = grpc.StatusCode.INVALID_ARGUMENT


def assert_rejected(err, code, keyword: str) -> None:
    assert err.code == code, str(err)
    assert keyword.lower() in str(err).lower(), str(err)


def seconds(n: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=n)


def test_he38_timeout_folds_a_player_who_owes(hu_b: HandUnderTest) -> None:
    assert hu_b.state.turn_started_at.ToDatetime(tzinfo=dt.UTC) == T0
    err = hu_b.reject(pb.TimeOutPlayer(player_root=P1), at=seconds(10))
    assert_rejected(err, FP, "not expired")
    events = hu_b.send(pb.TimeOutPlayer(player_root=P1), at=seconds(30))
    assert names(events) == ["PlayerTimedOut", "ActionTaken", "BettingRoundComplete"]
    timed_out, fold, brc = events
    assert (timed_out.player_root, timed_out.default_action) == (P1, FOLD)
    assert (fold.action, fold.amount, fold.player_stack, fold.pot_total, fold.amount_to_call) == (
        FOLD, 0, 495, 15, 10)
    assert brc.pot_total == 15 and hu_b.state.status == "awarding"


def test_he39_timeout_checks_when_nothing_is_owed(hu_b: HandUnderTest) -> None:
    t1 = seconds(5)
    hu_b.act(P1, CALL, at=t1)
    assert_rejected(hu_b.reject(pb.TimeOutPlayer(player_root=P1), at=t1 + dt.timedelta(seconds=30)), FP,
                    "Not your turn")
    events = hu_b.send(pb.TimeOutPlayer(player_root=P2), at=t1 + dt.timedelta(seconds=30))
    assert names(events) == ["PlayerTimedOut", "ActionTaken", "BettingRoundComplete"]
    assert events[0].default_action == CHECK and events[1].action == CHECK
    assert (events[2].completed_phase, events[2].pot_total) == (PREFLOP, 20)


def test_timeout_needs_a_pending_action(hu: HandUnderTest) -> None:
    assert_rejected(hu.reject(pb.TimeOutPlayer(player_root=P1), at=seconds(999)), FP, "No action is pending")
    assert_rejected(hu.reject(pb.TimeOutPlayer(player_root=b"")), IA, "player_root")


def test_timeout_in_the_draw_stands_pat() -> None:
    hut = hu_blinds(variant=FIVE_CARD_DRAW)
    hut.act(P1, CALL)
    hut.act(P2, CHECK, at=seconds(2))
    events = hut.send(pb.TimeOutPlayer(player_root=P2), at=seconds(32))
    assert names(events) == ["PlayerTimedOut", "DrawCompleted"]
    assert events[0].default_action == CHECK and events[1].cards_drawn == 0
    assert hut.state.action_on_position == 0


def test_the_table_timeout_is_used() -> None:
    from hand_harness import deal_cards

    hut = HandUnderTest()
    hut.send(deal_cards([(P1, 0, 500), (P2, 1, 500)], timeout=5))
    hut.blinds()
    assert_rejected(hut.reject(pb.TimeOutPlayer(player_root=P1), at=seconds(4.9)), FP, "not expired")
    assert names(hut.send(pb.TimeOutPlayer(player_root=P1), at=seconds(5)))[0] == "PlayerTimedOut"


def test_one_command_reads_the_clock_once() -> None:
    from hand_harness import CID, HAND_ROOT, decode

    from angzarr_client.testing import build_event_book
    from angzarr_client.typeurl import pack
    from hand.aggregate import Hand

    hut = hu_blinds()
    ticks = iter(range(100))
    agg = Hand(build_event_book(hut.history, domain="hand", root=HAND_ROOT, correlation_id=CID),
               clock=lambda: seconds(next(ticks)))
    agg.dispatch(pack(pb.PlayerAction(player_root=P1, action=FOLD)))
    fold, brc = (decode(p.event) for p in agg.new_events)
    assert fold.action_at == brc.completed_at
