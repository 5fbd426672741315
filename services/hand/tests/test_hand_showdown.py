"""Streets, showdown and awards (spec §4.3, §4.5, §4.6; HE13, HE14, HE18, HE19, HE21–HE24, HE26, HE29–HE31)."""

from __future__ import annotations

import grpc
from hand_harness import (
    CID,
    HAND_ROOT,
    P1,
    P2,
    A,
    B,
    C,
    D,
    HandUnderTest,
    cards,
    decode,
    hu_blinds,
    names,
    three_handed_blinds,
)

from angzarr_client.errors import CommandRejectedError
from angzarr_client.testing import build_event_book
from angzarr_client.typeurl import pack
from hand.aggregate import Hand
from poker_contracts import hand_pb2 as pb
from poker_contracts.poker_types_pb2 import (
    ALL_IN,
    CALL,
    CHECK,
    FLOP,
    FOLD,
    HIGH_CARD,
    PAIR,
    RAISE,
    RIVER,
    SHOWDOWN,
    STRAIGHT,
    TURN,
)
from poker_rules.cards import parse_cards, to_protos

FP = grpc.StatusCode.FAILED_PRECONDITION
IA = grpc.StatusCode.INVALID_ARGUMENT


def assert_rejected(err, code, keyword: str) -> None:
    assert err.code == code, str(err)
    assert keyword.lower() in str(err).lower(), str(err)


def he9(hut: HandUnderTest) -> HandUnderTest:
    hut.act(P1, CALL)
    hut.act(P2, CHECK)
    return hut


def he20() -> HandUnderTest:
    hut = hu_blinds(p1_stack=100)
    hut.act(P1, ALL_IN)
    hut.act(P2, CALL)
    return hut


def run_out(hut: HandUnderTest) -> list:
    events = []
    for count in (3, 1, 1):
        events.append(hut.send(pb.DealCommunityCards(count=count)))
    return events


def winners(event) -> list[tuple]:
    return [(w.player_root, w.amount, w.pot_type) for w in event.winners]


def test_he13_flop(hu_b: HandUnderTest) -> None:
    he9(hu_b)
    [event] = hu_b.send(pb.DealCommunityCards(count=3))
    assert cards(event.cards) == "5c Kd Ad" and event.phase == FLOP
    assert cards(event.all_community_cards) == "5c Kd Ad"
    state = hu_b.state
    assert state.status == "betting" and state.action_on_position == 1 and state.current_phase == FLOP


def test_he14_street_out_of_turn(hu_b: HandUnderTest) -> None:
    hu_b.act(P1, CALL)
    assert_rejected(hu_b.reject(pb.DealCommunityCards(count=3)), FP, "Betting round is not complete")
    hu_b.act(P2, CHECK)
    assert_rejected(hu_b.reject(pb.DealCommunityCards(count=1)), FP, "Expected 3")
    assert_rejected(hu_b.reject(pb.DealCommunityCards(count=0)), IA, "positive")


def test_he21_automatic_run_out_when_all_in() -> None:
    hut = he20()
    flop_events, turn_events, river_events = run_out(hut)
    assert names(flop_events) == ["CommunityCardsDealt", "BettingRoundComplete"]
    assert flop_events[1].completed_phase == FLOP
    assert names(turn_events) == ["CommunityCardsDealt", "BettingRoundComplete"]
    assert cards(turn_events[0].cards) == "Ts" and turn_events[0].phase == TURN
    assert names(river_events) == ["CommunityCardsDealt", "BettingRoundComplete", "ShowdownStarted"]
    assert cards(river_events[0].cards) == "2d" and river_events[0].phase == RIVER
    assert list(river_events[2].players_to_show) == [P2, P1]
    state = hut.state
    assert state.status == "showdown" and state.current_phase == SHOWDOWN


def test_he22_show_order_and_muck(he21: HandUnderTest) -> None:
    assert_rejected(he21.reject(pb.RevealCards(player_root=P1)), FP, "Not your turn to show")
    assert_rejected(he21.reject(pb.RevealCards(player_root=P2, muck=True)), FP, "Cannot muck")


