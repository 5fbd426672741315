"""Hands played end to end under ``angzarr standalone`` with nobody answering (spec poker §8 "Timeout run").

The real runtime starts ``python -m player``, ``python -m table`` and ``python -m hand``. After the client
seats two players and starts a hand, everything is reactive: the table saga deals, ``hand-flow`` posts
the blinds and requests actions, the action clock times the silent players out, ``hand-flow`` awards the
pot, ``hand-saga`` ends the hand at the table, the table saga settles, and ``hand-log`` writes it all.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from angzarr_client.client import CommandHandlerClient, QueryClient
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import type_name_from_url
from angzarr_coordinator.testing import CLEARED_ENV_PREFIXES, StandaloneProcess
from poker_contracts import hand_pb2, player_pb2, table_pb2
from poker_contracts.poker_types_pb2 import (
    AI,
    CALL,
    CHECK,
    FLOP,
    PREFLOP,
    RIVER,
    TEXAS_HOLDEM,
    TURN,
    Currency,
)
from poker_rules.roots import poker_root

pytestmark = pytest.mark.slow

SERVICES = Path(__file__).resolve().parents[2]
TABLE = poker_root("table", "main")
PLAYERS = {"Alice": poker_root("player", "alice"), "Bob": poker_root("player", "bob")}
WAIT_SECONDS = 90


class Runtime(StandaloneProcess):
    """``angzarr standalone`` with the player, table and hand services; the hand log in ``log_file``."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, output="stdout.log", wait_seconds=WAIT_SECONDS)
        self.log_file = root / "hand_log.txt"

    def start(self) -> None:
        def service(name: str, hosts: dict, **env: str) -> dict:
            return {"name": name, "command": [sys.executable, "-m", name], "working_dir": str(SERVICES / name),
                    "transport": "uds", "env": {"LOG_FORMAT": "json", **env}, "hosts": hosts}

        config = {
            "version": 1,
            "storage": {"sqlite": {"path": "./data/angzarr.db"}},
            "listen": {"uds_base": str(self.uds)},
            "services": [
                service("player", {"command_handler": {"domain": "player"}}),
                service("table", {"command_handler": {"domain": "table"},
                                  "saga": {"name": "table-saga", "listen": ["player", "table"],
                                           "emits": ["table", "hand", "player"]}}),
                service("hand", {"command_handler": {"domain": "hand"},
                                 "saga": {"name": "hand-saga", "listen": ["hand"], "emits": ["table"]},
                                 "process_manager": {"name": "hand-flow", "listen": ["hand"],
                                                     "emits": ["hand", "player"]},
                                 "projector": {"name": "hand-log", "listen": ["player", "table", "hand"]}},
                        HAND_LOG_FILE=str(self.log_file)),
            ],
        }
        super().start(config, ("player", "table", "hand"), clear_env=(*CLEARED_ENV_PREFIXES, "HAND_LOG"))


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    rt = Runtime(Path(tempfile.mkdtemp(dir="/tmp", prefix="hfg")))  # short Unix socket paths
    try:
        rt.start()
        yield rt
    finally:
        rt.stop()
        shutil.rmtree(rt.root, ignore_errors=True)


def send(runtime: Runtime, domain: str, root: bytes, command, *, correlation_id: str | None = None) -> None:
    with CommandHandlerClient(runtime.endpoint(domain)) as client:
        builder = client.command(domain, root).with_command(command)
        if correlation_id:
            builder.with_correlation_id(correlation_id)
        builder.execute()


def history(runtime: Runtime, domain: str, root: bytes) -> types_pb2.EventBook:
    with QueryClient(runtime.endpoint(domain)) as client:
        return client.query(domain, root).get_event_book()


def names(book: types_pb2.EventBook) -> list[str]:
    return [type_name_from_url(p.event.type_url).rsplit(".", 1)[-1] for p in book.pages]


def wait_for(what: str, check: Callable[[], bool], runtime: Runtime) -> None:
    give_up = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < give_up:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}:\n{runtime.logs()}\n--- hand log\n"
                f"{runtime.log_file.read_text() if runtime.log_file.exists() else ''}")


