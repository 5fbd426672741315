"""End to end in distributed mode: a sidecar per service, one PostgreSQL store, TCP between them; the
reference bots play a game through ``angzarr_client`` and the standalone end-to-end invariants hold.

Sagas and the process manager run on the sidecar of the service hosting them and send their commands to
the other domains' sidecars over gRPC (table-saga on the table sidecar reserves and releases funds on
the player sidecar, hand-flow on the hand sidecar asks players to act, ...), so every invariant below
also proves a cross-sidecar path.
"""

from __future__ import annotations

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
from poker_demo import GameSettings, PokerClients, PokerGame
from poker_demo.game import VARIANTS

HANDS = 6


@pytest.mark.postgres
@pytest.mark.slow
def test_distributed_sidecars_play_a_game_and_the_books_balance(start_distributed):
    system = start_distributed()
    clients = PokerClients(*(DomainClient(system.endpoint(d)) for d in ("player", "table", "hand")))
    with clients:
        settings = GameSettings(variant=VARIANTS["holdem"], players=4, hands=HANDS, seed="dist-holdem",
                                step_timeout=60)
        game = PokerGame(clients, settings)
        game.setup()
        played = game.play()
        game.leave()

        assert len(played) == HANDS, f"the game stopped after {len(played)} of {HANDS} hands"
        assert [h.rejections for h in played] == [[] for _ in played], "a bot's answer was refused"
        assert all(h.timeouts == 0 for h in played), "the bots answer at once; nobody should time out"

        history = wait_until_quiescent(clients, game)
        check_every_hand_completed(history, HANDS)
        check_hand_invariants(history)
        check_table_idle(history, game, HANDS)
        check_money(history, game)
        check_reactions_applied_once(history, game)
        assert dead_letters(system.database_url) == []
        check_hand_log(system.hand_log, history, game, extra=[f"{b.name} releases $" for b in game.bots])

    codes = system.stop_sidecars()
    assert codes == {"player": 0, "table": 0, "hand": 0}, "a sidecar did not drain and exit 0 on SIGTERM:\n" + \
        "\n".join(f"--- {d} ---\n{p.tail()}" for d, p in system.sidecars.items())