def test_he23_reveal_rankings(he21: HandUnderTest) -> None:
    [p2] = he21.send(pb.RevealCards(player_root=P2))
    assert cards(p2.cards) == "6c 7h"
    assert (p2.ranking.rank_type, list(p2.ranking.kickers), p2.ranking.score) == (
        HIGH_CARD, [14, 13, 10, 7, 6], 2022006)
    [p1] = he21.send(pb.RevealCards(player_root=P1))
    assert (p1.ranking.rank_type, list(p1.ranking.kickers), p1.ranking.score) == (STRAIGHT, [], 5570560)
    assert_rejected(he21.reject(pb.RevealCards(player_root=P1)), FP, "already")


def test_he24_award_after_showdown(he21: HandUnderTest) -> None:
    he21.send(pb.RevealCards(player_root=P2))
    assert_rejected(he21.reject(pb.AwardPot()), FP, "still to show")
    he21.send(pb.RevealCards(player_root=P1))
    awarded, complete = he21.send(pb.AwardPot())
    assert winners(awarded) == [(P1, 200, "main")]
    assert awarded.winners[0].winning_hand.rank_type == STRAIGHT
    assert [(s.player_root, s.stack) for s in complete.final_stacks] == [(P1, 200), (P2, 400)]
    assert he21.state.status == "complete"
    assert_rejected(he21.reject(pb.AwardPot()), FP, "already complete")


def test_he18_uncontested_award(hu_b: HandUnderTest) -> None:
    hu_b.act(P1, FOLD)
    awarded, complete = hu_b.send(pb.AwardPot())
    assert winners(awarded) == [(P2, 15, "main")] and not awarded.winners[0].HasField("winning_hand")
    assert (complete.table_root, complete.hand_number) == (hu_b.state.table_root, 1)
    assert winners(complete) == [(P2, 15, "main")]
    assert [(s.player_root, s.stack, s.has_folded) for s in complete.final_stacks] == [
        (P1, 495, True), (P2, 505, False)]


def test_he19_award_checks(hu_b: HandUnderTest) -> None:
    assert_rejected(hu_b.reject(pb.AwardPot()), FP, "not ready")
    hu_b.act(P1, FOLD)
    err = hu_b.reject(pb.AwardPot(awards=[pb.PotAward(player_root=P1, amount=15)]))
    assert_rejected(err, FP, "Folded player cannot win pot")
    assert_rejected(hu_b.reject(pb.AwardPot(awards=[pb.PotAward(player_root=C, amount=15)])), FP, "not in hand")
    assert_rejected(hu_b.reject(pb.AwardPot(awards=[pb.PotAward(player_root=P2, amount=14)])), FP, "must total")
    assert_rejected(hu_b.reject(pb.AwardPot(awards=[pb.PotAward(player_root=b"", amount=15)])), IA, "player_root")
    assert_rejected(hu_b.reject(pb.AwardPot(awards=[pb.PotAward(player_root=P2, amount=0)])), IA, "positive")
    awarded, _ = hu_b.send(pb.AwardPot(awards=[pb.PotAward(player_root=P2, amount=15)]))
    assert winners(awarded) == [(P2, 15, "main")]


def test_he26_side_pot_returns_uncalled_chips() -> None:
    hut = hu_blinds(p2_stack=100)
    hut.act(P1, RAISE, 300)
    hut.act(P2, CALL)
    run_out(hut)
    hut.send(pb.RevealCards(player_root=P2))
    hut.send(pb.RevealCards(player_root=P1))
    awarded, complete = hut.send(pb.AwardPot())
    assert winners(awarded) == [(P1, 200, "main"), (P1, 200, "side-1")]
    assert [(s.player_root, s.stack) for s in complete.final_stacks] == [(P1, 600), (P2, 0)]


def test_he29_muck_once_the_pot_has_a_shown_hand() -> None:
    hut = three_handed_blinds()
    hut.act(C, RAISE, 30)
    hut.act(A, FOLD)
    hut.act(B, ALL_IN)
    hut.act(C, CALL)
    *_, river = run_out(hut)
    assert list(river[-1].players_to_show) == [B, C]
    assert_rejected(hut.reject(pb.RevealCards(player_root=A)), FP, "has folded")
    [shown] = hut.send(pb.RevealCards(player_root=B))
    assert shown.ranking.rank_type == PAIR
    [mucked] = hut.send(pb.RevealCards(player_root=C, muck=True))
    assert isinstance(mucked, pb.CardsMucked) and mucked.player_root == C
    awarded, complete = hut.send(pb.AwardPot())
    assert winners(awarded) == [(B, 95, "main")] and awarded.winners[0].winning_hand.rank_type == PAIR
    assert [s.stack for s in complete.final_stacks] == [995, 95, 955]


