"""The games a hand can be (spec §0.1): hole cards, board, betting structure and rounds."""

from __future__ import annotations

from dataclasses import dataclass

from poker_contracts.poker_types_pb2 import (
    DRAW,
    FIVE_CARD_DRAW,
    FLOP,
    OMAHA,
    PREFLOP,
    RIVER,
    TEXAS_HOLDEM,
    TURN,
)


@dataclass(frozen=True)
class Game:
    """What a variant deals and how it bets."""

    variant: int
    hole_cards: int
    max_players: int
    pot_limit: bool
    has_board: bool

    @property
    def last_round(self) -> int:
        """The betting phase after which the hand goes to showdown."""
        return RIVER if self.has_board else DRAW


GAMES: dict[int, Game] = {
    TEXAS_HOLDEM: Game(TEXAS_HOLDEM, hole_cards=2, max_players=10, pot_limit=False, has_board=True),
    OMAHA: Game(OMAHA, hole_cards=4, max_players=10, pot_limit=True, has_board=True),
    FIVE_CARD_DRAW: Game(FIVE_CARD_DRAW, hole_cards=5, max_players=5, pot_limit=False, has_board=False),
}

# The street dealt after each board-game betting round, and how many cards it has.
NEXT_STREET: dict[int, tuple[int, int]] = {PREFLOP: (FLOP, 3), FLOP: (TURN, 1), TURN: (RIVER, 1)}


def game_of(variant: int) -> Game | None:
    """The supported game for a variant, or ``None`` (SEVEN_CARD_STUD, UNSPECIFIED, unknown numbers)."""
    return GAMES.get(variant)
