"""Betting rules of a hand (spec §0.4 hand terms, §4.4) as pure functions over ``HandState``.

Nothing here changes state: the aggregate decides with these functions and the appliers in
:mod:`hand.state` record the outcome. Players are kept in seat order in ``HandState.players``.
"""

from __future__ import annotations

from dataclasses import dataclass

from angzarr_client.errors import CommandRejectedError
from poker_contracts.hand_pb2 import HandState, PlayerHandState
from poker_contracts.poker_types_pb2 import ALL_IN, BET, CALL, CHECK, FOLD, RAISE

from .games import game_of


def is_live(player: PlayerHandState) -> bool:
    """Live = not folded and not mucked."""
    return not player.has_folded and not player.has_mucked


def is_actor(player: PlayerHandState) -> bool:
    """An actor is live and not all-in: someone who can still put chips in."""
    return is_live(player) and not player.is_all_in


def live_players(state: HandState) -> list[PlayerHandState]:
    return [p for p in state.players if is_live(p)]


def actors(state: HandState) -> list[PlayerHandState]:
    return [p for p in state.players if is_actor(p)]


def pot_total(state: HandState) -> int:
    """Σ ``total_invested`` of all players, the current round included."""
    return sum(p.total_invested for p in state.players)


def owed(state: HandState, player: PlayerHandState) -> int:
    """What the player must add to stay in: ``current_bet − bet_this_round`` (never negative)."""
    return max(0, state.current_bet - player.bet_this_round)


def all_in_level(player: PlayerHandState) -> int:
    """The bet level the player reaches by putting in the whole stack."""
    return player.bet_this_round + player.stack


def clockwise_after(state: HandState, position: int) -> list[PlayerHandState]:
    """All players in clockwise order starting after ``position``; the one at ``position`` comes last."""
    ordered = sorted(state.players, key=lambda p: p.position)
    after = [p for p in ordered if p.position > position]
    return after + [p for p in ordered if p.position <= position]


def first_actor_after(state: HandState, position: int) -> int:
    """Seat of the first actor clockwise after ``position``, or −1 if nobody can act."""
    return next((p.position for p in clockwise_after(state, position) if is_actor(p)), -1)


def next_to_act(state: HandState, position: int) -> int:
    """Seat of the next actor after ``position`` who has not acted or still owes, or −1."""
    for p in clockwise_after(state, position):
        if is_actor(p) and (not p.has_acted or owed(state, p) > 0):
            return p.position
    return -1


def round_over(state: HandState) -> bool:
    """A round ends when live ≤ 1, or every actor has matched the bet and acted (or acts alone)."""
    if len(live_players(state)) <= 1:
        return True
    acting = actors(state)
    return all(
        p.bet_this_round == state.current_bet and (p.has_acted or len(acting) <= 1) for p in acting
    )


def may_raise(state: HandState, player: PlayerHandState) -> bool:
    """Whether the player may bet or raise.

    A short all-in does not reopen the betting for someone who already acted, unless the increments
    since they acted add up to a full raise.
    """
    others_can_act = any(is_actor(p) and p.player_root != player.player_root for p in state.players)
    reopened = not player.acted_this_round or state.current_bet - player.acted_level >= state.min_raise
    return others_can_act and player.stack > owed(state, player) and reopened


def min_to(state: HandState) -> int:
    """The smallest level a bet or raise may go to (``big_blind`` when no bet has been made)."""
    if state.current_bet == 0:
        return state.big_blind
    return state.current_bet + state.min_raise


def pot_max(state: HandState, player: PlayerHandState) -> int:
    """The pot-limit ceiling: ``current_bet + pot total + owed``."""
    return state.current_bet + pot_total(state) + owed(state, player)


@dataclass(frozen=True)
class Decision:
    """The outcome of a legal action: what ``ActionTaken`` records and how many chips move."""

    action: int
    amount: int
    chips: int


