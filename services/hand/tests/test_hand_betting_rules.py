"""Pure betting rules over HandState (spec §0.4, §4.4 definitions)."""

from __future__ import annotations

from hand.betting import (
    all_in_level,
    clockwise_after,
    first_actor_after,
    may_raise,
    min_to,
    next_to_act,
    owed,
    pot_max,
    pot_total,
    round_over,
)
from poker_contracts.hand_pb2 import HandState, PlayerHandState


def table(*players: PlayerHandState, current_bet: int = 0, min_raise: int = 10, big_blind: int = 10) -> HandState:
    state = HandState(current_bet=current_bet, min_raise=min_raise, big_blind=big_blind)
    state.players.extend(players)
    return state


def seat(position: int, stack: int = 100, bet: int = 0, invested: int | None = None, **flags) -> PlayerHandState:
    return PlayerHandState(player_root=bytes([position + 1]) * 16, position=position, stack=stack,
                           bet_this_round=bet, total_invested=bet if invested is None else invested, **flags)


def test_owed_level_and_pot() -> None:
    state = table(seat(0, 90, bet=10), seat(1, 80, bet=30), current_bet=30)
    assert owed(state, state.players[0]) == 20 and owed(state, state.players[1]) == 0
    assert all_in_level(state.players[0]) == 100
    assert pot_total(state) == 40


def test_clockwise_order_wraps_and_ends_with_the_given_seat() -> None:
    state = table(seat(0), seat(3), seat(7))
    assert [p.position for p in clockwise_after(state, 3)] == [7, 0, 3]
    assert [p.position for p in clockwise_after(state, 5)] == [7, 0, 3]
    assert [p.position for p in clockwise_after(state, 9)] == [0, 3, 7]


def test_first_actor_skips_folded_and_all_in() -> None:
    state = table(seat(0, has_folded=True), seat(3, 0, is_all_in=True), seat(7))
    assert first_actor_after(state, 7) == 7
    assert first_actor_after(table(seat(0, has_folded=True), seat(1, 0, is_all_in=True)), 0) == -1


def test_next_to_act_needs_not_acted_or_owing() -> None:
    state = table(seat(0, bet=30, has_acted=True), seat(1, bet=10, has_acted=True), seat(2, bet=30, has_acted=True),
                  current_bet=30)
    assert next_to_act(state, 2) == 1
    state.players[1].bet_this_round = 30
    assert next_to_act(state, 2) == -1


def test_round_over_rules() -> None:
    # One live player: over at once.
    assert round_over(table(seat(0), seat(1, has_folded=True)))
    # Two actors matched but one has not acted: not over.
    assert not round_over(table(seat(0, bet=10, has_acted=True), seat(1, bet=10), current_bet=10))
    assert round_over(table(seat(0, bet=10, has_acted=True), seat(1, bet=10, has_acted=True), current_bet=10))
    # A lone actor who matched the all-in needs no action; one who owes does.
    assert round_over(table(seat(0, 0, bet=50, is_all_in=True), seat(1, bet=50), current_bet=50))
    assert not round_over(table(seat(0, 0, bet=50, is_all_in=True), seat(1, bet=10), current_bet=50))
    # Everyone all-in: over.
    assert round_over(table(seat(0, 0, bet=50, is_all_in=True), seat(1, 0, bet=20, is_all_in=True), current_bet=50))


def test_may_raise() -> None:
    fresh = table(seat(0, bet=10), seat(1, bet=10), current_bet=10)
    assert may_raise(fresh, fresh.players[0])
    # Nobody else can act.
    alone = table(seat(0, bet=10), seat(1, 0, bet=5, is_all_in=True), current_bet=10)
    assert not may_raise(alone, alone.players[0])
    # Stack does not exceed what is owed.
    short = table(seat(0, 20, bet=10), seat(1, bet=30), current_bet=30)
    assert not may_raise(short, short.players[0])
    # Acted at 30; a short all-in took it to 45 (< full raise of 20): not reopened; to 50: reopened.
    acted = table(seat(0, bet=30, acted_this_round=True, acted_level=30), seat(1), current_bet=45, min_raise=20)
    assert not may_raise(acted, acted.players[0])
    acted.current_bet = 50
    assert may_raise(acted, acted.players[0])


def test_min_to_and_pot_max() -> None:
    assert min_to(table(current_bet=0, min_raise=10, big_blind=10)) == 10
    assert min_to(table(current_bet=30, min_raise=20)) == 50
    hu = table(seat(0, 495, bet=5), seat(1, 490, bet=10), current_bet=10)
    assert pot_max(hu, hu.players[0]) == 30
