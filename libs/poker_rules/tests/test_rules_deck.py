"""Seeded deck, shuffle and dealing order (spec poker §3 step 3 and §4.2), pinned vectors and properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poker_rules.cards import NEW_DECK, format_cards, parse_cards
from poker_rules.deck import (
    clockwise_from,
    deal_hole_cards,
    deal_order,
    derive_deck_seed,
    effective_deck_seed,
    next_seat_clockwise,
    shuffled_deck,
)

TABLE_MAIN = bytes.fromhex("bd286483613c2fbc5aa1de60e575ee97")
PINNED = b"pin-this-deck"


def test_pinned_deck_vector():
    deck = shuffled_deck(PINNED)
    assert format_cards(deck[:16]) == "6c 3s 7h 4c 5c Kd Ad Ts 2d Qd 5s 3h 4h Ah 9d 7c"
    assert format_cards(deck[-3:]) == "3c 3d Qh"
    assert sorted(deck) == sorted(NEW_DECK)


def test_derived_seed_vector():
    seed = derive_deck_seed(TABLE_MAIN, 1)
    assert seed.hex() == "c21eb11d309dd8e16836397c14ec913ab00ffe1177d72713501b5a729b6d78c9"
    assert format_cards(shuffled_deck(seed)[:6]) == "2h Tc 2d Kc 9h As"


def test_derived_seed_changes_per_hand_and_table():
    assert derive_deck_seed(TABLE_MAIN, 2) != derive_deck_seed(TABLE_MAIN, 1)
    assert derive_deck_seed(bytes(16), 1) != derive_deck_seed(TABLE_MAIN, 1)


def test_effective_seed_prefers_the_given_seed():
    assert effective_deck_seed(PINNED, TABLE_MAIN, 1) == PINNED
    assert effective_deck_seed(b"", TABLE_MAIN, 1) == derive_deck_seed(TABLE_MAIN, 1)


@pytest.mark.parametrize(
    ("root", "number"), [(b"x" * 15, 1), (TABLE_MAIN, 0), (TABLE_MAIN, 2**64), (TABLE_MAIN, True)]
)
def test_derive_deck_seed_refuses_bad_input(root, number):
    with pytest.raises(ValueError):
        derive_deck_seed(root, number)


def test_shuffle_refuses_an_empty_or_non_bytes_seed():
    with pytest.raises(ValueError, match="empty"):
        shuffled_deck(b"")
    with pytest.raises(ValueError, match="bytes"):
        shuffled_deck("pin-this-deck")  # type: ignore[arg-type]


def test_heads_up_holdem_deal_of_the_pinned_deck():
    order = deal_order([0, 1], dealer_position=0)
    assert order == [1, 0]
    hands, remaining = deal_hole_cards(shuffled_deck(PINNED), order, 2)
    assert format_cards(hands[1]) == "6c 7h"
    assert format_cards(hands[0]) == "3s 4c"
    assert list(hands) == [1, 0]
    assert len(remaining) == 48
    assert format_cards(remaining[:5]) == "5c Kd Ad Ts 2d"


def test_three_handed_deal_of_the_pinned_deck():
    # 3H fixture: A seat 0, B seat 2, C seat 5, dealer 5.
    hands, remaining = deal_hole_cards(shuffled_deck(PINNED), deal_order([0, 2, 5], 5), 2)
    assert format_cards(hands[0]) == "6c 4c"
    assert format_cards(hands[2]) == "3s 5c"
    assert format_cards(hands[5]) == "7h Kd"
    assert format_cards(remaining[:5]) == "Ad Ts 2d Qd 5s"


def test_five_card_draw_deal_of_the_pinned_deck():
    hands, remaining = deal_hole_cards(shuffled_deck(PINNED), deal_order([0, 1], 0), 5)
    assert hands[1] == parse_cards("6c 7h 5c Ad 2d")
    assert hands[0] == parse_cards("3s 4c Kd Ts Qd")
    assert len(remaining) == 42
    assert format_cards(remaining[:2]) == "5s 3h"


def test_omaha_and_draw_card_counts():
    deck = shuffled_deck(PINNED)
    hands, remaining = deal_hole_cards(deck, [1, 2, 0], 4)
    assert [len(h) for h in hands.values()] == [4, 4, 4] and len(remaining) == 40
    hands, remaining = deal_hole_cards(deck, [3, 1, 2, 0], 5)
    assert [len(h) for h in hands.values()] == [5, 5, 5, 5] and len(remaining) == 32


def test_deal_does_not_modify_the_deck():
    deck = shuffled_deck(PINNED)
    before = list(deck)
    deal_hole_cards(deck, [0, 1], 2)
    assert deck == before


def test_deal_refuses_bad_input():
    deck = shuffled_deck(PINNED)
    with pytest.raises(ValueError, match="distinct"):
        deal_hole_cards(deck, [0, 0], 2)
    with pytest.raises(ValueError, match="cards_each"):
        deal_hole_cards(deck, [0, 1], -1)
    with pytest.raises(ValueError, match="needs 60 cards"):
        deal_hole_cards(deck, list(range(12)), 5)


def test_deal_order_starts_after_the_dealer_and_wraps():
    assert deal_order([0, 2, 5], 5) == [0, 2, 5]
    assert deal_order([0, 2, 5], 0) == [2, 5, 0]
    assert deal_order([5, 0, 2], 2) == [5, 0, 2]
    # the dealer need not be seated (e.g. a button that left)
    assert deal_order([0, 2, 5], 3) == [5, 0, 2]
    assert deal_order([0, 2, 5], 9) == [0, 2, 5]


def test_deal_order_refuses_bad_seats():
    with pytest.raises(ValueError):
        deal_order([], 0)
    with pytest.raises(ValueError, match="distinct"):
        deal_order([1, 1], 0)


def test_clockwise_helpers():
    assert next_seat_clockwise([0, 3, 5], 3) == 5
    assert next_seat_clockwise([0, 3, 5], 5) == 0
    assert next_seat_clockwise([4], 4) == 4
    assert clockwise_from([0, 3, 5], 3) == [3, 5, 0]
    assert clockwise_from([0, 3, 5], 4) == [5, 0, 3]
    with pytest.raises(ValueError):
        next_seat_clockwise([], 0)


@given(st.binary(min_size=1, max_size=64))
def test_shuffle_is_a_deterministic_permutation(seed):
    deck = shuffled_deck(seed)
    assert len(deck) == 52
    assert set(deck) == set(NEW_DECK)
    assert shuffled_deck(seed) == deck


@given(st.binary(min_size=1, max_size=16), st.binary(min_size=1, max_size=16))
def test_different_seeds_almost_always_give_different_decks(a, b):
    # A collision of two 52-card shuffles has probability ~1/52!, so equal decks mean equal seeds.
    if a != b:
        assert shuffled_deck(a) != shuffled_deck(b)


@given(
    st.lists(st.integers(0, 9), min_size=1, max_size=10, unique=True),
    st.integers(0, 9),
    st.integers(0, 5),
)
def test_dealing_partitions_the_deck(seats, dealer, each):
    deck = shuffled_deck(b"partition")
    order = deal_order(seats, dealer)
    assert sorted(order) == sorted(seats)
    hands, remaining = deal_hole_cards(deck, order, each)
    dealt = [c for h in hands.values() for c in h]
    assert sorted(dealt + remaining) == sorted(NEW_DECK)
    assert all(len(h) == each for h in hands.values())
    # one card at a time: the k-th round hands out deck[k*n : (k+1)*n] in deal order
    n = len(order)
    for k in range(each):
        assert [hands[s][k] for s in order] == deck[k * n : (k + 1) * n]


def test_he3_derived_seed_deals_2h_first_to_the_seat_after_the_dealer():
    seed = effective_deck_seed(b"", TABLE_MAIN, 1)
    hands, _ = deal_hole_cards(shuffled_deck(seed), deal_order([0, 1], 0), 2)
    assert format_cards(hands[1]) == "2h 2d"
    assert format_cards(hands[0]) == "Tc Kc"


def test_seed_stream_rejects_values_that_would_bias_the_modulo():
    # uniform(n) must skip u >= floor(2**64 / n) * n; feed it such a value followed by an acceptable one.
    from poker_rules.deck import _SeedStream

    stream = _SeedStream(b"x")
    stream._words = iter([2**64 - 1, 2**64 - 2, 103])
    assert stream.uniform(52) == 103 % 52
    stream._words = iter([(2**64 // 52) * 52 - 1])
    assert stream.uniform(52) == ((2**64 // 52) * 52 - 1) % 52


def test_seed_stream_reads_sha256_blocks_as_big_endian_words():
    import hashlib

    from poker_rules.deck import _SeedStream

    stream = _SeedStream(b"pin-this-deck")
    expected = b"".join(hashlib.sha256(b"pin-this-deck" + i.to_bytes(8, "big")).digest() for i in range(2))
    words = [int.from_bytes(expected[k : k + 8], "big") for k in range(0, 64, 8)]
    assert [next(stream._words) for _ in range(8)] == words
