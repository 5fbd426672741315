"""The reference bot of spec poker §8: a deterministic answer to every ``ActionRequested``.

In order: in the draw, discard the unpaired cards below a jack (at most three, lowest index first);
otherwise with a pair or better and a raise allowed, bet or raise to the minimum; otherwise check when
nothing is owed, call when the price is at most a quarter of the pot, else fold.

The bot only reads the request; it knows the game from the number of hole cards (2 Hold'em, 4 Omaha,
5 five-card draw), so the same function plays every variant.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from poker_contracts import hand_pb2, player_pb2, poker_types_pb2
from poker_rules.cards import JACK, Card, from_protos
from poker_rules.evaluator import FIVE_CARD_DRAW, OMAHA, PAIR, TEXAS_HOLDEM, best_hand

MAX_DISCARDS = 3
_VARIANT_BY_HOLE_COUNT = {2: TEXAS_HOLDEM, 4: OMAHA, 5: FIVE_CARD_DRAW}


@dataclass(frozen=True, slots=True)
class BotDecision:
    """What the bot sends: a ``PlayerAction`` or a ``RequestDraw``, addressed to the request's hand."""

    hand_root: bytes
    command: hand_pb2.PlayerAction | hand_pb2.RequestDraw

    def describe(self) -> str:
        """A short human description, e.g. ``raises to 20`` or ``draws 2``."""
        cmd = self.command
        if isinstance(cmd, hand_pb2.RequestDraw):
            n = len(cmd.card_indices)
            return f"draws {n}" if n else "stands pat"
        name = poker_types_pb2.ActionType.Name(cmd.action).lower()
        return f"{name} {cmd.amount}" if cmd.amount else name


def draw_discards(hole: list[Card]) -> list[int]:
    """The indices to discard in the draw: unpaired cards below a jack, at most three, ascending."""
    counts = Counter(card.rank for card in hole)
    unpaired_low = [i for i, card in enumerate(hole) if counts[card.rank] == 1 and card.rank < JACK]
    return unpaired_low[:MAX_DISCARDS]


def has_pair_or_better(hole: list[Card], board: list[Card]) -> bool:
    """Whether the cards the player can use make at least a pair under the game's rules.

    Before there is enough board to make a five-card hand (Hold'em and Omaha preflop), a pair in the
    hole cards is the only pair there is.
    """
    variant = _VARIANT_BY_HOLE_COUNT.get(len(hole))
    if variant is None:
        raise ValueError(f"cannot tell the game from {len(hole)} hole cards (expected 2, 4 or 5)")
    if variant == FIVE_CARD_DRAW or len(board) >= 3:
        return best_hand(variant, hole, board).category >= PAIR
    return len({card.rank for card in hole}) < len(hole)


def decide(request: player_pb2.ActionRequested) -> BotDecision:
    """The reference bot's answer to ``request``.

    Raises:
        ValueError: the request's hole cards do not identify a supported game or are not valid cards.
    """
    hole = from_protos(request.hole_cards)
    board = from_protos(request.community_cards)
    if len(hole) not in _VARIANT_BY_HOLE_COUNT:
        raise ValueError(f"cannot tell the game from {len(hole)} hole cards (expected 2, 4 or 5)")
    player = request.player_root
    if request.is_draw:
        return BotDecision(request.hand_root, hand_pb2.RequestDraw(player_root=player,
                                                                   card_indices=draw_discards(hole)))
    if request.min_raise > 0 and has_pair_or_better(hole, board):
        # BET opens a round; a preflop round is opened by the blinds, so there it is always a raise.
        opens = request.amount_to_call == 0 and request.phase != poker_types_pb2.PREFLOP
        action = poker_types_pb2.BET if opens else poker_types_pb2.RAISE
        return _action(request, action, request.min_raise)
    if request.amount_to_call == 0:
        return _action(request, poker_types_pb2.CHECK)
    if 4 * request.amount_to_call <= request.pot_size:
        return _action(request, poker_types_pb2.CALL)
    return _action(request, poker_types_pb2.FOLD)


def _action(request: player_pb2.ActionRequested, action: int, amount: int = 0) -> BotDecision:
    return BotDecision(request.hand_root,
                       hand_pb2.PlayerAction(player_root=request.player_root, action=action, amount=amount))
