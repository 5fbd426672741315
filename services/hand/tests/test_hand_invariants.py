"""HE41: M4 and M6 hold after every event of random legal action sequences; no chips are made or lost.

Hypothesis plays whole hands: the driver stands in for the hand-flow process manager (blinds, streets,
reveals, awards) and for the players (random actions, amounts, draws, mucks and timeouts). Illegal
choices are allowed too: they must be refused without events, and the driver then plays a safe action.
"""

from __future__ import annotations

import datetime as dt

from hand_harness import CID, HAND_ROOT, T0, HandUnderTest, deal_cards, root
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from angzarr_client.errors import CommandRejectedError
from angzarr_client.testing import build_event_book
from hand.aggregate import Hand
from hand.betting import all_in_level, owed, pot_total
from hand.games import GAMES, NEXT_STREET
from hand.state import apply_event, player_at, rebuild
from poker_contracts import hand_pb2 as pb
from poker_contracts.poker_types_pb2 import ALL_IN, BET, CALL, CHECK, FOLD, RAISE
from poker_rules.cards import from_proto

FULL_DECK = 52


def check_invariants(state: pb.HandState, starting_total: int, discarded: list) -> None:
    # M4: chips are conserved, stacks never go negative, all-in exactly when the stack is empty.
    assert sum(p.stack for p in state.players) + pot_total(state) == starting_total
    for p in state.players:
        assert p.stack >= 0
        assert p.is_all_in == (p.stack == 0), p
    # M6: every card is exactly once in a hand, on the board, in the deck or in the discards.
    seen = [from_proto(c) for p in state.players for c in p.hole_cards]
    seen += [from_proto(c) for c in (*state.community_cards, *state.remaining_deck, *discarded)]
    assert len(seen) == FULL_DECK and len(set(seen)) == FULL_DECK