def showdown_state(players: list[dict], board: str, dealer: int = 0) -> pb.HandState:
    """A hand placed straight into showdown with everyone live shown (for pot-layering examples)."""

    state = pb.HandState(
        hand_id="x_1", table_root=b"\x01" * 16, hand_number=1, game_variant=1, status="showdown",
        current_phase=SHOWDOWN, dealer_position=dealer, small_blind=5, big_blind=10,
        action_on_position=-1, correlation_id="hand-correlation-1",
        community_cards=to_protos(parse_cards(board)),
    )
    for p in players:
        state.players.add(
            player_root=p["root"], position=p["seat"], hole_cards=to_protos(parse_cards(p["hole"])),
            stack=p.get("stack", 0), total_invested=p["invested"], has_folded=p.get("folded", False),
            is_all_in=p.get("stack", 0) == 0, has_shown=not p.get("folded", False),
        )
        if not p.get("folded", False):
            state.show_order.append(p["root"])
    return state


def award_from(state: pb.HandState, cmd: pb.AwardPot):


    book = build_event_book([], domain="hand", root=HAND_ROOT, correlation_id=CID, snapshot=(9, state))
    agg = Hand(book)
    agg.dispatch(pack(cmd))
    return [decode(p.event) for p in agg.new_events]


def test_he30_main_and_side_pot_go_to_different_winners() -> None:
    board = "2c 7d 9h Js 3s"
    state = showdown_state(
        [
            {"root": A, "seat": 0, "hole": "Ah Ad", "invested": 100},  # pair of aces: best
            {"root": B, "seat": 1, "hole": "4c 5d", "invested": 300},  # high card
            {"root": C, "seat": 2, "hole": "Kh Kd", "invested": 300, "stack": 700},  # pair of kings
            {"root": D, "seat": 3, "hole": "Qc Qd", "invested": 50, "stack": 950, "folded": True},
        ],
        board,
    )
    awarded, complete = award_from(state, pb.AwardPot())
    assert winners(awarded) == [(A, 350, "main"), (C, 400, "side-1")]
    assert [s.stack for s in complete.final_stacks] == [350, 0, 1100, 950]


def test_he31_odd_chip_goes_clockwise_from_the_button_and_explicit_awards_must_match() -> None:
    board = "2c 7d 9h Js 3s"
    state = showdown_state(
        [
            {"root": A, "seat": 0, "hole": "Ah Kd", "invested": 10, "stack": 90},
            {"root": B, "seat": 1, "hole": "4c 5d", "invested": 5, "stack": 95, "folded": True},
            {"root": C, "seat": 2, "hole": "As Kc", "invested": 10, "stack": 90},
        ],
        board,
        dealer=0,
    )
    awarded, _ = award_from(state, pb.AwardPot())
    assert winners(awarded) == [(C, 13, "main"), (A, 12, "main")]
    try:
        award_from(state, pb.AwardPot(awards=[pb.PotAward(player_root=A, amount=13),
                                                     pb.PotAward(player_root=C, amount=12)]))
    except CommandRejectedError as err:
        assert_rejected(err, FP, "do not match")
    else:
        raise AssertionError("mismatched explicit awards were accepted")
    awarded, _ = award_from(state, pb.AwardPot(awards=[pb.PotAward(player_root=A, amount=12),
                                                              pb.PotAward(player_root=C, amount=13,
                                                                          pot_type="main")]))
    assert winners(awarded) == [(C, 13, "main"), (A, 12, "main")]


def test_reveal_outside_showdown(hu_b: HandUnderTest) -> None:
    assert_rejected(hu_b.reject(pb.RevealCards(player_root=P1)), FP, "Not in showdown")
    assert_rejected(hu_b.reject(pb.RevealCards(player_root=b"")), IA, "player_root")


def test_deal_after_complete_and_in_draw(hu_b: HandUnderTest) -> None:
    hu_b.act(P1, FOLD)
    hu_b.send(pb.AwardPot())
    assert_rejected(hu_b.reject(pb.DealCommunityCards(count=3)), FP, "complete")
