"""End to end under a fault: a business service process is killed (SIGKILL) in the middle of a hand. The
standalone supervisor restarts it, the coordinator's deliveries resume from their checkpoints, and the
game completes with every invariant intact (spec coordinator §10.2, poker §1 and §8).
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from poker_checks import (
    check_every_hand_completed,
    check_hand_invariants,
    check_hand_log,
    check_money,
    check_reactions_applied_once,
    check_table_idle,
    connect,
    dead_letters,
    wait_until_quiescent,
)

from poker_demo import GameSettings, HandSummary, PokerGame, StandaloneSystem

HANDS = 4
KILL_IN_HAND = 3


class KillingGame(PokerGame):
    """Plays like the demo, but SIGKILLs ``victim`` just before answering hand #3's first request."""

    def __init__(self, *args, system: StandaloneSystem, victim: str, **kw) -> None:
        super().__init__(*args, **kw)
        self.system = system
        self.victim = victim
        self.killed_pid: int | None = None

    def answer(self, summary: HandSummary, request) -> None:
        if self.killed_pid is None and summary.number == KILL_IN_HAND:
            self.killed_pid = self.system.service_pids()[self.victim]
            os.kill(self.killed_pid, signal.SIGKILL)
        super().answer(summary, request)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _restarted_pid(system: StandaloneSystem, service: str, old: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = system.service_pids().get(service)
        if pid is not None and pid != old:
            return pid
        time.sleep(0.1)
    raise AssertionError(f"the supervisor did not restart {service} within {timeout:.0f} s:\n{system.log_tail()}")


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["hand", "table", "player"])
def test_a_killed_service_is_restarted_and_the_game_completes_intact(start_system, victim):
    system = start_system(f"kill-{victim}")
    settings = GameSettings(players=4, hands=HANDS, seed=f"fault-{victim}", step_timeout=90)
    with connect(system) as clients:
        game = KillingGame(clients, settings, system=system, victim=victim)
        game.setup()
        played = game.play()
        game.leave()

        assert game.killed_pid is not None, f"hand #{KILL_IN_HAND} asked nobody to act; nothing was killed"
        assert not _alive(game.killed_pid)
        restarted = _restarted_pid(system, victim, game.killed_pid)
        assert _alive(restarted)

        assert len(played) == HANDS
        assert [h.rejections for h in played] == [[] for _ in played], "a bot's answer was refused"
        history = wait_until_quiescent(clients, game, timeout=60)
        check_every_hand_completed(history, HANDS)
        check_hand_invariants(history)
        check_table_idle(history, game, HANDS)
        check_money(history, game)
        check_reactions_applied_once(history, game)
        assert dead_letters(system) == []
        check_hand_log(system.run_dir / "data" / "hand_log.txt", history, game, timeout=60)

    assert system.stop() == 0, f"angzarr standalone did not shut down cleanly:\n{system.log_tail()}"
