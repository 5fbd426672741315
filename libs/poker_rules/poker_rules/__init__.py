"""Poker rules shared by the table and hand bounded contexts (pure Python, no framework).

Modules: `cards` (cards, text and protobuf forms), `roots` (root derivations), `deck` (seeded shuffle and
dealing), `evaluator` (hand ranking), `pots` (pot layering and awards).
"""

from poker_rules.cards import NEW_DECK, Card, format_card, format_cards, parse_card, parse_cards
from poker_rules.deck import deal_hole_cards, deal_order, derive_deck_seed, effective_deck_seed, shuffled_deck
from poker_rules.evaluator import HandValue, best_hand, best_holdem, best_omaha, evaluate_five
from poker_rules.pots import Pot, award_pots, layer_pots
from poker_rules.roots import hand_root, hex_key, poker_root

__all__ = [
    "NEW_DECK",
    "Card",
    "HandValue",
    "Pot",
    "award_pots",
    "best_hand",
    "best_holdem",
    "best_omaha",
    "deal_hole_cards",
    "deal_order",
    "derive_deck_seed",
    "effective_deck_seed",
    "evaluate_five",
    "format_card",
    "format_cards",
    "hand_root",
    "hex_key",
    "layer_pots",
    "parse_card",
    "parse_cards",
    "poker_root",
    "shuffled_deck",
]
