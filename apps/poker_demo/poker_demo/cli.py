"""``poker-demo``: bots play poker against the standalone poker system.

    poker-demo --standalone standalone.yaml          # start a fresh system, play, stop it (`make run`)
    poker-demo --standalone standalone.yaml --keep-running   # ... and leave it running to explore
    poker-demo                                       # play against a system already running

Without ``--standalone`` the clients find the system with ``resolve_ch_endpoint`` (``ANGZARR_MODE``,
default standalone here, and ``ANGZARR_UDS_BASE``). Exit status: 0 the game was played, 1 it failed,
2 bad options.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

from angzarr_client import ClientError
from poker_rules.roots import poker_root

from .game import VARIANTS, GameError, GameSettings, PokerClients, PokerGame
from .report import bankroll_table, hand_log_markers, read_hand_log
from .system import StandaloneSystem, SystemStartError

HAND_LOG_RELATIVE = Path("data") / "hand_log.txt"  # where standalone.yaml puts it, beside the database


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="poker-demo", description="Bot players play poker through angzarr_client.")
    p.add_argument("--variant", choices=sorted(VARIANTS), default="holdem",
                   help="holdem (no-limit), omaha (pot-limit) or draw (five-card, no-limit); default holdem")
    p.add_argument("--players", type=int, default=4, help="bot players at the table (default 4)")
    p.add_argument("--hands", type=int, default=20, help="hands to play (default 20)")
    p.add_argument("--seed", default="e2e", help="deck seeds are <seed>-<hand number> (default e2e); "
                                                 "the same seed replays the same game")
    p.add_argument("--table", default="main", help="table name; its root is root(table:<name>) (default main)")
    p.add_argument("--action-timeout", type=int, default=0, metavar="SECONDS",
                   help="seconds a player has to act (default: the table's 30)")
    p.add_argument("--step-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="give up when a hand or a reaction takes longer than this (default 120)")
    p.add_argument("--standalone", metavar="CONFIG", type=Path,
                   help="start 'angzarr standalone' with a copy of CONFIG in a fresh directory first")
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="with --standalone: the directory to run in (default: a new temporary directory)")
    p.add_argument("--keep-running", action="store_true",
                   help="with --standalone: keep the system running after the game, until Ctrl-C")
    p.add_argument("--hand-log", type=Path, metavar="FILE",
                   help="the hand log to print (default with --standalone: <data dir>/data/hand_log.txt)")
    return p


def _settings(args: argparse.Namespace) -> GameSettings:
    return GameSettings(variant=VARIANTS[args.variant], players=args.players, hands=args.hands, seed=args.seed,
                        table=args.table, action_timeout_seconds=args.action_timeout,
                        step_timeout=args.step_timeout)


def say(line: str = "") -> None:
    print(line, flush=True)


def play(settings: GameSettings, clients: PokerClients, hand_log: Path | None) -> tuple[int, PokerGame]:
    """Play the game and print the hand log and bankrolls; the exit status and the game."""
    game = PokerGame(clients, settings, progress=say)
    seated_at_start: list[str] = []
    try:
        game.setup()
        seated_at_start = [bot.name for bot in game.bots if bot.root in game.seated]
        say()
        game.play()
        say()
        leavers = [bot.name for bot in game.bots if bot.root in game.seated]
        game.leave()
    except GameError as e:
        say(f"poker-demo: the game stopped: {e}")
        return 1, game
    if hand_log is not None:
        markers = hand_log_markers(settings.table, [h.number for h in game.hands], leavers)
        text, missing = read_hand_log(hand_log, markers, timeout=30.0)
        say(f"===== hand log ({hand_log}) =====")
        say(text.rstrip())
        if missing:
            say(f"(the hand log has not caught up yet: missing {missing[0]!r} and {len(missing) - 1} more)")
        say()
    say("===== final bankrolls =====")
    say(bankroll_table([(bot.name, game.ledger(bot)) for bot in game.bots]))
    rejected = [r for h in game.hands for r in h.rejections]
    say()
    say(f"{len(game.hands)} hands played by {len(seated_at_start)} bots; {len(rejected)} bot answers refused")
    for line in rejected[:10]:
        say(f"  refused: {line}")
    return 0, game


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def _explore_hints(system: StandaloneSystem, game: PokerGame) -> None:
    cfg = system.config_path
    env = " ".join(f"{k}={v}" for k, v in system.client_env().items())
    say()
    say("The system keeps running; explore it in another terminal (Ctrl-C here stops it):")
    say(f"  uv run angzarr domains -c {cfg}")
    say(f"  uv run angzarr roots table -c {cfg}")
    say(f"  uv run angzarr show table {game.table_root.hex()} -c {cfg}")
    if game.hands:
        last = game.hands[-1]
        say(f"  uv run angzarr show hand {last.hand_root.hex()} -c {cfg}      # hand #{last.number}")
        endpoint = system.client_socket(system.services[0])
        say(f"  uv run angzarr tail {last.correlation_id} --endpoint unix:{endpoint} -c {cfg}"
            "      # its events in every domain")
    say(f"  uv run angzarr lag -c {cfg}; uv run angzarr dlq list -c {cfg}")
    say(f"  {env} uv run poker-demo --hands 5 --seed more --hand-log {system.run_dir / HAND_LOG_RELATIVE}"
        "      # more hands on the same table")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ValueError as e:
        print(f"poker-demo: {e}", file=sys.stderr)
        return 2
    if args.standalone is None:
        if args.keep_running or args.data_dir:
            print("poker-demo: --keep-running and --data-dir need --standalone CONFIG", file=sys.stderr)
            return 2
        mode = os.environ.get("ANGZARR_MODE") or "standalone"
        try:
            with PokerClients.connect(mode) as clients:
                clients.wait_ready()
                return play(settings, clients, args.hand_log)[0]
        except ClientError as e:
            print(f"poker-demo: {e} (is the system running? try 'make run' or --standalone)", file=sys.stderr)
            return 1
    if not args.standalone.is_file():
        print(f"poker-demo: no such configuration file: {args.standalone}", file=sys.stderr)
        return 2
    run_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="poker-demo-"))
    system = StandaloneSystem(args.standalone, run_dir)
    # SIGTERM ends the demo like Ctrl-C does, so the system is still shut down cleanly.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        say(f"Starting angzarr standalone in {run_dir} (sockets in {system.uds_base}) ...")
        system.start()
        say(f"The poker system is up: {', '.join(system.services)} (log: {system.log_path})")
        say()
        with PokerClients.connect("standalone", uds_base=str(system.uds_base)) as clients:
            status, game = play(settings, clients, args.hand_log or run_dir / HAND_LOG_RELATIVE)
        if args.keep_running:
            _explore_hints(system, game)
            _wait_for_interrupt()
    except SystemStartError as e:
        print(f"poker-demo: the system did not start: {e}", file=sys.stderr)
        return 1
    except ClientError as e:
        print(f"poker-demo: {e}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        say("\nInterrupted.")
        status = 130
    finally:
        if system.running:
            say("Stopping the poker system ...")
        code = system.stop()
        if code not in (0, None):
            say(f"angzarr standalone exited with code {code}; see {system.log_path}")
    table_root = poker_root("table", settings.table).hex()
    say(f"Its data stays in {run_dir}; e.g. uv run angzarr show table {table_root} -c {system.config_path}")
    if code not in (0, None) and status == 0:
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
