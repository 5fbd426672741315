"""End to end, the timeout run (spec poker §8): the table gives 1 s to act and one bot never answers. Each
of its turns ends in ``PlayerTimedOut`` (CHECK when nothing is owed, FOLD otherwise), decided by the hand
aggregate when the hand service's action clock fires; the game completes and the books balance."""

from __future__ import annotations

import pytest
from poker_checks import (
    check_every_hand_completed,
    check_hand_invariants,
    check_money,
    check_reactions_applied_once,
    check_table_idle,
    connect,
    dead_letters,
    wait_until_quiescent,
)

from poker_contracts import hand_pb2, player_pb2, poker_types_pb2
from poker_demo import GameSettings, HandSummary, PokerGame

HANDS = 4


class SilentBotGame(PokerGame):
    """The demo's game, except that the last bot never answers."""

    def answer(self, summary: HandSummary, request: player_pb2.ActionRequested) -> None:
        if request.player_root != self.bots[-1].root:
            super().answer(summary, request)


@pytest.mark.slow
def test_a_silent_player_is_timed_out_on_every_turn_and_the_game_completes(start_system):
    system = start_system("timeouts")
    settings = GameSettings(players=3, hands=HANDS, seed="timeouts", action_timeout_seconds=1, step_timeout=60)
    with connect(system) as clients:
        game = SilentBotGame(clients, settings)
        game.setup()
        played = game.play()
        game.leave()
        assert len(played) == HANDS

        silent = game.bots[-1].root
        history = wait_until_quiescent(clients, game)
        asked = history.of_type("player", player_pb2.ActionRequested, silent)
        # Only the silent bot's turns must time out. On a heavily loaded machine an answering bot can miss
        # a 1 s deadline too; that is the clock doing its job, so those timeouts are not counted here.
        timed_out = [t for t in history.of_type("hand", hand_pb2.PlayerTimedOut) if t.player_root == silent]
        assert asked, "the silent bot was never asked to act; the seed tests nothing"
        assert len(timed_out) == len(asked), f"{len(asked)} turns of the silent bot, {len(timed_out)} timeouts"
        for hand_root in history.hand_roots():
            requests = [r for r in asked if r.hand_root == hand_root]
            outs = [t for t in history.of_type("hand", hand_pb2.PlayerTimedOut, hand_root) if t.player_root == silent]
            expected = [poker_types_pb2.CHECK if r.amount_to_call == 0 else poker_types_pb2.FOLD for r in requests]
            assert [t.default_action for t in outs] == expected

        check_every_hand_completed(history, HANDS)
        check_hand_invariants(history)
        check_table_idle(history, game, HANDS)
        check_money(history, game)
        check_reactions_applied_once(history, game)
        assert dead_letters(system) == []

    assert system.stop() == 0, f"angzarr standalone did not shut down cleanly:\n{system.log_tail()}"