class Driver:
    """Plays one hand with choices drawn from hypothesis ``data``, checking invariants per event."""

    def __init__(self, data, hut: HandUnderTest, starting_total: int) -> None:
        self.data = data
        self.hut = hut
        self.total = starting_total
        self.replica = pb.HandState()
        self.discarded: list = []
        self.clock = T0
        self.awarded = 0
        self.pot_before_award = 0
        self.final_stacks: list = []
        self.follow(hut.history)

    def follow(self, events: list) -> None:
        for event in events:
            if isinstance(event, pb.PotAwarded):
                self.pot_before_award = pot_total(self.replica)
                self.awarded = sum(w.amount for w in event.winners)
            if isinstance(event, pb.HandComplete):
                self.final_stacks = [s.stack for s in event.final_stacks]
            apply_event(self.replica, event)
            if isinstance(event, pb.DrawCompleted):
                self.discarded.extend(event.discarded_cards)
            check_invariants(self.replica, self.total, self.discarded)
        assert self.replica == self.hut.state

    def send(self, cmd, *, at: dt.datetime | None = None) -> bool:
        self.clock += dt.timedelta(seconds=1)
        try:
            events = self.hut.send(cmd, at=at or self.clock)
        except CommandRejectedError:
            return False
        self.follow(events)
        return True

    def step(self) -> None:
        state = self.hut.state
        by_seat = {p.position: p for p in state.players}
        if state.status == "blinds":
            small = by_seat[state.small_blind_position]
            if small.total_invested == 0:
                assert self.send(pb.PostBlind(player_root=small.player_root, blind_type="small",
                                              amount=state.small_blind))
            else:
                big = by_seat[state.big_blind_position]
                assert self.send(pb.PostBlind(player_root=big.player_root, blind_type="big",
                                              amount=state.big_blind))
        elif state.status == "betting":
            self.bet(state, player_at(state, state.action_on_position))
        elif state.status == "dealing":
            assert self.send(pb.DealCommunityCards(count=NEXT_STREET[state.current_phase][1]))
        elif state.status == "drawing":
            player = player_at(state, state.action_on_position)
            if self.data.draw(st.integers(0, 9), label="draw timeout") == 0:
                assert self.time_out(state, player)
                return
            indices = self.data.draw(st.lists(st.integers(0, 4), max_size=5, unique=True), label="discards")
            assert self.send(pb.RequestDraw(player_root=player.player_root, card_indices=indices))
        elif state.status == "showdown":
            unshown = [r for r in state.show_order
                       if not any(p.player_root == r and (p.has_shown or p.has_mucked) for p in state.players)]
            if not unshown:
                assert self.send(pb.AwardPot())
                return
            muck = self.data.draw(st.booleans(), label="muck")
            if not self.send(pb.RevealCards(player_root=unshown[0], muck=muck)):
                assert muck and self.send(pb.RevealCards(player_root=unshown[0]))
        elif state.status == "awarding":
            assert self.send(pb.AwardPot())
        else:
            raise AssertionError(f"unexpected status {state.status!r}")

    def time_out(self, state: pb.HandState, player: pb.PlayerHandState) -> bool:
        late = state.turn_started_at.ToDatetime(tzinfo=dt.UTC) + dt.timedelta(seconds=state.action_timeout_seconds)
        self.clock = max(self.clock, late)
        return self.send(pb.TimeOutPlayer(player_root=player.player_root), at=self.clock)

    def bet(self, state: pb.HandState, player: pb.PlayerHandState) -> None:
        choice = self.data.draw(st.sampled_from([FOLD, CHECK, CALL, BET, RAISE, ALL_IN, "timeout"]), label="action")
        if choice == "timeout":
            assert self.time_out(state, player)
            return
        level = all_in_level(player)
        amount = 0
        if choice in (BET, RAISE):
            low = player.bet_this_round if choice == RAISE else 0
            amount = self.data.draw(st.integers(low, level + 5), label="amount")
        if self.send(pb.PlayerAction(player_root=player.player_root, action=choice, amount=amount)):
            return
        # Refused: the state must be unchanged, and a safe action always works.
        assert self.hut.state == self.replica
        safe = CALL if owed(state, player) > 0 else CHECK
        assert self.send(pb.PlayerAction(player_root=player.player_root, action=safe))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    variant=st.sampled_from(sorted(GAMES)),
    stacks=st.lists(st.integers(1, 400), min_size=2, max_size=10),
    blinds=st.sampled_from([(1, 2), (5, 10), (10, 10), (25, 50)]),
    seed=st.binary(min_size=1, max_size=8),
    dealer_pick=st.integers(0, 9),
)
def test_he41_chips_and_cards_are_conserved_through_random_hands(
    data, variant: int, stacks: list[int], blinds: tuple[int, int], seed: bytes, dealer_pick: int
) -> None:
    stacks = stacks[: GAMES[variant].max_players]
    seats = data.draw(st.lists(st.integers(0, 9), min_size=len(stacks), max_size=len(stacks), unique=True),
                      label="seats")
    players = [(root(f"player-{s}"), s, stack) for s, stack in zip(seats, stacks)]
    hut = HandUnderTest()
    hut.send(deal_cards(players, variant=variant, dealer=seats[dealer_pick % len(seats)], seed=seed,
                        sb=blinds[0], bb=blinds[1]))
    driver = Driver(data, hut, sum(stacks))
    for _ in range(400):
        if hut.state.status == "complete":
            break
        driver.step()
    assert hut.state.status == "complete"
    # M5: the awards are the whole pot, and the final stacks add up to the starting stacks.
    assert driver.awarded == driver.pot_before_award
    assert sum(driver.final_stacks) == sum(stacks)
    # A snapshot at any point plus the later events rebuilds the same hand as the full history.
    cut = data.draw(st.integers(1, len(hut.history)), label="snapshot cut")
    book = build_event_book(hut.history[cut:], domain="hand", root=HAND_ROOT, correlation_id=CID,
                            start_sequence=cut, snapshot=(cut - 1, rebuild(hut.history[:cut])))
    assert Hand(book).state == rebuild(hut.history)
