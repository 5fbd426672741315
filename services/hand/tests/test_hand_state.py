"""Appliers and rebuilds (spec §4.1, §4.4 appliers; HE40) — shared with the hand-flow process manager."""

from __future__ import annotations

import os
import random
import secrets

import pytest
from hand_harness import CID, HAND_ROOT, P1, P2, HandUnderTest, cards

from angzarr_client.testing import build_event_book
from angzarr_client.typeurl import pack
from hand.aggregate import Hand
from hand.state import apply_event, rebuild
from poker_contracts import hand_pb2 as pb
from poker_contracts.player_pb2 import FundsDeposited
from poker_contracts.poker_types_pb2 import CALL, CHECK, FLOP, RAISE


def he13(hut: HandUnderTest) -> HandUnderTest:
    hut.act(P1, CALL)
    hut.act(P2, CHECK)
    hut.send(pb.DealCommunityCards(count=3))
    return hut


def test_he40_rebuild_is_deterministic_and_uses_no_random_source(hu_b: HandUnderTest, monkeypatch) -> None:
    he13(hu_b)

    def forbidden(*_a, **_k):
        raise AssertionError("a random source was used while rebuilding")

    for module, name in ((random, "random"), (random, "shuffle"), (random, "randrange"), (os, "urandom"),
                         (secrets, "token_bytes"), (secrets, "randbelow")):
        monkeypatch.setattr(module, name, forbidden)
    first, second = rebuild(hu_b.history), rebuild(hu_b.history)
    assert first == second
    assert cards(first.community_cards) == "5c Kd Ad"
    assert len(first.remaining_deck) == 45 and cards(first.remaining_deck[:2]) == "Ts 2d"
    assert sum(p.total_invested for p in first.players) == 20
    assert first.current_phase == FLOP and first.action_on_position == 1
    assert (first.current_bet, first.min_raise) == (0, 10)
    assert [(p.pot_type, p.amount) for p in first.pots] == [("main", 20)]


def test_aggregate_state_equals_the_shared_rebuild(hu_b: HandUnderTest) -> None:
    he13(hu_b)
    book = build_event_book(hu_b.history, domain="hand", root=HAND_ROOT, correlation_id=CID)
    assert Hand(book).state == rebuild(hu_b.history)
    # Packed events (as the process manager sees them) rebuild the same state.
    assert rebuild([pack(e) for e in hu_b.history]) == rebuild(hu_b.history)


def test_snapshot_plus_tail_equals_full_history(hu_b: HandUnderTest) -> None:
    he13(hu_b)
    head, tail = hu_b.history[:3], hu_b.history[3:]
    snapshot = rebuild(head)
    book = build_event_book(tail, domain="hand", root=HAND_ROOT, correlation_id=CID, start_sequence=3,
                            snapshot=(2, snapshot))
    assert Hand(book).state == rebuild(hu_b.history)


def test_aggregate_snapshots_every_25_events() -> None:
    assert Hand.snapshot_every == 25


def test_unknown_events_are_skipped() -> None:
    state = pb.HandState(hand_id="x")
    assert apply_event(state, FundsDeposited()) is False
    assert apply_event(state, pack(FundsDeposited())) is False
    assert state == pb.HandState(hand_id="x")


def test_event_for_a_stranger_is_an_error(hu: HandUnderTest) -> None:
    state = hu.state
    with pytest.raises(ValueError, match="not in hand"):
        apply_event(state, pb.BlindPosted(player_root=b"x" * 16, blind_type="small", amount=5))


def test_new_street_clears_round_state(hu_b: HandUnderTest) -> None:
    he13(hu_b)
    for p in hu_b.state.players:
        assert (p.bet_this_round, p.has_acted, p.acted_this_round, p.acted_level) == (0, False, False, 0)
        assert p.total_invested == 10


def test_raise_clears_other_actors_has_acted(hu_b: HandUnderTest) -> None:
    hu_b.act(P1, CALL)
    hu_b.act(P2, RAISE, 30)
    assert not hu_b.player(P1).has_acted and hu_b.player(P2).has_acted
    assert hu_b.player(P2).acted_level == 30 and hu_b.state.action_on_position == 0
