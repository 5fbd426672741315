"""Blinds and betting (spec §4.3 PostBlind, §4.4; HE5–HE12, HE15–HE17, HE20, HE25, HE27, HE28, HE32)."""

from __future__ import annotations

import grpc
from hand_harness import P1, P2, A, B, C, HandUnderTest, hu_blinds, hu_hand, names

from poker_contracts import hand_pb2 as pb
from poker_contracts.poker_types_pb2 import ALL_IN, BET, CALL, CHECK, FOLD, PREFLOP, RAISE

FP = grpc.StatusCode.FAILED_PRECONDITION
IA = grpc.StatusCode.INVALID_ARGUMENT


def taken(event: pb.ActionTaken) -> tuple:
    return (event.action, event.amount, event.player_stack, event.pot_total, event.amount_to_call)


def blind(player_root: bytes, blind_type: str, amount: int) -> pb.PostBlind:
    return pb.PostBlind(player_root=player_root, blind_type=blind_type, amount=amount)


def assert_rejected(err, code, keyword: str) -> None:
    assert err.code == code, str(err)
    assert keyword.lower() in str(err).lower(), str(err)


# -- blinds ---------------------------------------------------------------------------------------


def test_he5_blinds_post_and_betting_starts_with_the_button(hu: HandUnderTest) -> None:
    [small] = hu.send(blind(P1, "small", 5))
    assert (small.amount, small.player_stack, small.pot_total, small.blind_type) == (5, 495, 5, "small")
    [big] = hu.send(blind(P2, "big", 10))
    assert (big.amount, big.player_stack, big.pot_total) == (10, 490, 15)
    state = hu.state
    assert state.status == "betting" and state.action_on_position == 0
    assert (state.current_bet, state.min_raise) == (10, 10)


def test_he6_blinds_out_of_order(hu: HandUnderTest) -> None:
    assert_rejected(hu.reject(blind(P2, "big", 10)), FP, "small blind must be posted first")
    assert_rejected(hu.reject(blind(P2, "small", 5)), FP, "is not the small blind")


def test_blind_checks(hu: HandUnderTest) -> None:
    assert_rejected(hu.reject(blind(b"", "small", 5)), IA, "player_root")
    assert_rejected(hu.reject(blind(P1, "ante", 5)), IA, "blind_type")
    assert_rejected(hu.reject(blind(P1, "small", 0)), IA, "positive")
    assert_rejected(hu.reject(blind(C, "small", 5)), FP, "not in hand")
    assert_rejected(hu.reject(blind(P1, "small", 4)), FP, "must be 5")
    hu.send(blind(P1, "small", 5))
    assert_rejected(hu.reject(blind(P1, "small", 5)), FP, "already posted")
    assert_rejected(hu.reject(blind(P1, "big", 10)), FP, "is not the big blind")
    hu.send(blind(P2, "big", 10))
    assert_rejected(hu.reject(blind(P2, "big", 10)), FP, "already posted")


def test_he7_short_small_blind_goes_all_in_and_the_round_ends_at_once() -> None:
    hut = hu_hand(p1_stack=3)
    [small] = hut.send(blind(P1, "small", 5))
    assert (small.amount, small.player_stack, small.pot_total) == (3, 0, 3)
    big, brc = hut.send(blind(P2, "big", 10))
    assert (big.amount, big.player_stack, big.pot_total) == (10, 490, 13)
    assert isinstance(brc, pb.BettingRoundComplete)
    assert (brc.completed_phase, brc.pot_total) == (PREFLOP, 13)
    assert [(s.position, s.stack, s.is_all_in, s.has_folded) for s in brc.stacks] == [
        (0, 0, True, False), (1, 490, False, False)]
    assert hut.state.status == "dealing"


