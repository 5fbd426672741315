"""Table settings: what ``CreateTable`` may ask for and the defaults it gets (spec poker §3).

A 0 means "the default": 9 seats (5 for draw), buy-ins of 20 to 100 big blinds, 30 seconds to act.
"""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from angzarr_client import CommandRejectedError
from poker_contracts import table_pb2 as pb
from poker_contracts.poker_types_pb2 import FIVE_CARD_DRAW, OMAHA, TEXAS_HOLDEM, GameVariant

invalid = CommandRejectedError.invalid_argument

SUPPORTED_VARIANTS = (TEXAS_HOLDEM, OMAHA, FIVE_CARD_DRAW)
DEFAULT_SEATS, MAX_SEATS = 9, 10
DRAW_SEATS = 5  # 5 cards each plus replacements must fit in one deck
DEFAULT_ACTION_TIMEOUT_SECONDS, MAX_ACTION_TIMEOUT_SECONDS = 30, 3600
DEFAULT_MIN_BUY_IN_BIG_BLINDS, DEFAULT_MAX_BUY_IN_BIG_BLINDS = 20, 100
INT64_MAX = 2**63 - 1


def table_created(cmd: pb.CreateTable, created_at: Timestamp) -> pb.TableCreated:
    """The ``TableCreated`` event for ``cmd``, with every default filled in.

    Raises:
        CommandRejectedError: INVALID_ARGUMENT for the first setting out of range, in the spec's order.
    """
    if not cmd.table_name.strip():
        raise invalid("table_name is required")
    if cmd.game_variant not in SUPPORTED_VARIANTS:
        raise invalid(f"game variant {_variant_name(cmd.game_variant)} is not supported: "
                      "use TEXAS_HOLDEM, OMAHA or FIVE_CARD_DRAW")
    if cmd.small_blind <= 0 or cmd.big_blind <= 0:
        raise invalid("small_blind and big_blind must be positive")
    if cmd.big_blind < cmd.small_blind:
        raise invalid("big_blind must be at least small_blind")
    draw = cmd.game_variant == FIVE_CARD_DRAW
    seat_limit = DRAW_SEATS if draw else MAX_SEATS
    max_players = cmd.max_players or (DRAW_SEATS if draw else DEFAULT_SEATS)
    if not 2 <= max_players <= seat_limit:
        raise invalid(f"max_players must be between 2 and {seat_limit}, got {max_players}")
    if min(cmd.min_buy_in, cmd.max_buy_in, cmd.action_timeout_seconds) < 0:
        raise invalid("min_buy_in, max_buy_in and action_timeout_seconds must not be negative (0 = default)")
    min_buy_in = cmd.min_buy_in or DEFAULT_MIN_BUY_IN_BIG_BLINDS * cmd.big_blind
    max_buy_in = cmd.max_buy_in or DEFAULT_MAX_BUY_IN_BIG_BLINDS * cmd.big_blind
    if max_buy_in > INT64_MAX:
        raise invalid("max_buy_in out of range: with a big_blind this large, give min_buy_in and max_buy_in")
    if min_buy_in > max_buy_in:
        raise invalid(f"min_buy_in {min_buy_in} must not exceed max_buy_in {max_buy_in}")
    if cmd.action_timeout_seconds > MAX_ACTION_TIMEOUT_SECONDS:
        raise invalid(f"action_timeout_seconds must be at most {MAX_ACTION_TIMEOUT_SECONDS}")
    return pb.TableCreated(
        table_name=cmd.table_name, game_variant=cmd.game_variant, small_blind=cmd.small_blind,
        big_blind=cmd.big_blind, min_buy_in=min_buy_in, max_buy_in=max_buy_in, max_players=max_players,
        action_timeout_seconds=cmd.action_timeout_seconds or DEFAULT_ACTION_TIMEOUT_SECONDS, created_at=created_at,
    )


def _variant_name(variant: int) -> str:
    return GameVariant.Name(variant) if variant in GameVariant.values() else str(variant)
