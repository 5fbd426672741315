"""Showdown and awards of a hand (spec §4.5, §4.6) on top of ``poker_rules``.

Pots are layered from what every player invested; rankings come from the shared evaluator; odd chips
go clockwise from the first seat after the button.
"""

from __future__ import annotations

from poker_contracts.hand_pb2 import HandState, PlayerHandState, PotWinner
from poker_contracts.poker_types_pb2 import HandRanking
from poker_rules.cards import from_protos
from poker_rules.evaluator import best_hand, to_ranking_proto
from poker_rules.pots import MAIN_POT, Pot, award_pots, layer_pots
from poker_rules.pots import to_proto as pot_to_proto

from .betting import clockwise_after, live_players, pot_total
from .status import AWARDING


def contenders(state: HandState) -> list[PlayerHandState]:
    """Live players who have not mucked: those who can still win chips."""
    return live_players(state)


def layered_pots(state: HandState) -> list[Pot[bytes]]:
    """The current main and side pots, keyed by player root (empty when nobody contends)."""
    contending = [p.player_root for p in contenders(state)]
    if not contending:
        return []
    invested = {p.player_root: p.total_invested for p in state.players}
    return layer_pots(invested, contending)


def refresh_pots(state: HandState) -> None:
    """Record the current layering in ``state.pots`` (informational, for snapshots and readers)."""
    del state.pots[:]
    state.pots.extend(pot_to_proto(pot) for pot in layered_pots(state))


def ranking(state: HandState, player: PlayerHandState) -> HandRanking:
    """The player's showdown hand: best of hole cards and board under the hand's variant.

    Raises ``ValueError`` when the cards do not make a hand of the variant (a corrupt state).
    """
    value = best_hand(state.game_variant, from_protos(player.hole_cards), from_protos(state.community_cards))
    return to_ranking_proto(value)


def clockwise_from_button(state: HandState) -> list[bytes]:
    """Player roots clockwise, starting with the first seat after the button (odd-chip order)."""
    return [p.player_root for p in clockwise_after(state, state.dealer_position)]


def next_to_show(state: HandState) -> bytes:
    """The reveal cursor: the first player in ``show_order`` who has neither shown nor mucked (``b""``
    once everyone has)."""
    unshown = {p.player_root for p in state.players if not p.has_shown and not p.has_mucked}
    return next((root for root in state.show_order if root in unshown), b"")


def may_muck(state: HandState, player: PlayerHandState) -> bool:
    """A player may muck only if every pot they contest already has another eligible hand shown."""
    shown = {p.player_root for p in state.players if p.has_shown}
    for pot in layered_pots(state):
        if player.player_root in pot.eligible and not any(
            root in shown for root in pot.eligible if root != player.player_root
        ):
            return False
    return True


def compute_awards(state: HandState) -> list[PotWinner]:
    """Who wins what: uncontested, the whole pot to the last live player; at showdown, each pot to its
    best hand(s) among the contenders (even one left after the others mucked).

    Winners are listed pot by pot (``main``, ``side-1``, …) and, within a pot, clockwise from the first
    seat after the button. An uncontested pot has no ``winning_hand``.
    """
    remaining = contenders(state)
    if state.status == AWARDING:
        return [PotWinner(player_root=remaining[0].player_root, amount=pot_total(state), pot_type=MAIN_POT)]
    rankings = {p.player_root: ranking(state, p) for p in remaining}
    scores = {root: r.score for root, r in rankings.items()}
    awards = award_pots(layered_pots(state), scores, clockwise_from_button(state))
    return [
        PotWinner(player_root=root, amount=amount, pot_type=name, winning_hand=rankings[root])
        for root, amount, name in awards
    ]
