"""Property tests of the evaluator against an independent reference written in a different way.

The reference classifies a whole 5–7 card set at once by counting ranks and suits (no five-card subsets),
from the strongest category down. The library evaluates every five-card subset and takes the maximum. The
two must agree on the key (category, tie-break) of every hand, and therefore on every comparison.
"""

from collections import Counter
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poker_rules.cards import NEW_DECK
from poker_rules.evaluator import best_hand, best_holdem, best_omaha, evaluate_five, hand_score


def _straight_top(ranks):
    """Highest top card of five consecutive ranks (ace also low), or None."""
    present = set(ranks)
    if 14 in present:
        present.add(1)
    for top in range(14, 4, -1):
        if all(r in present for r in range(top - 4, top + 1)):
            return top
    return None


def reference_key(cards):
    """(category, tie-break) of the best five-card hand within 5–7 cards, by direct counting."""
    counts = {}
    for rank, _suit in cards:
        counts[rank] = counts.get(rank, 0) + 1
    by_suit = {}
    for rank, suit in cards:
        by_suit.setdefault(suit, []).append(rank)
    flush_ranks = next((sorted(rs, reverse=True) for rs in by_suit.values() if len(rs) >= 5), None)

    if flush_ranks:
        top = _straight_top(flush_ranks)
        if top == 14:
            return (10, (14,))
        if top:
            return (9, (top,))
    quads = [r for r, n in counts.items() if n == 4]
    trips = sorted((r for r, n in counts.items() if n == 3), reverse=True)
    pairs = sorted((r for r, n in counts.items() if n == 2), reverse=True)
    if quads:
        q = quads[0]
        return (8, (q, max(r for r in counts if r != q)))
    if trips and (len(trips) > 1 or pairs):
        return (7, (trips[0], max(trips[1:] + pairs)))
    if flush_ranks:
        return (6, tuple(flush_ranks[:5]))
    top = _straight_top(list(counts))
    if top:
        return (5, (top,))
    singles_desc = sorted(counts, reverse=True)
    if trips:
        return (4, (trips[0], *[r for r in singles_desc if r != trips[0]][:2]))
    if len(pairs) >= 2:
        high, low = pairs[0], pairs[1]
        return (3, (high, low, max(r for r in counts if r not in (high, low))))
    if pairs:
        return (2, (pairs[0], *[r for r in singles_desc if r != pairs[0]][:3]))
    return (1, tuple(singles_desc[:5]))


def _dense_pool(draw):
    """A small pool of cards (few ranks or few suits) so that pairs, trips, quads, flushes and
    straight flushes come up often."""
    ranks = draw(st.sets(st.integers(2, 14), min_size=2, max_size=7))
    suits = draw(st.sets(st.integers(1, 4), min_size=1, max_size=4))
    return [c for c in NEW_DECK if c.rank in ranks and c.suit in suits]


def cards_sets(min_size, max_size):
    """Distinct cards: either uniform over the deck or drawn from a dense pool (made hands common)."""

    @st.composite
    def dense(draw):
        pool = _dense_pool(draw)
        if len(pool) < min_size:
            pool = list(NEW_DECK)
        return draw(st.lists(st.sampled_from(pool), min_size=min_size, max_size=max_size, unique=True))

    uniform = st.lists(st.sampled_from(NEW_DECK), min_size=min_size, max_size=max_size, unique=True)
    return st.one_of(uniform, dense())


def _sign(x):
    return (x > 0) - (x < 0)


@settings(max_examples=400)
@given(cards_sets(5, 5))
def test_five_cards_agree_with_the_reference(cards):
    value = evaluate_five(cards)
    assert (value.category, value.tiebreak) == reference_key(cards)
    assert value.score == hand_score(value.category, value.tiebreak)


@settings(max_examples=400)
@given(cards_sets(5, 7))
def test_best_of_up_to_seven_agrees_with_the_reference(cards):
    value = best_holdem(cards[:2], cards[2:])
    assert (value.category, value.tiebreak) == reference_key(cards)


@settings(max_examples=300)
@given(cards_sets(9, 9))
def test_comparisons_on_a_shared_board_agree_with_the_reference(cards):
    board, hole_a, hole_b = cards[:5], cards[5:7], cards[7:9]
    a = best_hand(1, hole_a, board)
    b = best_hand(1, hole_b, board)
    ref_a, ref_b = reference_key(hole_a + board), reference_key(hole_b + board)
    expected = _sign((ref_a > ref_b) - (ref_a < ref_b))
    assert _sign((a > b) - (a < b)) == expected
    assert (a == b) == (ref_a == ref_b)
    # the packed score orders hands exactly like the key
    assert _sign(a.score - b.score) == expected


@settings(max_examples=300)
@given(cards_sets(5, 5), cards_sets(5, 5))
def test_ordering_is_a_total_order_consistent_with_score(x, y):
    a, b = evaluate_five(x), evaluate_five(y)
    assert (a < b) + (a == b) + (a > b) == 1
    assert (a < b) == (a.score < b.score)
    assert (a == b) == (a.score == b.score)


@given(cards_sets(5, 5), st.randoms(use_true_random=False))
def test_card_order_does_not_matter(cards, rnd):
    shuffled = list(cards)
    rnd.shuffle(shuffled)
    assert evaluate_five(shuffled) == evaluate_five(cards)
    assert evaluate_five(shuffled).kickers == evaluate_five(cards).kickers


@settings(max_examples=150)
@given(cards_sets(9, 9))
def test_omaha_agrees_with_the_reference_over_the_sixty_candidates(cards):
    hole, board = cards[:4], cards[4:]
    expected = max(
        reference_key([*two, *three]) for two in combinations(hole, 2) for three in combinations(board, 3)
    )
    value = best_omaha(hole, board)
    assert (value.category, value.tiebreak) == expected
    # Omaha can never beat Hold'em-style free choice of the same nine cards' best seven (hole + board).
    assert value <= best_holdem(hole, board)


@settings(max_examples=200)
@given(cards_sets(5, 5))
def test_kickers_are_the_tiebreak_tail_described_in_the_spec(cards):
    value = evaluate_five(cards)
    expected_kickers = {
        10: (),
        9: (),
        8: value.tiebreak[1:],
        7: (),
        6: value.tiebreak,
        5: (),
        4: value.tiebreak[1:],
        3: value.tiebreak[2:],
        2: value.tiebreak[1:],
        1: value.tiebreak,
    }[value.category]
    assert value.kickers == expected_kickers
    assert 1 <= value.category <= 10
    assert value.score < 2**31


@pytest.mark.slow
def test_all_five_card_hands_have_the_textbook_frequencies_and_7462_classes():
    # Exhaustive over the 2,598,960 five-card hands: the category counts and the number of distinct
    # hand values are well-known constants of poker, independent of how the evaluator is written.
    categories = Counter()
    keys = set()
    scores = set()
    for hand in combinations(NEW_DECK, 5):
        value = evaluate_five(hand)
        categories[value.category] += 1
        keys.add(value)
        scores.add(value.score)
    assert dict(categories) == {
        1: 1302540,
        2: 1098240,
        3: 123552,
        4: 54912,
        5: 10200,
        6: 5108,
        7: 3744,
        8: 624,
        9: 36,
        10: 4,
    }
    assert len(keys) == len(scores) == 7462
