"""Distributed mode under a fault: a coordinator sidecar is killed (SIGKILL) in the middle of a hand and
started again, as Kubernetes restarts a crashed container. Nothing acknowledged is lost: the restarted
sidecar's tailers resume from their checkpoints in PostgreSQL, the outbox entries its dispatcher held are
claimed again once their lease expires, the other sidecars retry what they were sending to it, and the
game completes with every invariant intact."""

from __future__ import annotations

import os
import signal

import pytest
from distributed_system import dead_letters
from poker_checks import (
    check_every_hand_completed,
    check_hand_invariants,
    check_hand_log,
    check_money,
    check_reactions_applied_once,
    check_table_idle,
    wait_until_quiescent,
)

from angzarr_client import DomainClient
from poker_demo import GameSettings, HandSummary, PokerClients, PokerGame

HANDS = 3
KILL_IN_HAND = 2


class KillingGame(PokerGame):
    """Plays like the demo, but SIGKILLs the ``victim`` sidecar and starts a new one just before
    answering hand #2's first request."""

    def __init__(self, *args, system, victim: str, **kw) -> None:
        super().__init__(*args, **kw)
        self.system = system
        self.victim = victim
        self.killed: int | None = None

    def answer(self, summary: HandSummary, request) -> None:
        if self.killed is None and summary.number == KILL_IN_HAND:
            process = self.system.sidecars[self.victim].process
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            self.killed = process.pid
            self.system.start_sidecar(self.victim)
        super().answer(summary, request)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("victim", ["hand", "player"])
def test_a_killed_sidecar_restarts_and_the_game_completes_intact(start_distributed, victim):
    system = start_distributed()
    clients = PokerClients(*(DomainClient(system.endpoint(d)) for d in ("player", "table", "hand")))
    with clients:
        settings = GameSettings(players=3, hands=HANDS, seed=f"dist-fault-{victim}", step_timeout=120)
        game = KillingGame(clients, settings, system=system, victim=victim)
        game.setup()
        played = game.play()
        game.leave()

        assert game.killed is not None, f"hand #{KILL_IN_HAND} asked nobody to act; nothing was killed"
        assert system.sidecars[victim].process.pid != game.killed
        assert len(played) == HANDS
        assert [h.rejections for h in played] == [[] for _ in played], "a bot's answer was refused"
        history = wait_until_quiescent(clients, game, timeout=90)
        check_every_hand_completed(history, HANDS)
        check_hand_invariants(history)
        check_table_idle(history, game, HANDS)
        check_money(history, game)
        check_reactions_applied_once(history, game)
        assert dead_letters(system.database_url) == []
        check_hand_log(system.hand_log, history, game, timeout=90)

    codes = system.stop_sidecars()
    assert codes == {"player": 0, "table": 0, "hand": 0}
