"""The hand-flow decision table (spec poker §6) as pure functions over replicas built by the aggregate."""

from __future__ import annotations

import datetime as dt

from hand_harness import HAND_ROOT, P1, P2, hu_blinds, hu_hand

from hand.flow import (
    FlowCommand,
    action_request,
    deadline_of,
    is_new_turn,
    next_commands,
    next_to_show,
    turn_of,
)
from poker_contracts import hand_pb2 as pb
from poker_contracts import player_pb2
from poker_contracts.poker_types_pb2 import ALL_IN, CALL, CHECK, FOLD, RAISE

R = HAND_ROOT.bytes
CARDS_DEALT = "examples.CardsDealt"
BLIND_POSTED = "examples.BlindPosted"
ACTION_TAKEN = "examples.ActionTaken"
ROUND_COMPLETE = "examples.BettingRoundComplete"
SHOWDOWN_STARTED = "examples.ShowdownStarted"
CARDS_REVEALED = "examples.CardsRevealed"


def test_cards_dealt_asks_the_small_blind_for_the_configured_amount():
    state = hu_hand().state
    assert next_commands(R, None, state, [CARDS_DEALT]) == [
        FlowCommand("hand", R, pb.PostBlind(player_root=P1, blind_type="small", amount=5))
    ]


def test_small_blind_posted_asks_the_big_blind_even_when_the_small_blind_is_all_in():
    """HE7: P1 has 3 chips and is all-in from the small blind; the big blind is still due."""
    hut = hu_hand(p1_stack=3)
    before = hut.state
    hut.send(pb.PostBlind(player_root=P1, blind_type="small", amount=5))
    assert next_commands(R, before, hut.state, [BLIND_POSTED]) == [
        FlowCommand("hand", R, pb.PostBlind(player_root=P2, blind_type="big", amount=10))
    ]


def test_a_short_small_blind_all_in_goes_straight_to_the_flop_after_the_big_blind():
    hut = hu_hand(p1_stack=3)
    hut.send(pb.PostBlind(player_root=P1, blind_type="small", amount=5))
    before = hut.state
    hut.send(pb.PostBlind(player_root=P2, blind_type="big", amount=10))
    assert next_commands(R, before, hut.state, [BLIND_POSTED, ROUND_COMPLETE]) == [
        FlowCommand("hand", R, pb.DealCommunityCards(count=3))
    ]


def test_the_big_blind_opens_the_betting_with_a_request_to_the_first_actor():
    hut = hu_blinds()
    commands = next_commands(R, None, hut.state, [BLIND_POSTED])
    assert [(c.domain, c.root, type(c.command)) for c in commands] == [("player", P1, player_pb2.RequestAction)]


def test_a_new_turn_is_status_action_on_or_turn_start_changing():
    hut = hu_blinds()
    state = hut.state
    assert is_new_turn(None, state)
    assert not is_new_turn(state, state)
    later = pb.HandState()
    later.CopyFrom(state)
    later.turn_started_at.seconds += 1
    assert is_new_turn(state, later)
    assert turn_of(None) == ("", -1, 0, 0)


def test_no_request_when_nobody_has_to_act():
    hut = hu_blinds()
    hut.act(P1, CALL)
    before = hut.state
    hut.act(P2, CHECK)  # closes preflop: dealing, nobody to act
    after = hut.state
    assert not is_new_turn(before, after)
    assert next_commands(R, before, after, [ACTION_TAKEN, ROUND_COMPLETE]) == [
        FlowCommand("hand", R, pb.DealCommunityCards(count=3))
    ]


def test_a_fold_to_one_live_player_awards_the_pot():
    hut = hu_blinds()
    before = hut.state
    hut.act(P1, FOLD)
    assert next_commands(R, before, hut.state, [ACTION_TAKEN, ROUND_COMPLETE]) == [
        FlowCommand("hand", R, pb.AwardPot())
    ]


def test_the_showdown_reveals_in_show_order_then_awards(he21):
    state = he21.state
    assert list(state.show_order) == [P2, P1]
    assert next_to_show(state) == P2
    assert next_commands(R, None, state, [ROUND_COMPLETE, SHOWDOWN_STARTED]) == [
        FlowCommand("hand", R, pb.RevealCards(player_root=P2, muck=False))
    ]
    he21.send(pb.RevealCards(player_root=P2))
    assert next_commands(R, state, he21.state, [CARDS_REVEALED]) == [
        FlowCommand("hand", R, pb.RevealCards(player_root=P1, muck=False))
    ]
    before = he21.state
    he21.send(pb.RevealCards(player_root=P1))
    assert next_to_show(he21.state) is None
    assert next_commands(R, before, he21.state, [CARDS_REVEALED]) == [FlowCommand("hand", R, pb.AwardPot())]


def test_a_complete_or_missing_replica_decides_nothing(he21):
    he21.send(pb.RevealCards(player_root=P2))
    he21.send(pb.RevealCards(player_root=P1))
    before = he21.state
    he21.send(pb.AwardPot())
    assert he21.state.status == "complete"
    assert next_commands(R, before, he21.state, ["examples.PotAwarded", "examples.HandComplete"]) == []
    assert next_commands(R, before, None, ["examples.HandComplete"]) == []


def test_request_action_amounts_facing_an_all_in_that_cannot_be_raised():
    """HE20: P1 all-in for 100; P2 may call 90 (capped by nothing) and may not raise."""
    hut = hu_blinds(p1_stack=100)
    hut.act(P1, ALL_IN)
    request = action_request(R, hut.state)
    assert (request.amount_to_call, request.min_raise, request.max_raise, request.pot_size) == (90, 0, 0, 110)


def test_amount_to_call_is_capped_by_the_stack():
    hut = hu_blinds(p2_stack=50)
    hut.act(P1, RAISE, amount=100)
    request = action_request(R, hut.state)
    # P2 has 40 behind and owes 90: the call is capped at the stack and no raise is possible.
    assert (request.amount_to_call, request.min_raise, request.max_raise) == (40, 0, 0)


def test_the_deadline_is_turn_start_plus_the_hand_timeout():
    hut = hu_blinds()
    hut.now = hut.now + dt.timedelta(seconds=7)
    hut.act(P1, CALL)
    state = hut.state
    assert state.action_timeout_seconds == 30
    assert deadline_of(state).seconds == state.turn_started_at.seconds + 30
    assert action_request(R, state).deadline == deadline_of(state)
