"""Pots and awards (spec poker §4.5): layering what players invested into main and side pots, and paying
each pot to its best eligible hand(s), odd chips clockwise from the first seat after the button.

Players are identified by any hashable key (the hand aggregate uses player roots); amounts are whole chips.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from poker_contracts import poker_types_pb2

K = TypeVar("K", bound=Hashable)

MAIN_POT = "main"


def pot_name(index: int) -> str:
    """Return the name of the ``index``-th layer: ``main``, then ``side-1``, ``side-2``, …"""
    return MAIN_POT if index == 0 else f"side-{index}"


@dataclass(frozen=True)
class Pot(Generic[K]):
    """One layer of the pot: its name, its chips and the players who may win it (in investment order)."""

    name: str
    amount: int
    eligible: tuple[K, ...]


def layer_pots(invested: Mapping[K, int], contenders: Collection[K]) -> list[Pot[K]]:
    """Split everything invested into pots at the contenders' investment levels.

    Cut levels are the distinct amounts the contenders invested, ascending. Layer i holds, over **all**
    players (folded ones too), min(invested, level i) − min(invested, level i−1), and is eligible to the
    contenders who invested at least level i. Chips above the top level join the top layer. Layers that hold
    no chips are left out; the rest are named ``main``, ``side-1``, …. Eligible players keep the order of
    ``invested``. A layer with one eligible player returns that player's uncalled chips.

    Raises:
        ValueError: there are no contenders, a contender has no entry in ``invested``, or an amount is not a
            non-negative int.
    """
    for key, amount in invested.items():
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ValueError(f"invested amount of {key!r} must be a non-negative int, got {amount!r}")
    contending = set(contenders)
    if not contending:
        raise ValueError("no contenders: at least one live player must remain to win the pot")
    missing = [c for c in contending if c not in invested]
    if missing:
        raise ValueError(f"contenders without an invested amount: {missing!r}")

    levels = sorted({invested[c] for c in contending})
    layers: list[tuple[int, tuple[K, ...]]] = []
    previous = 0
    for level in levels:
        amount = sum(min(chips, level) - min(chips, previous) for chips in invested.values())
        eligible = tuple(k for k in invested if k in contending and invested[k] >= level)
        layers.append((amount, eligible))
        previous = level
    # Chips a folded player put in above every contender's level still belong to the pot.
    above = sum(max(0, chips - levels[-1]) for chips in invested.values())
    top_amount, top_eligible = layers[-1]
    layers[-1] = (top_amount + above, top_eligible)

    non_empty = [(amount, eligible) for amount, eligible in layers if amount > 0]
    return [Pot(pot_name(i), amount, eligible) for i, (amount, eligible) in enumerate(non_empty)]


def award_pots(
    pots: Sequence[Pot[K]], scores: Mapping[K, int], clockwise_from_button: Sequence[K]
) -> list[tuple[K, int, str]]:
    """Pay each pot to its eligible player(s) with the highest score.

    Tied winners split evenly; the odd chips go one each to the tied winners in ``clockwise_from_button``
    order (players clockwise, starting with the first seat after the button). Returns ``(player, amount,
    pot name)`` for pots in order and, within a pot, winners in that clockwise order; a winner whose share
    is zero (a pot smaller than the number of tied winners) gets no entry.

    Raises:
        ValueError: a pot has no eligible player or a negative amount, an eligible player has no score, or a
            winner is missing from ``clockwise_from_button``.
    """
    seat_order = {key: i for i, key in enumerate(clockwise_from_button)}
    awards: list[tuple[K, int, str]] = []
    for pot in pots:
        if pot.amount < 0:
            raise ValueError(f"pot {pot.name!r} has a negative amount {pot.amount}")
        if not pot.eligible:
            raise ValueError(f"pot {pot.name!r} has no eligible player")
        unscored = [k for k in pot.eligible if k not in scores]
        if unscored:
            raise ValueError(f"eligible players of pot {pot.name!r} without a score: {unscored!r}")
        best = max(scores[k] for k in pot.eligible)
        winners = [k for k in pot.eligible if scores[k] == best]
        unseated = [k for k in winners if k not in seat_order]
        if unseated:
            raise ValueError(f"winners of pot {pot.name!r} missing from the clockwise order: {unseated!r}")
        winners.sort(key=seat_order.__getitem__)
        share, odd = divmod(pot.amount, len(winners))
        for i, winner in enumerate(winners):
            amount = share + (1 if i < odd else 0)
            if amount > 0:
                awards.append((winner, amount, pot.name))
    return awards


def to_proto(pot: Pot[bytes]) -> poker_types_pb2.Pot:
    """Return the `examples.Pot{amount, eligible_players, pot_type}` of a pot keyed by player roots.

    Raises:
        ValueError: an eligible key is not bytes.
    """
    if not all(isinstance(k, bytes | bytearray) for k in pot.eligible):
        raise ValueError("only pots keyed by player roots (bytes) convert to examples.Pot")
    return poker_types_pb2.Pot(
        amount=pot.amount, eligible_players=[bytes(k) for k in pot.eligible], pot_type=pot.name
    )