def test_short_big_blind_still_sets_the_full_level() -> None:
    hut = hu_hand(p2_stack=7)
    hut.blinds()
    state = hut.state
    assert (state.current_bet, state.min_raise) == (10, 10)
    assert hut.player(P2).is_all_in and hut.player(P2).stack == 0
    # P1 is the only actor and owes 5: call or fold only.
    assert_rejected(hut.reject(pb.PlayerAction(player_root=P1, action=RAISE, amount=20)), FP, "only call or fold")
    [call, brc] = hut.act(P1, CALL)
    assert taken(call) == (CALL, 5, 490, 17, 10) and brc.pot_total == 17


# -- betting --------------------------------------------------------------------------------------


def test_he8_call(hu_b: HandUnderTest) -> None:
    [event] = hu_b.act(P1, CALL)
    assert taken(event) == (CALL, 5, 490, 20, 10)
    assert hu_b.state.action_on_position == 1


def test_he9_check_ends_the_round(hu_b: HandUnderTest) -> None:
    hu_b.act(P1, CALL)
    check, brc = hu_b.act(P2, CHECK)
    assert taken(check) == (CHECK, 0, 490, 20, 10)
    assert (brc.completed_phase, brc.pot_total) == (PREFLOP, 20)
    state = hu_b.state
    assert state.status == "dealing" and state.action_on_position == -1 and state.current_bet == 0


def test_he10_turn_check_and_correlation(hu_b: HandUnderTest) -> None:
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P2, action=CHECK)), FP, "Not your turn")
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P1, action=CHECK)), IA, "cannot check")
    err = hu_b.reject(pb.PlayerAction(player_root=P1, action=CALL), correlation_id="another-hand")
    assert_rejected(err, FP, "correlation id")


def test_correlation_is_checked_before_other_checks(hu_b: HandUnderTest) -> None:
    err = hu_b.reject(pb.PlayerAction(player_root=b"", action=99), correlation_id="")
    assert_rejected(err, FP, "correlation id")


def test_commands_before_the_deal_find_no_hand() -> None:
    for cmd in (pb.PlayerAction(player_root=P1, action=CALL), pb.PostBlind(), pb.DealCommunityCards(count=3),
                pb.RequestDraw(), pb.RevealCards(), pb.AwardPot(), pb.TimeOutPlayer(player_root=P1)):
        assert_rejected(HandUnderTest().reject(cmd), FP, "does not exist")


def test_common_action_checks(hu_b: HandUnderTest) -> None:
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=b"", action=CALL)), IA, "player_root")
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P1, action=0)), IA, "Invalid action")
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P1, action=7)), IA, "Invalid action")
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P1, action=BET, amount=-1)), IA, "negative")
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=C, action=CALL)), FP, "not in hand")
    hut = hu_hand()
    assert_rejected(hut.reject(pb.PlayerAction(player_root=P1, action=CALL)), FP, "Not in betting phase")


def test_he11_raise_bounds(hu_b: HandUnderTest) -> None:
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P1, action=RAISE, amount=15)), IA,
                    "Raise must be at least 20")
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P1, action=BET, amount=20)), FP, "already a bet")
    [event] = hu_b.act(P1, RAISE, 30)
    assert taken(event) == (RAISE, 30, 470, 40, 30)
    assert hu_b.state.min_raise == 20


def test_he12_reraise_must_be_a_full_raise(hu_b: HandUnderTest) -> None:
    hu_b.act(P1, RAISE, 30)
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P2, action=RAISE, amount=45)), IA, "at least 50")
    [event] = hu_b.act(P2, RAISE, 50)
    assert taken(event) == (RAISE, 50, 450, 80, 50)


def test_raise_beyond_the_stack(hu_b: HandUnderTest) -> None:
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P1, action=RAISE, amount=501)), FP, "exceeds stack")
    [event] = hu_b.act(P1, RAISE, 500)
    assert taken(event) == (ALL_IN, 500, 0, 510, 500)


