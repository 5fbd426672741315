"""Dealing a hand (spec §4.2, §4.3 DealCards): input checks, the seeded shuffle and hole cards."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from angzarr_client.errors import CommandRejectedError
from poker_contracts.hand_pb2 import CardsDealt, DealCards, PlayerHoleCards, PlayerInHand
from poker_rules.cards import to_protos
from poker_rules.deck import deal_hole_cards, deal_order, effective_deck_seed, shuffled_deck

from .games import Game, game_of
from .state import DEFAULT_ACTION_TIMEOUT_SECONDS

ROOT_SIZE = 16


def _invalid(message: str) -> CommandRejectedError:
    return CommandRejectedError.invalid_argument(message)


def validate_deal(cmd: DealCards) -> Game:
    """Check a ``DealCards`` command's input, in the order of spec §4.3; return its game.

    Raises:
        CommandRejectedError: INVALID_ARGUMENT naming the first problem found.
    """
    if not cmd.table_root:
        raise _invalid("table_root is required")
    if len(cmd.table_root) != ROOT_SIZE:
        raise _invalid(f"table_root must be a {ROOT_SIZE}-byte root, got {len(cmd.table_root)} bytes")
    if cmd.hand_number <= 0:
        raise _invalid(f"hand_number must be positive, got {cmd.hand_number}")
    game = game_of(cmd.game_variant)
    if game is None:
        raise _invalid(f"game variant {cmd.game_variant} is not supported: use TEXAS_HOLDEM, OMAHA or FIVE_CARD_DRAW")
    if len(cmd.players) < 2:
        raise _invalid(f"A hand needs at least 2 players, got {len(cmd.players)}")
    if len(cmd.players) > game.max_players:
        raise _invalid(f"This game seats at most {game.max_players} players, got {len(cmd.players)}")
    roots = [p.player_root for p in cmd.players]
    seats = [p.position for p in cmd.players]
    if not all(roots) or len(set(roots)) != len(roots) or len(set(seats)) != len(seats) or min(seats) < 0:
        raise _invalid("players need distinct non-empty roots and distinct seats (0 or more)")
    for player in cmd.players:
        if player.stack <= 0:
            raise _invalid(f"stack of seat {player.position} must be positive, got {player.stack}")
    if cmd.small_blind <= 0 or cmd.big_blind < cmd.small_blind:
        raise _invalid(
            f"small blind must be positive and big blind at least the small blind, got {cmd.small_blind}/{cmd.big_blind}"
        )
    if cmd.dealer_position not in seats:
        raise _invalid(f"dealer_position {cmd.dealer_position} is not a player's seat ({sorted(seats)})")
    if cmd.action_timeout_seconds < 0:
        raise _invalid(f"action_timeout_seconds must not be negative, got {cmd.action_timeout_seconds}")
    return game


def blind_positions(seats: list[int], dealer_position: int) -> tuple[int, int]:
    """Small and big blind seats: heads-up the dealer posts the small blind, else the next two seats."""
    order = deal_order(seats, dealer_position)
    if len(order) == 2:
        return dealer_position, order[0]
    return order[0], order[1]


def deal(cmd: DealCards, game: Game, *, correlation_id: str, dealt_at: Timestamp) -> CardsDealt:
    """Shuffle with the hand's seed and deal hole cards round-robin from the first seat after the button.

    ``cmd`` must have passed :func:`validate_deal`.
    """
    seed = effective_deck_seed(cmd.deck_seed, cmd.table_root, cmd.hand_number)
    seated = sorted(cmd.players, key=lambda p: p.position)
    seats = [p.position for p in seated]
    hole, remaining = deal_hole_cards(
        shuffled_deck(seed), deal_order(seats, cmd.dealer_position), game.hole_cards
    )
    small, big = blind_positions(seats, cmd.dealer_position)
    return CardsDealt(
        table_root=cmd.table_root,
        hand_number=cmd.hand_number,
        game_variant=cmd.game_variant,
        player_cards=[PlayerHoleCards(player_root=p.player_root, cards=to_protos(hole[p.position])) for p in seated],
        dealer_position=cmd.dealer_position,
        players=[PlayerInHand(player_root=p.player_root, position=p.position, stack=p.stack) for p in seated],
        dealt_at=dealt_at,
        remaining_deck=to_protos(remaining),
        small_blind=cmd.small_blind,
        big_blind=cmd.big_blind,
        small_blind_position=small,
        big_blind_position=big,
        deck_seed=seed,
        action_timeout_seconds=cmd.action_timeout_seconds or DEFAULT_ACTION_TIMEOUT_SECONDS,
        correlation_id=correlation_id,
    )
