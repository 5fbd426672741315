"""The poker system end to end: one full hand in ASYNC and in CASCADE mode, and hands per minute of
the demo game.

The poker system runs as ``make run`` runs it (``angzarr standalone`` with the repository's
``standalone.yaml``, started by the demo's launcher in a fresh directory), and the demo's own client
(``poker_demo.game.PokerGame``: reference bots, one client per domain) plays. ASYNC is the demo's game
as it is (``--hands`` hands of no-limit Hold'em, 4 bots); its hands per minute count the whole of
``play()``. CASCADE is the same game on a second table with every command the client sends made
``SYNC_MODE_CASCADE`` (each returns once its whole reaction cascade has run). A hand's time runs from
``StartHand`` to the table's ``HandEnded`` as the client sees it (bot answers included).

    uv run python bench/poker_hand.py [--hands 20] [--cascade-hands 5]

Writes ``bench/results/poker_hand.json`` (or ``--out DIR``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from google.protobuf.message import Message
from report import print_table, write_result
from system import peak_rss_mb

from angzarr_client.proto.angzarr import types_pb2
from poker_demo.game import GameSettings, PokerClients, PokerGame
from poker_demo.system import StandaloneSystem

REPO = Path(__file__).resolve().parent.parent


class CascadeGame(PokerGame):
    """The demo's game with every command sent ``SYNC_MODE_CASCADE``."""

    def send(self, domain: str, root: bytes, command: Message, correlation_id: str | None = None):
        builder = self.clients.for_domain(domain).command(domain, root).with_command(command)
        if correlation_id:
            builder = builder.with_correlation_id(correlation_id)
        return builder.execute(types_pb2.SYNC_MODE_CASCADE, timeout=self.settings.step_timeout)


def timed_hands(game: PokerGame, hands: int) -> tuple[list[float], float]:
    """Play ``hands`` hands; return each hand's milliseconds and the seconds of the whole play."""
    times = []
    started = time.perf_counter()
    first = game.hands_started() + 1
    for number in range(first, first + hands):
        t0 = time.perf_counter()
        summary = game.play_hand(number)
        if summary is None:
            break
        times.append((time.perf_counter() - t0) * 1000)
        game.hands.append(summary)
    return times, time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hands", type=int, default=20, help="hands of the ASYNC demo game (default 20)")
    parser.add_argument("--cascade-hands", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-poker-") as tmp:
        system = StandaloneSystem(REPO / "standalone.yaml", Path(tmp))
        system.start()
        try:
            os.environ.update(system.client_env())
            with PokerClients.connect("standalone") as clients:
                game = PokerGame(clients, GameSettings(hands=args.hands, seed="bench", table="bench-async"))
                game.setup()
                async_times, async_seconds = timed_hands(game, args.hands)
                answers = sum(h.answers for h in game.hands)
                game.leave()
                cascade = CascadeGame(clients, GameSettings(hands=args.cascade_hands, seed="bench",
                                                            table="bench-cascade"))
                cascade.setup()
                cascade_times, _ = timed_hands(cascade, args.cascade_hands)
                cascade.leave()
            rss = {"coordinator": peak_rss_mb(system.process.pid)}
            rss.update({name: peak_rss_mb(pid) for name, pid in sorted(system.service_pids().items())})
        finally:
            system.stop()
    metrics: dict[str, object] = {
        "async_hand_ms": round(statistics.median(async_times), 1) if async_times else None,
        "cascade_hand_ms": round(statistics.median(cascade_times), 1) if cascade_times else None,
        "async_hands": len(async_times),
        "async_hand_ms_all": [round(x) for x in async_times],
        "cascade_hands": len(cascade_times),
        "cascade_hand_ms_all": [round(x) for x in cascade_times],
        "hands_per_minute": round(len(async_times) / async_seconds * 60, 1) if async_times else None,
        "bot_answers_per_hand": round(answers / max(1, len(async_times)), 1),
        "game": "no-limit Hold'em, 4 reference bots, blinds 5/10 (the demo's defaults)",
        "peak_rss_mb": rss,
    }
    print_table("poker (standalone.yaml, demo client)", metrics)
    print(f"wrote {write_result('poker_hand', metrics, args.out)}")
    return metrics


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
