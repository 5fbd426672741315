"""Hand evaluation (spec poker §4.6): five-card values, best-of selection per game, and the wire score.

A hand's value is its key (category, tie-break ranks), compared lexicographically; equal keys tie. The wire
``score`` packs that key into one int: category·16⁵ + Σ tᵢ·16^(4−i), t padded with zeros to five ranks, so
a higher score always means a better hand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from poker_contracts import poker_types_pb2
from poker_rules.cards import ACE, NEW_DECK, Card, card_index, format_cards

# Categories equal the examples.HandRankType enum numbers.
HIGH_CARD = 1
PAIR = 2
TWO_PAIR = 3
THREE_OF_A_KIND = 4
STRAIGHT = 5
FLUSH = 6
FULL_HOUSE = 7
FOUR_OF_A_KIND = 8
STRAIGHT_FLUSH = 9
ROYAL_FLUSH = 10

CATEGORY_NAMES: dict[int, str] = {
    HIGH_CARD: "High Card",
    PAIR: "Pair",
    TWO_PAIR: "Two Pair",
    THREE_OF_A_KIND: "Three of a Kind",
    STRAIGHT: "Straight",
    FLUSH: "Flush",
    FULL_HOUSE: "Full House",
    FOUR_OF_A_KIND: "Four of a Kind",
    STRAIGHT_FLUSH: "Straight Flush",
    ROYAL_FLUSH: "Royal Flush",
}

# Game variants equal the examples.GameVariant enum numbers.
TEXAS_HOLDEM = 1
OMAHA = 2
FIVE_CARD_DRAW = 3

_WHEEL = (ACE, 5, 4, 3, 2)


@dataclass(frozen=True, order=True)
class HandValue:
    """The value of a five-card hand. Instances order by (category, tiebreak): greater is better.

    ``kickers`` is the `HandRanking.kickers` column of spec §4.6 and ``score`` the packed wire score; both
    follow from the key and take no part in comparisons.
    """

    category: int
    tiebreak: tuple[int, ...]
    kickers: tuple[int, ...] = field(compare=False)
    score: int = field(compare=False)

    @property
    def name(self) -> str:
        """The category's display name, e.g. ``"Two Pair"``."""
        return CATEGORY_NAMES[self.category]


def hand_score(category: int, tiebreak: Sequence[int]) -> int:
    """Return category·16⁵ + Σ tᵢ·16^(4−i) with ``tiebreak`` padded with zeros to five ranks.

    Raises:
        ValueError: the category is not 1..10 or there are more than five tie-break ranks.
    """
    if category not in CATEGORY_NAMES:
        raise ValueError(f"hand category must be 1..10, got {category!r}")
    if len(tiebreak) > 5:
        raise ValueError(f"at most five tie-break ranks, got {len(tiebreak)}")
    score = category
    for i in range(5):
        score = score * 16 + (tiebreak[i] if i < len(tiebreak) else 0)
    return score


def _value(category: int, tiebreak: tuple[int, ...], kickers: tuple[int, ...]) -> HandValue:
    return HandValue(category, tiebreak, kickers, hand_score(category, tiebreak))


_ALL_CARDS = frozenset(NEW_DECK)


def _distinct(cards: Iterable[Card], what: str) -> list[Card]:
    result = [c if type(c) is Card else Card(*c) for c in cards]
    unique = set(result)
    if not unique <= _ALL_CARDS:
        for c in result:
            card_index(c)  # raises the ValueError naming the bad rank or suit
    if len(unique) != len(result):
        raise ValueError(f"{what} repeat a card: {format_cards(result)}")
    return result


def evaluate_five(cards: Iterable[Card]) -> HandValue:
    """Return the value of exactly five distinct cards.

    Raises:
        ValueError: not exactly five cards, a card repeats, or a rank or suit is out of range.
    """
    hand = _distinct(cards, "the five cards")
    if len(hand) != 5:
        raise ValueError(f"a poker hand is exactly 5 cards, got {len(hand)}")
    return _evaluate(hand)


