"""Playing cards: the value type, its two-character text form and the protobuf `examples.Card` form.

A card is written rank then suit, e.g. ``As`` (ace of spades) or ``Tc`` (ten of clubs). Ranks and suits use
the numbers of the `examples.Rank` and `examples.Suit` enums, so converting to and from protobuf is a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from poker_contracts import poker_types_pb2

CLUBS = 1
DIAMONDS = 2
HEARTS = 3
SPADES = 4
SUITS: tuple[int, ...] = (CLUBS, DIAMONDS, HEARTS, SPADES)

TWO = 2
TEN = 10
JACK = 11
QUEEN = 12
KING = 13
ACE = 14
RANKS: tuple[int, ...] = tuple(range(TWO, ACE + 1))

RANK_CHARS = "23456789TJQKA"
SUIT_CHARS = "cdhs"

_RANK_BY_CHAR = {ch: rank for rank, ch in zip(RANKS, RANK_CHARS)}
_SUIT_BY_CHAR = {ch: suit for suit, ch in zip(SUITS, SUIT_CHARS)}


class Card(NamedTuple):
    """A playing card: ``rank`` 2..14 (ace high), ``suit`` CLUBS=1 … SPADES=4."""

    rank: int
    suit: int

    def __str__(self) -> str:
        return format_card(self)


def _checked(rank: int, suit: int) -> Card:
    if rank not in _RANK_SET:
        raise ValueError(f"card rank must be 2..14 (2 to ace), got {rank!r}")
    if suit not in _SUIT_SET:
        raise ValueError(f"card suit must be 1..4 (clubs, diamonds, hearts, spades), got {suit!r}")
    return Card(rank, suit)


_RANK_SET = frozenset(RANKS)
_SUIT_SET = frozenset(SUITS)


def parse_card(text: str) -> Card:
    """Parse one card such as ``"As"`` or ``"tc"`` (rank case-insensitive, suit ``c d h s``).

    Raises:
        ValueError: the text is not a rank character from ``23456789TJQKA`` followed by a suit from ``cdhs``.
    """
    if not isinstance(text, str):
        raise ValueError(f"a card is written as text like 'As', got {type(text).__name__}")
    s = text.strip()
    if len(s) != 2:
        raise ValueError(f"a card is two characters, rank then suit (e.g. 'As', 'Td'), got {text!r}")
    rank = _RANK_BY_CHAR.get(s[0].upper())
    suit = _SUIT_BY_CHAR.get(s[1].lower())
    if rank is None:
        raise ValueError(f"unknown card rank {s[0]!r} in {text!r}: use one of {RANK_CHARS}")
    if suit is None:
        raise ValueError(f"unknown card suit {s[1]!r} in {text!r}: use one of {SUIT_CHARS}")
    return Card(rank, suit)


def parse_cards(text: str) -> list[Card]:
    """Parse whitespace-separated cards, e.g. ``"As Kd"``; an empty or blank string gives ``[]``.

    Raises:
        ValueError: any of the words is not a card (see `parse_card`).
    """
    if not isinstance(text, str):
        raise ValueError(f"cards are written as text like 'As Kd', got {type(text).__name__}")
    return [parse_card(word) for word in text.split()]


def format_card(card: Card) -> str:
    """Return the two-character form of a card, e.g. ``"As"``.

    Raises:
        ValueError: the rank or suit is out of range.
    """
    c = _checked(card[0], card[1])
    return RANK_CHARS[c.rank - TWO] + SUIT_CHARS[c.suit - CLUBS]


def format_cards(cards: Iterable[Card]) -> str:
    """Return cards as space-separated text, e.g. ``"As Kd"`` (``""`` for none).

    Raises:
        ValueError: a card's rank or suit is out of range.
    """
    return " ".join(format_card(c) for c in cards)


def card_index(card: Card) -> int:
    """Return the card's position 0..51 in the canonical new-deck order (suit-major, ``2c`` = 0, ``As`` = 51).

    Raises:
        ValueError: the rank or suit is out of range.
    """
    c = _checked(card[0], card[1])
    return (c.suit - CLUBS) * 13 + (c.rank - TWO)


NEW_DECK: tuple[Card, ...] = tuple(Card(rank, suit) for suit in SUITS for rank in RANKS)
"""The 52 cards in canonical order: ``2c … Ac 2d … Ad 2h … Ah 2s … As`` (index 0 is ``2c``)."""


def to_proto(card: Card) -> poker_types_pb2.Card:
    """Convert to an `examples.Card` message.

    Raises:
        ValueError: the rank or suit is out of range.
    """
    c = _checked(card[0], card[1])
    return poker_types_pb2.Card(rank=c.rank, suit=c.suit)


def from_proto(msg: poker_types_pb2.Card) -> Card:
    """Convert an `examples.Card` message to a `Card`.

    Raises:
        ValueError: the message's rank or suit is unspecified or unknown.
    """
    return _checked(int(msg.rank), int(msg.suit))


def to_protos(cards: Iterable[Card]) -> list[poker_types_pb2.Card]:
    """Convert several cards to `examples.Card` messages, keeping their order.

    Raises:
        ValueError: a card's rank or suit is out of range.
    """
    return [to_proto(c) for c in cards]


def from_protos(msgs: Iterable[poker_types_pb2.Card]) -> list[Card]:
    """Convert several `examples.Card` messages to cards, keeping their order.

    Raises:
        ValueError: a message's rank or suit is unspecified or unknown.
    """
    return [from_proto(m) for m in msgs]
