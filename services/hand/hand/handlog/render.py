"""How each event reads in the hand log (spec poker §7): pure functions from an event to its lines.

A renderer takes the event, a :class:`Names` lookup and the root of the aggregate that emitted it
(the book's cover root), and returns the event's lines. A leading two-space indent marks in-hand
action lines; a blank line opens each hand. Money reads ``$1,000`` / ``-$150``, cards ``[As Kd]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.message import Message

from poker_contracts import hand_pb2, player_pb2, table_pb2
from poker_contracts.poker_types_pb2 import (
    AI,
    ALL_IN,
    BET,
    CALL,
    CHECK,
    DRAW,
    FIVE_CARD_DRAW,
    FLOP,
    FOLD,
    OMAHA,
    PREFLOP,
    RAISE,
    RIVER,
    SEVEN_CARD_STUD,
    TEXAS_HOLDEM,
    TURN,
    HandRanking,
)
from poker_rules.cards import format_cards, from_protos
from poker_rules.evaluator import CATEGORY_NAMES

VARIANT_NAMES: dict[int, str] = {
    TEXAS_HOLDEM: "No-limit Texas Hold'em",
    OMAHA: "Pot-limit Omaha",
    FIVE_CARD_DRAW: "No-limit Five-card draw",
    SEVEN_CARD_STUD: "Seven-card stud",
}
PHASE_NAMES: dict[int, str] = {PREFLOP: "Preflop", FLOP: "Flop", TURN: "Turn", RIVER: "River", DRAW: "Draw"}
STREET_NAMES: dict[int, str] = {FLOP: "FLOP", TURN: "TURN", RIVER: "RIVER"}
INDENT = "  "


@dataclass(frozen=True)
class HandInfo:
    """What the log knows of a hand: its table, its number and who sat where (seat order)."""

    table_root: bytes
    number: int
    seats: tuple[tuple[int, bytes], ...] = ()


class Names(Protocol):
    """Display names for roots; a root without a known name reads ``Player_``/``Table_`` + 8 hex."""

    def player(self, root: bytes) -> str: ...

    def table(self, root: bytes) -> str: ...

    def hand(self, root: bytes) -> HandInfo | None: ...


def player_fallback(root: bytes) -> str:
    return "Player_" + root.hex()[:8]


def table_fallback(root: bytes) -> str:
    return "Table_" + root.hex()[:8]


# -- formatting -------------------------------------------------------------------------------------


def money(amount: int) -> str:
    """``$1,000`` for 1000, ``-$150`` for −150."""
    return f"-${-amount:,}" if amount < 0 else f"${amount:,}"


def signed_money(amount: int) -> str:
    """A change: ``+$300``, ``-$200``, and ``±$0`` for none."""
    if amount == 0:
        return "±$0"
    return f"+${amount:,}" if amount > 0 else money(amount)


def cards(protos: Iterable) -> str:
    """``[As Kd]``; cards that are not real cards read ``??`` rather than failing the log."""
    try:
        return "[" + format_cards(from_protos(protos)) + "]"
    except ValueError:
        return "[" + " ".join("??" for _ in protos) + "]"


def variant_name(variant: int) -> str:
    return VARIANT_NAMES.get(variant, f"variant {variant}")


def rank_name(ranking: HandRanking) -> str | None:
    """``Royal Flush`` … ``High Card``, or ``None`` for an unranked hand."""
    return CATEGORY_NAMES.get(ranking.rank_type)


def pot_name(pot_type: str) -> str:
    """``main`` (or empty) → ``the main pot``; ``side-k`` → ``side pot k``."""
    if pot_type in ("", "main"):
        return "the main pot"
    if pot_type.startswith("side-"):
        return "side pot " + pot_type[len("side-"):]
    return pot_type


def hand_number(names: Names, hand_root: bytes) -> str:
    info = names.hand(hand_root)
    return str(info.number) if info is not None else "?"


# -- player events ----------------------------------------------------------------------------------


def player_registered(event: player_pb2.PlayerRegistered, names: Names, root: bytes) -> list[str]:
    kind = "AI" if event.player_type == AI else "Human"
    return [f"{event.display_name or names.player(root)} registered ({kind})"]


def funds_deposited(event: player_pb2.FundsDeposited, names: Names, root: bytes) -> list[str]:
    return [f"{names.player(root)} deposits {money(event.amount.amount)} (bankroll {money(event.new_balance.amount)})"]


def funds_withdrawn(event: player_pb2.FundsWithdrawn, names: Names, root: bytes) -> list[str]:
    return [f"{names.player(root)} withdraws {money(event.amount.amount)} (bankroll {money(event.new_balance.amount)})"]


def funds_reserved(event: player_pb2.FundsReserved, names: Names, root: bytes) -> list[str]:
    return [f"{names.player(root)} reserves {money(event.amount.amount)} for {names.table(event.table_root)}"]


def funds_released(event: player_pb2.FundsReleased, names: Names, root: bytes) -> list[str]:
    return [f"{names.player(root)} releases {money(event.amount.amount)} from {names.table(event.table_root)}"]


def funds_transferred(event: player_pb2.FundsTransferred, names: Names, root: bytes) -> list[str]:
    amount = event.amount.amount
    verb = "wins" if amount > 0 else "loses"
    return [
        f"{names.player(root)} {verb} {money(abs(amount))} in hand #{hand_number(names, event.hand_root)} "
        f"at {names.table(event.table_root)} (bankroll {money(event.new_balance.amount)})"
    ]


def player_sitting_out(event: player_pb2.PlayerSittingOut, names: Names, root: bytes) -> list[str]:
    return [f"{names.player(root)} sits out at {names.table(event.table_root)}"]


def player_returning(event: player_pb2.PlayerReturningToPlay, names: Names, root: bytes) -> list[str]:
    return [f"{names.player(root)} returns to {names.table(event.table_root)}"]


def action_requested(event: player_pb2.ActionRequested, names: Names, root: bytes) -> list[str]:
    return []


# -- table events -----------------------------------------------------------------------------------


def table_created(event: table_pb2.TableCreated, names: Names, root: bytes) -> list[str]:
    return [
        f"Table {event.table_name or names.table(root)} created: {variant_name(event.game_variant)}, "
        f"blinds {money(event.small_blind)}/{money(event.big_blind)}, "
        f"buy-in {money(event.min_buy_in)}-{money(event.max_buy_in)}, {event.max_players} seats, "
        f"{event.action_timeout_seconds}s to act"
    ]


def player_joined(event: table_pb2.PlayerJoined, names: Names, root: bytes) -> list[str]:
    return [
        f"{names.player(event.player_root)} sits down at {names.table(root)} seat {event.seat_position} "
        f"with {money(event.stack)}"
    ]


def player_left(event: table_pb2.PlayerLeft, names: Names, root: bytes) -> list[str]:
    return [
        f"{names.player(event.player_root)} leaves {names.table(root)} seat {event.seat_position} "
        f"with {money(event.chips_cashed_out)}"
    ]


def player_sat_out(event: table_pb2.PlayerSatOut, names: Names, root: bytes) -> list[str]:
    return [f"{names.player(event.player_root)} is sitting out"]


def player_sat_in(event: table_pb2.PlayerSatIn, names: Names, root: bytes) -> list[str]:
    return [f"{names.player(event.player_root)} is back in"]


def hand_started(event: table_pb2.HandStarted, names: Names, root: bytes) -> list[str]:
    lines = [
        "",
        f"=== {names.table(root)} hand #{event.hand_number} ===",
        f"Button seat {event.dealer_position}, blinds {money(event.small_blind)}/{money(event.big_blind)}",
    ]
    for seat in sorted(event.active_players, key=lambda s: s.position):
        marks = "".join(
            mark for mark, position in (
                (" [D]", event.dealer_position),
                (" [SB]", event.small_blind_position),
                (" [BB]", event.big_blind_position),
            )
            if position == seat.position
        )
        lines.append(f"{INDENT}seat {seat.position}: {names.player(seat.player_root)} {money(seat.stack)}{marks}")
    return lines


def hand_ended(event: table_pb2.HandEnded, names: Names, root: bytes) -> list[str]:
    info = names.hand(event.hand_root)
    changes = dict(event.stack_changes)
    order = [player.hex() for _, player in info.seats] if info is not None else []
    # Seat order when the hand's seats are known; any other entry follows, by key.
    keys = [k for k in order if k in changes] + sorted(k for k in changes if k not in order)
    parts = [f"{names.player(bytes.fromhex(k)) if _is_hex_root(k) else k} {signed_money(changes[k])}" for k in keys]
    return [f"Hand #{hand_number(names, event.hand_root)} settled: " + ", ".join(parts)]


def _is_hex_root(key: str) -> bool:
    try:
        return len(bytes.fromhex(key)) == 16
    except ValueError:
        return False


# -- hand events ------------------------------------------------------------------------------------


def cards_dealt(event: hand_pb2.CardsDealt, names: Names, root: bytes) -> list[str]:
    lines = [f"Dealt {variant_name(event.game_variant)}:"]
    lines.extend(f"{INDENT}{names.player(pc.player_root)}: {cards(pc.cards)}" for pc in event.player_cards)
    return lines


def blind_posted(event: hand_pb2.BlindPosted, names: Names, root: bytes) -> list[str]:
    all_in = " and is all-in" if event.player_stack == 0 else ""
    return [f"{INDENT}{names.player(event.player_root)} posts the {event.blind_type} blind {money(event.amount)}{all_in}"]


_ACTION_WORDS: dict[int, Callable[[int], str]] = {
    FOLD: lambda a: "folds",
    CHECK: lambda a: "checks",
    CALL: lambda a: f"calls {money(a)}",
    BET: lambda a: f"bets {money(a)}",
    RAISE: lambda a: f"raises to {money(a)}",
    ALL_IN: lambda a: f"is all-in ({money(a)})",
}


def action_taken(event: hand_pb2.ActionTaken, names: Names, root: bytes) -> list[str]:
    words = _ACTION_WORDS.get(event.action, lambda a: f"acts ({event.action})")(event.amount)
    pot = "" if event.action in (FOLD, CHECK) else f" (pot {money(event.pot_total)})"
    return [f"{INDENT}{names.player(event.player_root)} {words}{pot}"]


def betting_round_complete(event: hand_pb2.BettingRoundComplete, names: Names, root: bytes) -> list[str]:
    phase = PHASE_NAMES.get(event.completed_phase, str(event.completed_phase))
    return [f"{INDENT}-- {phase} betting done, pot {money(event.pot_total)} --"]


def community_cards_dealt(event: hand_pb2.CommunityCardsDealt, names: Names, root: bytes) -> list[str]:
    street = STREET_NAMES.get(event.phase, str(event.phase))
    board = list(event.all_community_cards)
    new = len(event.cards)
    if event.phase == FLOP or new >= len(board):
        return [f"*** {street} *** {cards(board)}"]
    return [f"*** {street} *** {cards(board[:-new])} {cards(board[-new:])}"]


def draw_completed(event: hand_pb2.DrawCompleted, names: Names, root: bytes) -> list[str]:
    name = names.player(event.player_root)
    if event.cards_drawn == 0:
        return [f"{INDENT}{name} stands pat"]
    return [f"{INDENT}{name} draws {event.cards_drawn}"]


def showdown_started(event: hand_pb2.ShowdownStarted, names: Names, root: bytes) -> list[str]:
    return ["*** SHOWDOWN ***"]


def cards_revealed(event: hand_pb2.CardsRevealed, names: Names, root: bytes) -> list[str]:
    rank = rank_name(event.ranking)
    suffix = f" ({rank})" if rank else ""
    return [f"{INDENT}{names.player(event.player_root)} shows {cards(event.cards)}{suffix}"]


def cards_mucked(event: hand_pb2.CardsMucked, names: Names, root: bytes) -> list[str]:
    return [f"{INDENT}{names.player(event.player_root)} mucks"]


def pot_awarded(event: hand_pb2.PotAwarded, names: Names, root: bytes) -> list[str]:
    lines = []
    for winner in event.winners:
        rank = rank_name(winner.winning_hand) if winner.HasField("winning_hand") else None
        with_rank = f" with {rank}" if rank else ""
        lines.append(
            f"{INDENT}{names.player(winner.player_root)} wins {money(winner.amount)} from "
            f"{pot_name(winner.pot_type)}{with_rank}"
        )
    return lines


def hand_complete(event: hand_pb2.HandComplete, names: Names, root: bytes) -> list[str]:
    stacks = ", ".join(f"{names.player(s.player_root)} {money(s.stack)}" for s in event.final_stacks)
    return [f"Stacks after hand #{event.hand_number}: {stacks}"]


def player_timed_out(event: hand_pb2.PlayerTimedOut, names: Names, root: bytes) -> list[str]:
    outcome = "checks" if event.default_action == CHECK else "folds"
    return [f"{INDENT}{names.player(event.player_root)} ran out of time ({outcome})"]


def unrendered(type_name: str) -> list[str]:
    """The line of an event the log has no words for."""
    return [f"[unrendered {type_name}]"]


Renderer = Callable[[Message, Names, bytes], list[str]]

# (domain, event class) → renderer: every row of the spec §7 table.
RENDERERS: dict[tuple[str, type[Message]], Renderer] = {
    ("player", player_pb2.PlayerRegistered): player_registered,
    ("player", player_pb2.FundsDeposited): funds_deposited,
    ("player", player_pb2.FundsWithdrawn): funds_withdrawn,
    ("player", player_pb2.FundsReserved): funds_reserved,
    ("player", player_pb2.FundsReleased): funds_released,
    ("player", player_pb2.FundsTransferred): funds_transferred,
    ("player", player_pb2.PlayerSittingOut): player_sitting_out,
    ("player", player_pb2.PlayerReturningToPlay): player_returning,
    ("player", player_pb2.ActionRequested): action_requested,
    ("table", table_pb2.TableCreated): table_created,
    ("table", table_pb2.PlayerJoined): player_joined,
    ("table", table_pb2.PlayerLeft): player_left,
    ("table", table_pb2.PlayerSatOut): player_sat_out,
    ("table", table_pb2.PlayerSatIn): player_sat_in,
    ("table", table_pb2.HandStarted): hand_started,
    ("table", table_pb2.HandEnded): hand_ended,
    ("hand", hand_pb2.CardsDealt): cards_dealt,
    ("hand", hand_pb2.BlindPosted): blind_posted,
    ("hand", hand_pb2.ActionTaken): action_taken,
    ("hand", hand_pb2.BettingRoundComplete): betting_round_complete,
    ("hand", hand_pb2.CommunityCardsDealt): community_cards_dealt,
    ("hand", hand_pb2.DrawCompleted): draw_completed,
    ("hand", hand_pb2.ShowdownStarted): showdown_started,
    ("hand", hand_pb2.CardsRevealed): cards_revealed,
    ("hand", hand_pb2.CardsMucked): cards_mucked,
    ("hand", hand_pb2.PotAwarded): pot_awarded,
    ("hand", hand_pb2.HandComplete): hand_complete,
    ("hand", hand_pb2.PlayerTimedOut): player_timed_out,
}


def render(event: Message, names: Names, root: bytes, *, domain: str) -> list[str]:
    """The lines of ``event`` from ``domain``; ``[unrendered <full name>]`` when it has no row."""
    renderer = RENDERERS.get((domain, type(event)))
    if renderer is None:
        return unrendered(type(event).DESCRIPTOR.full_name)
    return renderer(event, names, root)