def _evaluate(hand: Sequence[Card]) -> HandValue:
    ranks = sorted((c.rank for c in hand), reverse=True)
    flush = len({c.suit for c in hand}) == 1
    straight_top = _straight_top(ranks)
    if straight_top and flush:
        if straight_top == ACE:
            return _value(ROYAL_FLUSH, (ACE,), ())
        return _value(STRAIGHT_FLUSH, (straight_top,), ())
    # Ranks grouped by how often they occur, biggest group first, higher rank first within a size.
    groups = sorted(Counter(ranks).items(), key=lambda item: (item[1], item[0]), reverse=True)
    shape = tuple(count for _, count in groups)
    by_group = tuple(rank for rank, _ in groups)
    if shape == (4, 1):
        return _value(FOUR_OF_A_KIND, by_group, by_group[1:])
    if shape == (3, 2):
        return _value(FULL_HOUSE, by_group, ())
    if flush:
        return _value(FLUSH, tuple(ranks), tuple(ranks))
    if straight_top:
        return _value(STRAIGHT, (straight_top,), ())
    if shape == (3, 1, 1):
        return _value(THREE_OF_A_KIND, by_group, by_group[1:])
    if shape == (2, 2, 1):
        return _value(TWO_PAIR, by_group, by_group[2:])
    if shape == (2, 1, 1, 1):
        return _value(PAIR, by_group, by_group[1:])
    return _value(HIGH_CARD, tuple(ranks), tuple(ranks))


def _straight_top(ranks_desc: Sequence[int]) -> int:
    """Top card of a straight made by five ranks (descending), 5 for the wheel; 0 when not a straight."""
    if len(set(ranks_desc)) != 5:
        return 0
    if tuple(ranks_desc) == _WHEEL:
        return 5
    return ranks_desc[0] if ranks_desc[0] - ranks_desc[4] == 4 else 0


def best_holdem(hole: Iterable[Card], board: Iterable[Card]) -> HandValue:
    """Return the best value of any five of the hole and board cards (Hold'em: best 5 of 7).

    Works with a partial board as long as there are at least five cards in all.

    Raises:
        ValueError: fewer than five cards in all, a card repeats, or a card is out of range.
    """
    cards = _distinct([*hole, *board], "hole and board cards")
    if len(cards) < 5:
        raise ValueError(f"need at least 5 cards to make a hand, got {len(cards)}")
    return max(_evaluate(five) for five in combinations(cards, 5))


def best_omaha(hole: Iterable[Card], board: Iterable[Card]) -> HandValue:
    """Return the best Omaha value: exactly two of the four hole cards plus exactly three board cards.

    Raises:
        ValueError: not exactly four hole cards, fewer than three or more than five board cards, a card
            repeats, or a card is out of range.
    """
    hole_cards = list(hole)
    board_cards = list(board)
    _distinct([*hole_cards, *board_cards], "hole and board cards")
    if len(hole_cards) != 4:
        raise ValueError(f"an Omaha hand has exactly 4 hole cards, got {len(hole_cards)}")
    if not 3 <= len(board_cards) <= 5:
        raise ValueError(f"an Omaha hand needs 3 to 5 board cards, got {len(board_cards)}")
    return max(
        _evaluate([*two, *three])
        for two in combinations([Card(*c) for c in hole_cards], 2)
        for three in combinations([Card(*c) for c in board_cards], 3)
    )


def best_hand(variant: int, hole: Iterable[Card], board: Iterable[Card]) -> HandValue:
    """Return the showdown value of ``hole`` (and ``board``) under a `GameVariant` number.

    TEXAS_HOLDEM: best five of hole + board; OMAHA: exactly two hole + three board; FIVE_CARD_DRAW: the five
    cards held (the board must be empty).

    Raises:
        ValueError: the variant is not one of those three ("not supported"), or the cards do not make a
            hand of that variant.
    """
    if variant == TEXAS_HOLDEM:
        return best_holdem(hole, board)
    if variant == OMAHA:
        return best_omaha(hole, board)
    if variant == FIVE_CARD_DRAW:
        if list(board):
            raise ValueError("five-card draw has no community cards")
        return evaluate_five(hole)
    raise ValueError(f"game variant {variant!r} is not supported (use TEXAS_HOLDEM, OMAHA or FIVE_CARD_DRAW)")


def to_ranking_proto(value: HandValue) -> poker_types_pb2.HandRanking:
    """Return the `examples.HandRanking{rank_type, kickers, score}` of a hand value."""
    return poker_types_pb2.HandRanking(
        rank_type=value.category, kickers=list(value.kickers), score=value.score
    )
