"""Five-card draw (spec §4.3 RequestDraw; HE33–HE37)."""

from __future__ import annotations

import grpc
from hand_harness import P1, P2, HandUnderTest, cards, hu_blinds, names

from poker_contracts import hand_pb2 as pb
from poker_contracts.poker_types_pb2 import ALL_IN, CALL, CHECK, DRAW, FIVE_CARD_DRAW, PREFLOP

FP = grpc.StatusCode.FAILED_PRECONDITION
IA = grpc.StatusCode.INVALID_ARGUMENT


def assert_rejected(err, code, keyword: str) -> None:
    assert err.code == code, str(err)
    assert keyword.lower() in str(err).lower(), str(err)


def he33(hut: HandUnderTest) -> list:
    hut.blinds()
    hut.act(P1, CALL)
    return hut.act(P2, CHECK)


def draw(player_root: bytes, *indices: int) -> pb.RequestDraw:
    return pb.RequestDraw(player_root=player_root, card_indices=list(indices))


def test_dr_fixture_deal(dr: HandUnderTest) -> None:
    [event] = dr.history
    hole = {pc.player_root: cards(pc.cards) for pc in event.player_cards}
    assert hole == {P2: "6c 7h 5c Ad 2d", P1: "3s 4c Kd Ts Qd"}
    assert len(event.remaining_deck) == 42 and cards(event.remaining_deck[:2]) == "5s 3h"


def test_he33_preflop_round_then_the_draw(dr: HandUnderTest) -> None:
    check, brc = he33(dr)
    assert (brc.completed_phase, brc.pot_total) == (PREFLOP, 20)
    state = dr.state
    assert state.status == "drawing" and state.current_phase == DRAW and state.action_on_position == 1


def test_he34_draw_checks(dr: HandUnderTest) -> None:
    he33(dr)
    assert_rejected(dr.reject(draw(P1)), FP, "Not your turn")
    assert_rejected(dr.reject(draw(P2, 1, 1)), IA, "duplicate")
    assert_rejected(dr.reject(draw(P2, 5)), IA, "Invalid card index")
    assert_rejected(dr.reject(draw(P2, -1)), IA, "Invalid card index")
    assert_rejected(dr.reject(draw(P2, 0, 1, 2, 3, 4, 0)), IA, "more than 5")
    assert_rejected(dr.reject(draw(b"")), IA, "player_root")


def test_draw_before_the_draw(dr: HandUnderTest) -> None:
    dr.blinds()
    assert_rejected(dr.reject(draw(P1)), FP, "Not in the draw")


def test_he35_draw_replaces_in_place(dr: HandUnderTest) -> None:
    he33(dr)
    [event] = dr.send(draw(P2, 3, 1))
    assert (event.player_root, event.cards_discarded, event.cards_drawn) == (P2, 2, 2)
    assert cards(event.new_cards) == "5s 3h" and list(event.card_indices) == [1, 3]
    assert cards(event.discarded_cards) == "7h Ad"
    assert cards(dr.player(P2).hole_cards) == "6c 5s 5c 3h 2d"
    assert dr.state.action_on_position == 0 and dr.state.status == "drawing"


def test_he36_last_draw_opens_the_draw_betting(dr: HandUnderTest) -> None:
    he33(dr)
    dr.send(draw(P2, 3, 1))
    [event] = dr.send(draw(P1))
    assert (event.cards_discarded, event.cards_drawn, list(event.new_cards)) == (0, 0, [])
    state = dr.state
    assert state.status == "betting" and state.current_phase == DRAW and state.action_on_position == 1
    assert len(state.remaining_deck) == 40


def test_draw_betting_round_ends_in_showdown(dr: HandUnderTest) -> None:
    he33(dr)
    dr.send(draw(P2, 3, 1))
    dr.send(draw(P1))
    dr.act(P2, CHECK)
    check, brc, showdown = dr.act(P1, CHECK)
    assert brc.completed_phase == DRAW and list(showdown.players_to_show) == [P2, P1]
    dr.send(pb.RevealCards(player_root=P2))
    dr.send(pb.RevealCards(player_root=P1))
    awarded, _ = dr.send(pb.AwardPot())
    # P2 holds a pair of fives after the draw; P1 king high.
    assert [(w.player_root, w.amount) for w in awarded.winners] == [(P2, 20)]


def test_all_in_players_still_draw_and_betting_is_skipped() -> None:
    hut = hu_blinds(p1_stack=100, variant=FIVE_CARD_DRAW)
    hut.act(P1, ALL_IN)
    hut.act(P2, CALL)
    assert hut.state.status == "drawing" and hut.state.action_on_position == 1
    hut.send(draw(P2))
    events = hut.send(draw(P1, 0))
    assert names(events) == ["DrawCompleted", "BettingRoundComplete", "ShowdownStarted"]
    assert events[1].completed_phase == DRAW


def test_he37_draw_and_board_do_not_mix(hu_b: HandUnderTest, dr: HandUnderTest) -> None:
    assert_rejected(hu_b.reject(draw(P1, 0)), IA, "not supported")
    assert_rejected(dr.reject(pb.DealCommunityCards(count=3)), IA, "community cards")