def decide(state: HandState, player: PlayerHandState, action: int, amount: int) -> Decision:
    """Apply the per-action checks of §4.4 for the player whose turn it is.

    Raises :class:`CommandRejectedError` (INVALID_ARGUMENT or FAILED_PRECONDITION as the spec classes
    it) when the action is not allowed. The common checks (turn, folded, all-in) are the caller's.
    """
    if action == FOLD:
        return Decision(FOLD, 0, 0)
    if action == CHECK:
        return _check(state, player)
    if action == CALL:
        return _call(state, player)
    if action == BET:
        return _bet(state, player, amount)
    if action == RAISE:
        return _raise(state, player, amount)
    if action == ALL_IN:
        return _all_in(state, player)
    raise CommandRejectedError.invalid_argument(f"Invalid action {action}: use FOLD, CHECK, CALL, BET, RAISE or ALL_IN")


def _check(state: HandState, player: PlayerHandState) -> Decision:
    due = owed(state, player)
    if due > 0:
        raise CommandRejectedError.invalid_argument(f"You cannot check facing a bet of {due}: call, raise or fold")
    return Decision(CHECK, 0, 0)


def _call(state: HandState, player: PlayerHandState) -> Decision:
    due = owed(state, player)
    if due == 0:
        raise CommandRejectedError.precondition_failed("Nothing to call: check or bet instead")
    chips = min(due, player.stack)
    if chips == player.stack:
        return Decision(ALL_IN, all_in_level(player), chips)
    return Decision(CALL, chips, chips)


def _bet(state: HandState, player: PlayerHandState, amount: int) -> Decision:
    if state.current_bet > 0:
        raise CommandRejectedError.precondition_failed("There is already a bet: call, raise or fold")
    _require_may_raise(state, player)
    if amount > player.stack:
        raise CommandRejectedError.precondition_failed(f"Bet of {amount} exceeds stack of {player.stack}")
    if amount < state.big_blind and amount < player.stack:
        raise CommandRejectedError.invalid_argument(f"Bet must be at least {state.big_blind}")
    _require_within_pot_limit(state, player, amount)
    return Decision(ALL_IN if amount == player.stack else BET, amount, amount)


def _raise(state: HandState, player: PlayerHandState, amount: int) -> Decision:
    if state.current_bet == 0:
        raise CommandRejectedError.precondition_failed("There is no bet to raise: bet instead")
    _require_may_raise(state, player)
    chips = amount - player.bet_this_round
    if chips > player.stack:
        raise CommandRejectedError.precondition_failed(
            f"Raise to {amount} exceeds stack of {player.stack} (all-in level {all_in_level(player)})"
        )
    lowest = min_to(state)
    if amount < lowest and amount != all_in_level(player):
        raise CommandRejectedError.invalid_argument(f"Raise must be at least {lowest} (or go all-in)")
    _require_within_pot_limit(state, player, amount)
    return Decision(ALL_IN if chips == player.stack else RAISE, amount, chips)


def _all_in(state: HandState, player: PlayerHandState) -> Decision:
    level = all_in_level(player)
    if level > state.current_bet and not may_raise(state, player):
        raise CommandRejectedError.precondition_failed("Betting is not reopened: you may only call or fold")
    _require_within_pot_limit(state, player, level)
    return Decision(ALL_IN, level, player.stack)


def _require_may_raise(state: HandState, player: PlayerHandState) -> None:
    if not may_raise(state, player):
        raise CommandRejectedError.precondition_failed("Betting is not reopened: you may only call or fold")


def _require_within_pot_limit(state: HandState, player: PlayerHandState, level: int) -> None:
    game = game_of(state.game_variant)
    if game is not None and game.pot_limit:
        ceiling = pot_max(state, player)
        if level > ceiling:
            raise CommandRejectedError.invalid_argument(f"{level} is over the pot limit: at most {ceiling}")