def test_silent_players_are_timed_out_and_every_hand_settles(runtime):
    send(runtime, "table", TABLE, table_pb2.CreateTable(table_name="Main", game_variant=TEXAS_HOLDEM, small_blind=5,
                                                        big_blind=10, action_timeout_seconds=1))
    for name, root in PLAYERS.items():
        send(runtime, "player", root, player_pb2.RegisterPlayer(display_name=name, email=f"{name}@example.com",
                                                                player_type=AI))
        send(runtime, "player", root, player_pb2.DepositFunds(amount=Currency(amount=1000)))
        send(runtime, "player", root, player_pb2.ReserveFunds(amount=Currency(amount=500), table_root=TABLE))
    wait_for("both players seated", lambda: names(history(runtime, "table", TABLE)).count("PlayerJoined") == 2,
             runtime)

    for hand in (1, 2):
        send(runtime, "table", TABLE, table_pb2.StartHand(deck_seed=f"e2e-{hand}".encode()),
             correlation_id=f"silent-hand-{hand}")
        wait_for(f"hand {hand} to end", lambda hand=hand: names(history(runtime, "table", TABLE)).count("HandEnded")
                 == hand, runtime)

    table = history(runtime, "table", TABLE)
    started = [table_pb2.HandStarted.FromString(p.event.value) for p in table.pages if p.event.type_url.endswith(
        ".HandStarted")]
    for hand_started in started:
        hand_events = names(history(runtime, "hand", hand_started.hand_root))
        # The first to act owes chips, so the clock's timeout folds them and the other takes the blinds.
        assert hand_events[:4] == ["CardsDealt", "BlindPosted", "BlindPosted", "PlayerTimedOut"]
        assert hand_events[-2:] == ["PotAwarded", "HandComplete"]
    for root in PLAYERS.values():
        wait_for("settlements", lambda root=root: names(history(runtime, "player", root)).count("FundsTransferred")
                 == 2, runtime)
    # The button moved: each player folded the small blind once, so both are back where they started.
    bankrolls = {}
    for name, root in PLAYERS.items():
        last = [p for p in history(runtime, "player", root).pages if p.event.type_url.endswith(".FundsTransferred")]
        bankrolls[name] = player_pb2.FundsTransferred.FromString(last[-1].event.value).new_balance.amount
    assert bankrolls == {"Alice": 1000, "Bob": 1000}

    wait_for("the hand log", lambda: runtime.log_file.exists()
             and "Stacks after hand #2" in runtime.log_file.read_text(), runtime)
    text = runtime.log_file.read_text(encoding="utf-8")
    assert "Table Main created: No-limit Texas Hold'em, blinds $5/$10, buy-in $200-$1,000, 9 seats, 1s to act" in text
    assert "=== Main hand #1 ===" in text and "=== Main hand #2 ===" in text
    assert "  Alice ran out of time (folds)" in text and "  Bob ran out of time (folds)" in text
    assert "Player_" not in text and "Table_" not in text
    assert "[unrendered" not in text


class CheckCallBots:
    """Answers every ``ActionRequested`` of its players with check or call, under the hand's correlation id."""

    def __init__(self, runtime: Runtime, players: dict[str, bytes], correlation_id: str) -> None:
        self.runtime = runtime
        self.players = players
        self.correlation_id = correlation_id
        self.answered: dict[bytes, int] = {root: 0 for root in players.values()}
        self.requests: list[player_pb2.ActionRequested] = []

    def answer_pending(self) -> None:
        for root in self.players.values():
            pages = [p for p in history(self.runtime, "player", root).pages
                     if p.event.type_url.endswith(".ActionRequested")]
            for page in pages[self.answered[root]:]:
                request = player_pb2.ActionRequested.FromString(page.event.value)
                self.requests.append(request)
                self.answered[root] += 1
                action = CHECK if request.amount_to_call == 0 else CALL
                send(self.runtime, "hand", request.hand_root,
                     hand_pb2.PlayerAction(player_root=root, action=action), correlation_id=self.correlation_id)


def test_bots_that_check_and_call_reach_the_showdown(runtime):
    table = poker_root("table", "checkdown")
    players = {"Carol": poker_root("player", "carol"), "Dave": poker_root("player", "dave")}
    send(runtime, "table", table, table_pb2.CreateTable(table_name="Checkdown", game_variant=TEXAS_HOLDEM,
                                                        small_blind=5, big_blind=10, action_timeout_seconds=60))
    for name, root in players.items():
        send(runtime, "player", root, player_pb2.RegisterPlayer(display_name=name, email=f"{name}@example.com",
                                                                player_type=AI))
        send(runtime, "player", root, player_pb2.DepositFunds(amount=Currency(amount=1000)))
        send(runtime, "player", root, player_pb2.ReserveFunds(amount=Currency(amount=500), table_root=table))
    wait_for("both players seated", lambda: names(history(runtime, "table", table)).count("PlayerJoined") == 2,
             runtime)
    bots = CheckCallBots(runtime, players, "checkdown-1")
    send(runtime, "table", table, table_pb2.StartHand(deck_seed=b"pin-this-deck"), correlation_id="checkdown-1")

    def ended() -> bool:
        bots.answer_pending()
        return "HandEnded" in names(history(runtime, "table", table))

    wait_for("the hand to end", ended, runtime)
    # Preflop SB calls, BB checks; then two checks on each of the flop, turn and river.
    assert [(r.phase, r.amount_to_call) for r in bots.requests] == [
        (PREFLOP, 5), (PREFLOP, 0), (FLOP, 0), (FLOP, 0), (TURN, 0), (TURN, 0), (RIVER, 0), (RIVER, 0)
    ]
    started = next(table_pb2.HandStarted.FromString(p.event.value) for p in history(runtime, "table", table).pages
                   if p.event.type_url.endswith(".HandStarted"))
    hand_events = names(history(runtime, "hand", started.hand_root))
    assert hand_events.count("CardsRevealed") == 2 and hand_events[-2:] == ["PotAwarded", "HandComplete"]
    assert "PlayerTimedOut" not in hand_events
    wait_for("the showdown in the hand log", lambda: "Stacks after hand #1: Carol" in runtime.log_file.read_text(),
             runtime)
    text = runtime.log_file.read_text(encoding="utf-8")
    assert "=== Checkdown hand #1 ===" in text and "*** SHOWDOWN ***" in text
    assert "*** RIVER *** [" in text and " shows [" in text
