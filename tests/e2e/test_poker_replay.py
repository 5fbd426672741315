"""End to end: the same seed and bots replay the same game. Two fresh systems play the same settings and
record identical events, payload for payload, timestamps and correlation ids aside (spec poker §8)."""

from __future__ import annotations

import pytest
from poker_checks import connect, game_payloads, read_history

from poker_demo import GameSettings, PokerGame


def _play(system, settings):
    with connect(system) as clients:
        game = PokerGame(clients, settings)
        game.setup()
        game.play()
        game.leave()
        game.wait_no_reservations()
        return game_payloads(read_history(clients, game))


def _first_deal(system, table: str, seed: str):
    with connect(system) as clients:
        game = PokerGame(clients, GameSettings(players=3, hands=1, seed=seed, table=table, step_timeout=60))
        game.setup()
        hand = game.play()[0]
        game.leave()
    return next(e.message for e in hand.events if e.name == "CardsDealt")


@pytest.mark.slow
def test_the_same_seed_replays_the_same_game_and_another_seed_does_not(start_system):
    settings = GameSettings(players=3, hands=4, seed="replay", step_timeout=60)
    first_system, second_system = start_system("first"), start_system("second")
    first = _play(first_system, settings)
    second = _play(second_system, settings)
    types = {name for _, name, _ in first}
    assert {"CardsDealt", "ActionTaken", "PotAwarded", "HandEnded", "FundsTransferred"} <= types
    assert len(first) == len(second)
    assert first == second

    # The seed is what fixes the deal: another seed on another table deals other cards.
    same, other = _first_deal(second_system, "again", "replay"), _first_deal(second_system, "other", "other")
    assert same.deck_seed == b"replay-1" and other.deck_seed == b"other-1"
    assert list(same.remaining_deck) != list(other.remaining_deck)
