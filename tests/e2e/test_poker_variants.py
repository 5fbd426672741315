"""End to end: the standalone poker system plays N hands of each variant with reference bots driven through
``angzarr_client`` (spec poker §8), and afterwards everything the spec promises holds:

every hand reached ``HandComplete`` (and was settled exactly once); the table is ``waiting`` with
``hand_count = N``; Σ bankrolls = Σ deposits − Σ withdrawals, per player M1, and no reservation outlives
a player leaving; every saga and process-manager reaction was applied exactly once and nothing went to
the dead-letter queue; the hand log lists every hand and winner by name; the system shuts down cleanly.
"""

from __future__ import annotations

import pytest
from poker_checks import (
    check_every_hand_completed,
    check_hand_invariants,
    check_hand_log,
    check_money,
    check_reactions_applied_once,
    check_seats_match_reservations,
    check_snapshots_match_full_history,
    check_table_idle,
    connect,
    dead_letters,
    wait_until_quiescent,
)

from poker_contracts import player_pb2, poker_types_pb2
from poker_demo import GameSettings, PokerGame
from poker_demo.game import VARIANTS

# Fewer hands than the demo's 20 where the spec allows ("N hands"), to keep the suite short. The deals are
# fixed by the seeds; with the draw seed nobody busts out within N hands (the reference bots' pair-raising
# wars in five-card draw end many seeds' games after a few hands, which is a shorter test, not a failure).
HANDS = {"holdem": 20, "omaha": 10, "draw": 10}
SEEDS = {"holdem": "e2e-holdem", "omaha": "e2e-omaha", "draw": "draw-a"}
WITHDRAWAL = 150


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["holdem", "omaha", "draw"])
def test_bots_play_a_whole_game_and_the_books_balance(start_system, variant):
    system = start_system(variant)
    hands = HANDS[variant]
    settings = GameSettings(variant=VARIANTS[variant], players=4, hands=hands, seed=SEEDS[variant],
                            step_timeout=60)
    with connect(system) as clients:
        game = PokerGame(clients, settings)
        game.setup()
        played = game.play()
        check_seats_match_reservations(wait_until_quiescent(clients, game), game)
        game.leave()
        # A withdrawal after leaving, so "deposits − withdrawals" is more than the deposits.
        first = game.bots[0]
        game.send("player", first.root, player_pb2.WithdrawFunds(
            amount=poker_types_pb2.Currency(amount=WITHDRAWAL, currency_code="CHIPS")))

        assert len(played) == hands, f"the game stopped after {len(played)} of {hands} hands"
        assert [h.rejections for h in played] == [[] for _ in played], "a bot's answer was refused"
        assert all(h.timeouts == 0 for h in played), "the bots answer at once; nobody should time out"

        history = wait_until_quiescent(clients, game)
        check_every_hand_completed(history, hands)
        check_hand_invariants(history)
        check_table_idle(history, game, hands)
        check_money(history, game)
        check_reactions_applied_once(history, game)
        assert dead_letters(system) == []
        check_hand_log(system.run_dir / "data" / "hand_log.txt", history, game,
                       extra=[f"{first.name} withdraws ${WITHDRAWAL}", *(f"{b.name} releases $" for b in game.bots)])

    assert system.stop() == 0, f"angzarr standalone did not shut down cleanly:\n{system.log_tail()}"
    stored = check_snapshots_match_full_history(system.run_dir / "data" / "angzarr.db")
    if variant != "holdem":  # Omaha and draw hands run past the hand's snapshot interval (25 events)
        assert stored["hand"] > 0, f"no hand was long enough to be snapshotted: {dict(stored)}"
