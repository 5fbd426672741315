"""Sitting down, sitting out and leaving under ``angzarr standalone`` with the real player and table services.

The client sends only public commands (``ReserveFunds``, ``SitOut``, ``SitIn``, ``LeaveTable``); ``table-saga``
does the rest, and a seat the table refuses comes back to the player as a rejection notice that releases
the reservation (spec poker §1, §2 compensation, §5).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from angzarr_client import decode_events, type_name_from_url
from angzarr_client.client import CommandHandlerClient, QueryClient
from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.testing import StandaloneProcess
from player import Player
from poker_contracts import player_pb2, table_pb2
from poker_contracts.poker_types_pb2 import HUMAN, TEXAS_HOLDEM, Currency
from poker_rules.roots import poker_root
from table import Table

pytestmark = pytest.mark.slow

ANGZARR = Path(sys.executable).with_name("angzarr")
SERVICES = Path(__file__).resolve().parents[2]
TABLE = poker_root("table", "standalone")
ALICE = poker_root("player", "alice")
WAIT_SECONDS = 60


class Standalone(StandaloneProcess):
    """``angzarr standalone`` with the player and table services, in a private directory."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, wait_seconds=WAIT_SECONDS)

    def start(self) -> None:
        def service(name: str, hosts: dict) -> dict:
            return {"name": name, "command": [sys.executable, "-m", name], "working_dir": str(SERVICES / name),
                    "transport": "uds", "env": {"LOG_FORMAT": "json"}, "hosts": hosts}

        super().start({
            "version": 1,
            "storage": {"sqlite": {"path": "./data/angzarr.db"}},
            "listen": {"uds_base": str(self.uds)},
            "services": [
                service("player", {"command_handler": {"domain": "player"}}),
                service("table", {"command_handler": {"domain": "table"},
                                  "saga": {"name": "table-saga", "listen": ["player", "table"],
                                           "emits": ["table", "player"]}}),  # no hand service here
            ],
        }, ("player", "table"))

    def send(self, domain: str, root: bytes, command) -> None:
        with CommandHandlerClient(str(self.uds / f"ch-{domain}.sock")) as client:
            client.command(domain, root).with_command(command).execute()

    def history(self, domain: str, root: bytes) -> types_pb2.EventBook:
        with QueryClient(str(self.uds / f"ch-{domain}.sock")) as client:
            return client.query(domain, root).get_event_book()

    def dead_letters(self) -> list:
        listed = subprocess.run([str(ANGZARR), "dlq", "list", "-c", str(self.config), "--json"],
                                capture_output=True, text=True, check=True)
        return json.loads(listed.stdout or "[]")


@pytest.fixture(scope="module")
def runtime() -> Iterator[Standalone]:
    rt = Standalone(Path(tempfile.mkdtemp(dir="/tmp", prefix="h6s-")))  # short Unix socket paths
    try:
        rt.start()
        yield rt
    finally:
        rt.stop()
        shutil.rmtree(rt.root, ignore_errors=True)


def names(book: types_pb2.EventBook) -> list[str]:
    return [type_name_from_url(p.event.type_url).rsplit(".", 1)[-1] for p in book.pages]


def wait_for(what: str, check: Callable[[], bool], runtime: Standalone) -> None:
    give_up = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < give_up:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}:\n{runtime.logs()}")


def player_state(runtime: Standalone) -> player_pb2.PlayerState:
    return Player(runtime.history("player", ALICE)).state


def table_state(runtime: Standalone) -> table_pb2.TableState:
    return Table(runtime.history("table", TABLE)).state


def test_sit_down_sit_out_and_leave_through_the_saga(runtime):
    runtime.send("table", TABLE, table_pb2.CreateTable(table_name="Main", game_variant=TEXAS_HOLDEM, small_blind=5,
                                                       big_blind=10))
    runtime.send("player", ALICE, player_pb2.RegisterPlayer(display_name="Alice", email="alice@example.com",
                                                            player_type=HUMAN))
    runtime.send("player", ALICE, player_pb2.DepositFunds(amount=Currency(amount=1000)))

    # Too small a buy-in: the table refuses the saga's JoinTable, the player releases the chips again.
    runtime.send("player", ALICE, player_pb2.ReserveFunds(amount=Currency(amount=100), table_root=TABLE))
    wait_for("the refused seat to be released", lambda: "FundsReleased" in names(runtime.history("player", ALICE)),
             runtime)
    released = decode_events(runtime.history("player", ALICE).pages, player_pb2.FundsReleased)
    assert [(r.amount.amount, r.new_available_balance.amount, r.new_reserved_balance.amount) for r in released] == [
        (100, 1000, 0)
    ]
    assert "PlayerJoined" not in names(runtime.history("table", TABLE))

    # A proper buy-in: the saga seats the player where they asked to sit.
    runtime.send("player", ALICE, player_pb2.ReserveFunds(amount=Currency(amount=400), table_root=TABLE,
                                                          preferred_seat=2))
    wait_for("the seat", lambda: "PlayerJoined" in names(runtime.history("table", TABLE)), runtime)
    (seat,) = table_state(runtime).seats
    assert (seat.position, seat.player_root, seat.stack.amount, seat.is_sitting_out) == (2, ALICE, 400, False)

    # Sitting out and back in reach the table as facts.
    runtime.send("player", ALICE, player_pb2.SitOut(table_root=TABLE))
    wait_for("the sit-out fact", lambda: "PlayerSatOut" in names(runtime.history("table", TABLE)), runtime)
    assert table_state(runtime).seats[0].is_sitting_out
    runtime.send("player", ALICE, player_pb2.SitIn(table_root=TABLE))
    wait_for("the sit-in fact", lambda: "PlayerSatIn" in names(runtime.history("table", TABLE)), runtime)
    assert not table_state(runtime).seats[0].is_sitting_out

    # Leaving cashes out the stack and releases the reservation.
    runtime.send("table", TABLE, table_pb2.LeaveTable(player_root=ALICE))
    wait_for("the release after leaving",
             lambda: names(runtime.history("player", ALICE)).count("FundsReleased") == 2, runtime)
    state = player_state(runtime)
    assert (state.bankroll.amount, state.reserved_funds.amount, dict(state.table_reservations)) == (1000, 0, {})
    assert list(table_state(runtime).seats) == []
    assert runtime.dead_letters() == []
