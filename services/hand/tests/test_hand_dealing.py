"""DealCards (spec §4.2, §4.3; HE1–HE4)."""

from __future__ import annotations

import grpc
import pytest
from hand_harness import CID, P1, P2, SEED, TABLE, A, B, C, HandUnderTest, cards, deal_cards, dealt, root

from poker_contracts import hand_pb2 as pb
from poker_contracts.poker_types_pb2 import FIVE_CARD_DRAW, OMAHA, SEVEN_CARD_STUD, TEXAS_HOLDEM

HU_PLAYERS = [(P1, 0, 500), (P2, 1, 500)]


def test_he1_deal_heads_up_holdem_from_the_pinned_seed(hu: HandUnderTest) -> None:
    [event] = hu.history
    assert isinstance(event, pb.CardsDealt)
    assert [(pc.player_root, cards(pc.cards)) for pc in event.player_cards] == [(P1, "3s 4c"), (P2, "6c 7h")]
    assert [(p.player_root, p.position, p.stack) for p in event.players] == [(P1, 0, 500), (P2, 1, 500)]
    assert len(event.remaining_deck) == 48
    assert cards(event.remaining_deck[:5]) == "5c Kd Ad Ts 2d"
    assert (event.small_blind_position, event.big_blind_position) == (0, 1)
    assert (event.small_blind, event.big_blind) == (5, 10)
    assert event.deck_seed == SEED
    assert event.action_timeout_seconds == 30
    assert event.correlation_id == CID
    assert (event.table_root, event.hand_number, event.game_variant, event.dealer_position) == (
        TABLE, 1, TEXAS_HOLDEM, 0)
    state = hu.state
    assert state.status == "blinds" and state.hand_id == f"{TABLE.hex()}_1"
    assert state.min_raise == 10 and state.action_on_position == -1


def test_he2_omaha_and_draw_deal_four_and_five_cards() -> None:
    three = [(A, 0, 500), (B, 1, 500), (C, 2, 500)]
    [omaha] = dealt(three, variant=OMAHA).history
    assert [len(pc.cards) for pc in omaha.player_cards] == [4, 4, 4] and len(omaha.remaining_deck) == 40
    four = [*three, (root("D"), 3, 500)]
    [draw] = dealt(four, variant=FIVE_CARD_DRAW).history
    assert [len(pc.cards) for pc in draw.player_cards] == [5, 5, 5, 5] and len(draw.remaining_deck) == 32


def test_he3_empty_seed_is_derived_from_the_table_root_and_hand_number() -> None:
    [event] = dealt(HU_PLAYERS, seed=b"").history
    assert event.deck_seed.hex() == "c21eb11d309dd8e16836397c14ec913ab00ffe1177d72713501b5a729b6d78c9"
    p2 = next(pc for pc in event.player_cards if pc.player_root == P2)
    assert cards(p2.cards[:1]) == "2h"  # the first card dealt goes to P2, after the button


def test_he4_deal_twice_is_refused(hu: HandUnderTest) -> None:
    err = hu.reject(deal_cards(HU_PLAYERS))
    assert err.code == grpc.StatusCode.FAILED_PRECONDITION and "already dealt" in str(err)


@pytest.mark.parametrize(
    ("changes", "keyword"),
    [
        ({"table": b""}, "table_root"),
        ({"hand_number": 0}, "positive"),
        ({"variant": SEVEN_CARD_STUD}, "not supported"),
        ({"variant": 0}, "not supported"),
        ({"players": [(P1, 0, 500)]}, "at least 2 players"),
        ({"players": [(root(f"p{i}"), i, 100) for i in range(11)]}, "at most"),
        ({"players": [(root(f"p{i}"), i, 100) for i in range(6)], "variant": FIVE_CARD_DRAW}, "at most"),
        ({"players": [(P1, 0, 500), (P1, 1, 500)]}, "distinct"),
        ({"players": [(P1, 0, 500), (b"", 1, 500)]}, "distinct"),
        ({"players": [(P1, 1, 500), (P2, 1, 500)], "dealer": 1}, "distinct"),
        ({"players": [(P1, -1, 500), (P2, 1, 500)]}, "distinct"),
        ({"players": [(P1, 0, 0), (P2, 1, 500)]}, "positive"),
        ({"sb": 0}, "blind"),
        ({"sb": 10, "bb": 5}, "blind"),
        ({"dealer": 4}, "dealer_position"),
        ({"timeout": -1}, "action_timeout_seconds"),
    ],
)
def test_he4_deal_input_is_checked(changes: dict, keyword: str) -> None:
    kwargs = {"players": HU_PLAYERS, **changes}
    err = HandUnderTest().reject(deal_cards(kwargs.pop("players"), **kwargs))
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert keyword.lower() in str(err).lower()


def test_checks_run_in_spec_order() -> None:
    # A bad variant and too few players: the variant is checked first.
    err = HandUnderTest().reject(deal_cards([(P1, 0, 500)], variant=SEVEN_CARD_STUD))
    assert "not supported" in str(err)


def test_three_handed_blinds_are_the_two_seats_after_the_button() -> None:
    [event] = dealt([(A, 0, 1000), (B, 2, 45), (C, 5, 1000)], dealer=5).history
    assert (event.small_blind_position, event.big_blind_position) == (0, 2)
    hole = {pc.player_root: cards(pc.cards) for pc in event.player_cards}
    assert hole == {A: "6c 4c", B: "3s 5c", C: "7h Kd"}
    assert cards(event.remaining_deck[:5]) == "Ad Ts 2d Qd 5s"


def test_explicit_timeout_is_kept() -> None:
    [event] = dealt(HU_PLAYERS, timeout=7).history
    assert event.action_timeout_seconds == 7
