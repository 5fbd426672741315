"""Fixtures for the hand tests (spec §9 HE fixtures); the harness itself is ``hand_harness.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules import the harness by name; --import-mode=importlib does not add this folder itself.
sys.path.insert(0, str(Path(__file__).parent))

from hand_harness import HandUnderTest, hu_blinds, hu_hand, three_handed_blinds  # noqa: E402

from poker_contracts.poker_types_pb2 import FIVE_CARD_DRAW, OMAHA  # noqa: E402


@pytest.fixture
def hu() -> HandUnderTest:
    """HU: Hold'em, P1 seat 0 and P2 seat 1 with 500 each, dealer 0, 5/10, seed pin-this-deck."""
    return hu_hand()


@pytest.fixture
def hu_b() -> HandUnderTest:
    """HU+B: HU with both blinds posted; action on seat 0."""
    return hu_blinds()


@pytest.fixture
def three_handed() -> HandUnderTest:
    """3H with blinds: C (seat 5) acts first."""
    return three_handed_blinds()


@pytest.fixture
def dr() -> HandUnderTest:
    """DR: HU as five-card draw, no blinds yet."""
    return hu_hand(variant=FIVE_CARD_DRAW)


@pytest.fixture
def omaha_b() -> HandUnderTest:
    """HU+B as pot-limit Omaha."""
    return hu_blinds(variant=OMAHA)


@pytest.fixture
def he21() -> HandUnderTest:
    """HE21: HE20 (P1 all-in for 100, P2 calls) run out to showdown; show order [P2, P1]."""
    from hand_harness import P1, P2

    from poker_contracts.hand_pb2 import DealCommunityCards
    from poker_contracts.poker_types_pb2 import ALL_IN, CALL

    hut = hu_blinds(p1_stack=100)
    hut.act(P1, ALL_IN)
    hut.act(P2, CALL)
    for count in (3, 1, 1):
        hut.send(DealCommunityCards(count=count))
    return hut