def flop(hut: HandUnderTest) -> HandUnderTest:
    hut.act(P1, CALL)
    hut.act(P2, CHECK)
    hut.send(pb.DealCommunityCards(count=3))
    return hut


def test_he15_flop_bets(hu_b: HandUnderTest) -> None:
    flop(hu_b)
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P2, action=BET, amount=5)), IA,
                    "Bet must be at least 10")
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P2, action=BET, amount=491)), FP, "exceeds stack")
    [event] = hu_b.act(P2, BET, 20)
    assert taken(event) == (BET, 20, 470, 40, 20)
    assert hu_b.state.min_raise == 20 and hu_b.state.action_on_position == 0


def test_he16_nothing_to_call_and_no_bet_to_raise(hu_b: HandUnderTest) -> None:
    flop(hu_b)
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P2, action=CALL)), FP, "Nothing to call")
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P2, action=RAISE, amount=20)), FP, "no bet")


def test_flop_round_with_bet_and_call(hu_b: HandUnderTest) -> None:
    flop(hu_b)
    hu_b.act(P2, CHECK)
    hu_b.act(P1, BET, 10)
    call, brc = hu_b.act(P2, CALL)
    assert taken(call) == (CALL, 10, 480, 40, 10)
    assert brc.pot_total == 40 and hu_b.state.status == "dealing"


def test_he17_fold_leaves_one_live_player(hu_b: HandUnderTest) -> None:
    fold, brc = hu_b.act(P1, FOLD)
    assert taken(fold) == (FOLD, 0, 495, 15, 10)
    assert (brc.completed_phase, brc.pot_total) == (PREFLOP, 15)
    assert hu_b.state.status == "awarding"


def test_fold_is_allowed_when_a_check_is_possible(hu_b: HandUnderTest) -> None:
    hu_b.act(P1, CALL)
    [fold, brc] = hu_b.act(P2, FOLD)
    assert fold.action == FOLD and isinstance(brc, pb.BettingRoundComplete)
    assert_rejected(hu_b.reject(pb.PlayerAction(player_root=P2, action=CHECK)), FP, "Not in betting phase")


def test_folded_and_all_in_players_cannot_act() -> None:
    hut = hu_blinds(p1_stack=100)
    hut.act(P1, ALL_IN)
    assert_rejected(hut.reject(pb.PlayerAction(player_root=P1, action=CHECK)), FP, "all-in")
    three = HandUnderTest()
    three.history = three_handed_history()
    three.act(C, FOLD)
    assert_rejected(three.reject(pb.PlayerAction(player_root=C, action=CALL)), FP, "has folded")


def three_handed_history() -> list:
    from hand_harness import three_handed_blinds

    return three_handed_blinds().history


def test_he20_all_in_and_call() -> None:
    hut = hu_blinds(p1_stack=100)
    [shove] = hut.act(P1, ALL_IN)
    assert taken(shove) == (ALL_IN, 100, 0, 110, 100)
    call, brc = hut.act(P2, CALL)
    assert taken(call) == (CALL, 90, 400, 200, 100)
    assert (brc.completed_phase, brc.pot_total) == (PREFLOP, 200)


def test_he25_call_for_less_is_recorded_all_in() -> None:
    hut = hu_blinds(p2_stack=100)
    [raise_] = hut.act(P1, RAISE, 300)
    assert taken(raise_) == (RAISE, 300, 200, 310, 300)
    call, brc = hut.act(P2, CALL)
    assert taken(call) == (ALL_IN, 100, 0, 400, 300)
    assert (brc.completed_phase, brc.pot_total) == (PREFLOP, 400)


def test_he27_short_all_in_does_not_move_the_minimum_raise(three_handed: HandUnderTest) -> None:
    assert three_handed.state.action_on_position == 5
    [c_raise] = three_handed.act(C, RAISE, 30)
    assert taken(c_raise) == (RAISE, 30, 970, 45, 30)
    [a_fold] = three_handed.act(A, FOLD)
    assert taken(a_fold) == (FOLD, 0, 995, 45, 30)
    [b_shove] = three_handed.act(B, ALL_IN)
    assert taken(b_shove) == (ALL_IN, 45, 0, 80, 45)
    assert three_handed.state.min_raise == 20 and three_handed.state.current_bet == 45


