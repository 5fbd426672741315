"""The seeded deck (spec poker §3 step 3 and §4.2): seed derivation, the shuffle and dealing order.

Everything here is a pure function of its inputs: the same seed always gives the same deck, so a hand can be
replayed, audited and tested card for card. No random source is used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

from poker_rules.cards import NEW_DECK, Card
from poker_rules.roots import ROOT_SIZE

DECK_SEED_PREFIX = b"angzarr.poker.deck.v1:"
_TWO_64 = 1 << 64


def derive_deck_seed(table_root: bytes, hand_number: int) -> bytes:
    """Return the default deck seed of a hand: SHA-256(``"angzarr.poker.deck.v1:"`` ‖ table root ‖ hand
    number as uint64 big-endian), 32 bytes.

    Derived seeds are reproducible and therefore predictable from the table root; deployments needing
    secrecy send a random seed instead.

    Raises:
        ValueError: ``table_root`` is not 16 bytes, or ``hand_number`` is not an int in 1..2⁶⁴−1.
    """
    if not isinstance(table_root, bytes | bytearray) or len(table_root) != ROOT_SIZE:
        raise ValueError(f"table_root must be {ROOT_SIZE} bytes")
    if isinstance(hand_number, bool) or not isinstance(hand_number, int) or not 0 < hand_number < _TWO_64:
        raise ValueError(f"hand_number must be a positive int below 2**64, got {hand_number!r}")
    return hashlib.sha256(DECK_SEED_PREFIX + bytes(table_root) + hand_number.to_bytes(8, "big")).digest()


def effective_deck_seed(deck_seed: bytes, table_root: bytes, hand_number: int) -> bytes:
    """Return ``deck_seed`` if it is non-empty, else the derived seed (what `CardsDealt.deck_seed` records).

    Raises:
        ValueError: the seed is empty and the derivation inputs are invalid (see `derive_deck_seed`).
    """
    if deck_seed:
        return bytes(deck_seed)
    return derive_deck_seed(table_root, hand_number)


class _SeedStream:
    """Unsigned 64-bit numbers read from SHA-256(seed ‖ i as uint64 big-endian), i = 0, 1, …"""

    def __init__(self, seed: bytes) -> None:
        self._words = self._generate(bytes(seed))

    @staticmethod
    def _generate(seed: bytes) -> Iterator[int]:
        block = 0
        while True:
            digest = hashlib.sha256(seed + block.to_bytes(8, "big")).digest()
            for offset in range(0, len(digest), 8):
                yield int.from_bytes(digest[offset : offset + 8], "big")
            block += 1

    def uniform(self, n: int) -> int:
        """Return a uniform integer in 0..n−1 by rejection sampling (no modulo bias)."""
        limit = (_TWO_64 // n) * n
        while True:
            u = next(self._words)
            if u < limit:
                return u % n


def shuffled_deck(seed: bytes) -> list[Card]:
    """Return the 52 cards shuffled by ``seed``; index 0 is the top card.

    Fisher–Yates over the canonical new-deck order: for i = 51 down to 1, swap deck[i] with
    deck[uniform(i + 1)], drawing from the seed's SHA-256 stream (spec poker §4.2 steps 2–3).

    Raises:
        ValueError: ``seed`` is not bytes or is empty (use `effective_deck_seed` to fall back to the
            derived seed).
    """
    if not isinstance(seed, bytes | bytearray):
        raise ValueError(f"deck seed must be bytes, got {type(seed).__name__}")
    if not seed:
        raise ValueError("deck seed is empty: derive one with derive_deck_seed(table_root, hand_number)")
    stream = _SeedStream(seed)
    deck = list(NEW_DECK)
    for i in range(len(deck) - 1, 0, -1):
        j = stream.uniform(i + 1)
        deck[i], deck[j] = deck[j], deck[i]
    return deck


def next_seat_clockwise(seats: Sequence[int], after: int) -> int:
    """Return the first of ``seats`` clockwise after seat ``after`` (next higher seat, wrapping).

    ``after`` need not be one of ``seats``; if it is the only one, it is returned.

    Raises:
        ValueError: ``seats`` is empty.
    """
    if not seats:
        raise ValueError("no seats to choose from")
    higher = [s for s in seats if s > after]
    return min(higher) if higher else min(seats)


def deal_order(seats: Sequence[int], dealer_position: int) -> list[int]:
    """Return ``seats`` clockwise, starting with the first seat after ``dealer_position`` (the dealer, if
    seated, comes last).

    Raises:
        ValueError: ``seats`` is empty or holds a seat twice.
    """
    ordered = sorted(seats)
    if not ordered:
        raise ValueError("deal_order needs at least one seat")
    if len(set(ordered)) != len(ordered):
        raise ValueError(f"seats must be distinct, got {list(seats)}")
    start = next((k for k, s in enumerate(ordered) if s > dealer_position), 0)
    return ordered[start:] + ordered[:start]


def clockwise_from(seats: Sequence[int], first: int) -> list[int]:
    """Return ``seats`` clockwise starting at ``first`` itself if seated, else at the next seat after it.

    Raises:
        ValueError: ``seats`` is empty or holds a seat twice.
    """
    return deal_order(seats, first - 1)


def deal_hole_cards(
    deck: Sequence[Card], seats_in_deal_order: Sequence[int], cards_each: int
) -> tuple[dict[int, list[Card]], list[Card]]:
    """Deal ``cards_each`` cards to each seat, one card at a time round-robin, from the front of ``deck``.

    Returns each seat's cards in the order dealt (the dict iterates in deal order) and the rest of the
    deck in order. The input is not modified.

    Raises:
        ValueError: a seat repeats, ``cards_each`` is negative, or the deck has too few cards.
    """
    seats = list(seats_in_deal_order)
    if len(set(seats)) != len(seats):
        raise ValueError(f"seats must be distinct, got {seats}")
    if isinstance(cards_each, bool) or not isinstance(cards_each, int) or cards_each < 0:
        raise ValueError(f"cards_each must be a non-negative int, got {cards_each!r}")
    needed = len(seats) * cards_each
    if needed > len(deck):
        raise ValueError(
            f"dealing {cards_each} to {len(seats)} seats needs {needed} cards, deck has {len(deck)}"
        )
    hands: dict[int, list[Card]] = {seat: [] for seat in seats}
    position = 0
    for _ in range(cards_each):
        for seat in seats:
            hands[seat].append(deck[position])
            position += 1
    return hands, list(deck[position:])