def test_he28_betting_is_not_reopened_by_a_short_all_in(three_handed: HandUnderTest) -> None:
    three_handed.act(C, RAISE, 30)
    three_handed.act(A, FOLD)
    three_handed.act(B, ALL_IN)
    assert_rejected(three_handed.reject(pb.PlayerAction(player_root=C, action=RAISE, amount=100)), FP,
                    "only call or fold")
    assert_rejected(three_handed.reject(pb.PlayerAction(player_root=C, action=ALL_IN)), FP, "only call or fold")
    call, brc = three_handed.act(C, CALL)
    assert taken(call) == (CALL, 15, 955, 95, 45)
    assert (brc.completed_phase, brc.pot_total) == (PREFLOP, 95)


def test_short_all_ins_that_add_up_to_a_full_raise_reopen_betting() -> None:
    # A (seat 0) SB, B (seat 1) BB, C (seat 2) button acts first; D (seat 3) and E (seat 4) go short.
    from hand_harness import D, dealt, root

    e = root("E")
    hut = dealt([(C, 2, 1000), (A, 0, 1000), (B, 1, 1000), (D, 3, 45), (e, 4, 60)], dealer=4)
    hut.blinds()  # SB A seat 0, BB B seat 1; first to act is C (seat 2)
    hut.act(C, RAISE, 30)
    assert hut.player(C).acted_level == 30
    hut.act(D, ALL_IN)  # level 45: +15, short
    hut.act(e, ALL_IN)  # level 60: +15 more; since C acted the increments add up to 30 ≥ 20
    hut.act(A, FOLD)
    hut.act(B, CALL)
    [raise_] = hut.act(C, RAISE, 80)
    assert raise_.action == RAISE and raise_.amount == 80


def test_a_short_all_in_leaves_a_lone_actor_only_call_or_fold() -> None:
    from hand_harness import D, dealt

    hut = dealt([(A, 0, 1000), (B, 1, 1000), (C, 2, 1000), (D, 3, 45)], dealer=3)
    hut.blinds()  # SB A, BB B; C first
    hut.act(C, RAISE, 30)
    hut.act(D, ALL_IN)
    hut.act(A, FOLD)
    hut.act(B, FOLD)
    assert_rejected(hut.reject(pb.PlayerAction(player_root=C, action=RAISE, amount=100)), FP, "only call or fold")
    call, brc = hut.act(C, CALL)
    assert call.amount == 15 and brc.pot_total == 5 + 10 + 45 + 45


def test_he32_pot_limit(omaha_b: HandUnderTest) -> None:
    assert_rejected(omaha_b.reject(pb.PlayerAction(player_root=P1, action=RAISE, amount=31)), IA, "pot limit")
    assert_rejected(omaha_b.reject(pb.PlayerAction(player_root=P1, action=ALL_IN)), IA, "pot limit")
    [event] = omaha_b.act(P1, RAISE, 30)
    assert taken(event) == (RAISE, 30, 470, 40, 30)


def test_pot_limit_bet_on_the_flop() -> None:
    from poker_contracts.poker_types_pb2 import OMAHA

    hut = flop(hu_blinds(variant=OMAHA))
    assert_rejected(hut.reject(pb.PlayerAction(player_root=P2, action=BET, amount=21)), IA, "pot limit")
    [event] = hut.act(P2, BET, 20)
    assert event.action == BET


def test_round_does_not_end_before_everyone_has_acted(hu_b: HandUnderTest) -> None:
    flop(hu_b)
    events = hu_b.act(P2, CHECK)
    assert names(events) == ["ActionTaken"]
