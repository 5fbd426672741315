"""The ``hand-log`` projector (spec poker §7): its SQLite read model, idempotent delivery and the text file."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from google.protobuf.wrappers_pb2 import StringValue

from angzarr_client import Router, unpack
from angzarr_client.errors import InvalidArgumentError
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.testing import build_event_book, uuid_for
from hand.handlog import HandLog, HandLogPaths, HandLogStore
from poker_contracts import hand_pb2, player_pb2, table_pb2
from poker_contracts.poker_types_pb2 import CALL, HUMAN, TEXAS_HOLDEM, Currency

ALICE, BOB = uuid_for("hlp alice"), uuid_for("hlp bob")
TABLE = uuid_for("hlp table")
HAND = uuid_for("hlp hand")


class Lookups:
    """A player directory standing in for the player coordinator; records what it was asked."""

    def __init__(self, names: dict[bytes, str] | None = None) -> None:
        self.names = dict(names or {})
        self.asked: list[bytes] = []

    def __call__(self, root: bytes) -> str | None:
        self.asked.append(root)
        return self.names.get(root)


@pytest.fixture
def paths(tmp_path) -> HandLogPaths:
    return HandLogPaths(text=tmp_path / "hand_log.txt", db=tmp_path / "hand_log.db")


@pytest.fixture
def lookups() -> Lookups:
    return Lookups()


@pytest.fixture
def log(paths, lookups):
    store = HandLogStore(paths.db, paths.text)
    yield HandLog(store, lookup_player=lookups)
    store.close()


def book(events, *, domain, root, start=0, created_at=None) -> types_pb2.EventBook:
    built = build_event_book(events, domain=domain, root=root, start_sequence=start, correlation_id="cid")
    if created_at is not None:
        for page in built.pages:
            page.created_at.FromDatetime(created_at)
    return built


def chips(n: int) -> Currency:
    return Currency(amount=n, currency_code="CHIPS")


def registered(name: str) -> player_pb2.PlayerRegistered:
    return player_pb2.PlayerRegistered(display_name=name, player_type=HUMAN)


def table_created() -> table_pb2.TableCreated:
    return table_pb2.TableCreated(table_name="Main", game_variant=TEXAS_HOLDEM, small_blind=5, big_blind=10,
                                  min_buy_in=200, max_buy_in=1000, max_players=9, action_timeout_seconds=30)


def hand_started() -> table_pb2.HandStarted:
    return table_pb2.HandStarted(
        hand_root=HAND.bytes, hand_number=4, dealer_position=0, small_blind_position=0, big_blind_position=2,
        active_players=[table_pb2.SeatSnapshot(position=2, player_root=BOB.bytes, stack=300),
                        table_pb2.SeatSnapshot(position=0, player_root=ALICE.bytes, stack=500)],
        small_blind=5, big_blind=10,
    )


def play_a_little(log: HandLog) -> None:
    log.project(book([registered("Alice"), player_pb2.FundsDeposited(amount=chips(1000), new_balance=chips(1000))],
                     domain="player", root=ALICE))
    log.project(book([registered("Bob")], domain="player", root=BOB))
    log.project(book([table_created()], domain="table", root=TABLE))
    log.project(book([hand_started()], domain="table", root=TABLE, start=1))
    log.project(book([hand_pb2.BlindPosted(player_root=ALICE.bytes, blind_type="small", amount=5, player_stack=495)],
                     domain="hand", root=HAND, start=1))


EXPECTED = [
    "Alice registered (Human)",
    "Alice deposits $1,000 (bankroll $1,000)",
    "Bob registered (Human)",
    "Table Main created: No-limit Texas Hold'em, blinds $5/$10, buy-in $200-$1,000, 9 seats, 30s to act",
    "",
    "=== Main hand #4 ===",
    "Button seat 0, blinds $5/$10",
    "  seat 0: Alice $500 [D] [SB]",
    "  seat 2: Bob $300 [BB]",
    "  Alice posts the small blind $5",
]


def test_names_learned_from_events_are_used_in_later_books(log, paths, lookups):
    play_a_little(log)
    assert log.store.lines() == EXPECTED
    assert paths.text.read_text(encoding="utf-8") == "\n".join(EXPECTED) + "\n"
    assert lookups.asked == []


def test_the_projection_holds_the_last_rendered_events_lines(log):
    projection = log.project(book([registered("Alice"), player_pb2.ActionRequested()], domain="player", root=ALICE,
                                  start=3))
    assert (projection.projector, projection.sequence) == ("hand-log", 4)
    assert projection.cover.root.value == ALICE.bytes
    assert unpack(projection.projection, StringValue).value == "Alice registered (Human)"
    log.project(book([registered("Bob")], domain="player", root=BOB))
    projection = log.project(book([hand_started()], domain="table", root=TABLE))
    assert unpack(projection.projection, StringValue).value == "\n".join(
        ["", "=== Table_" + TABLE.hex[:8] + " hand #4 ===", "Button seat 0, blinds $5/$10",
         "  seat 0: Alice $500 [D] [SB]", "  seat 2: Bob $300 [BB]"]
    )


def test_a_redelivered_book_is_skipped(log, paths):
    play_a_little(log)
    log.project(book([registered("Alice"), player_pb2.FundsDeposited(amount=chips(1000), new_balance=chips(1000))],
                     domain="player", root=ALICE))
    log.project(book([hand_started()], domain="table", root=TABLE, start=1))
    assert log.store.lines() == EXPECTED
    assert paths.text.read_text(encoding="utf-8").splitlines() == EXPECTED
    assert log.store.applied_through("player", ALICE.bytes) == 1
    assert log.store.applied_through("table", TABLE.bytes) == 1


def test_a_book_overlapping_what_was_applied_adds_only_its_new_pages(log):
    deposit = player_pb2.FundsDeposited(amount=chips(1000), new_balance=chips(1000))
    withdraw = player_pb2.FundsWithdrawn(amount=chips(100), new_balance=chips(900))
    log.project(book([registered("Alice"), deposit], domain="player", root=ALICE))
    log.project(book([deposit, withdraw], domain="player", root=ALICE, start=1))
    assert log.store.lines() == ["Alice registered (Human)", "Alice deposits $1,000 (bankroll $1,000)",
                                 "Alice withdraws $100 (bankroll $900)"]
    assert log.store.applied_through("player", ALICE.bytes) == 2


def test_positions_are_kept_per_domain_and_root(log):
    log.project(book([registered("Alice")], domain="player", root=ALICE))
    log.project(book([registered("Bob")], domain="player", root=BOB))
    log.project(book([table_created()], domain="table", root=ALICE))  # same root, other domain
    assert len(log.store.lines()) == 3


def test_a_restart_rewrites_the_text_file_from_the_database(paths, lookups):
    store = HandLogStore(paths.db, paths.text)
    play_a_little(HandLog(store, lookup_player=lookups))
    store.close()
    paths.text.write_text("garbage that is not the log\n", encoding="utf-8")

    store = HandLogStore(paths.db, paths.text)
    assert paths.text.read_text(encoding="utf-8").splitlines() == EXPECTED
    log = HandLog(store, lookup_player=lookups)
    # Redelivery after the restart is still recognised; new pages append.
    play_a_little(log)
    log.project(book([player_pb2.FundsWithdrawn(amount=chips(1), new_balance=chips(999))],
                     domain="player", root=ALICE, start=2))
    store.close()
    assert paths.text.read_text(encoding="utf-8").splitlines() == EXPECTED + ["Alice withdraws $1 (bankroll $999)"]


def test_a_missing_text_file_is_recreated_on_open(paths, lookups):
    store = HandLogStore(paths.db, paths.text)
    play_a_little(HandLog(store, lookup_player=lookups))
    store.close()
    paths.text.unlink()
    HandLogStore(paths.db, paths.text).close()
    assert paths.text.read_text(encoding="utf-8").splitlines() == EXPECTED


def test_a_failing_book_changes_nothing(log, paths):
    log.project(book([registered("Alice")], domain="player", root=ALICE))
    broken = book([registered("Alice"), player_pb2.FundsDeposited(amount=chips(5), new_balance=chips(5))],
                  domain="player", root=ALICE, start=1)
    broken.pages[1].event.value = b"\xff\xff\xff"  # corrupt bytes
    with pytest.raises(InvalidArgumentError):
        log.project(broken)
    assert log.store.lines() == ["Alice registered (Human)"]
    assert log.store.applied_through("player", ALICE.bytes) == 0
    assert paths.text.read_text(encoding="utf-8").splitlines() == ["Alice registered (Human)"]


def test_speculative_projection_renders_but_persists_nothing(log, paths):
    log.project(book([registered("Alice")], domain="player", root=ALICE))
    projection = log.project(book([registered("Alice"), player_pb2.FundsWithdrawn(amount=chips(3),
                                                                                  new_balance=chips(7))],
                                  domain="player", root=ALICE), speculative=True)
    assert unpack(projection.projection, StringValue).value == "Alice withdraws $3 (bankroll $7)"
    assert log.store.lines() == ["Alice registered (Human)"]
    assert log.store.applied_through("player", ALICE.bytes) == 0
    assert paths.text.read_text(encoding="utf-8").splitlines() == ["Alice registered (Human)"]


def test_unknown_players_are_looked_up_once_and_remembered(paths):
    lookups = Lookups({ALICE.bytes: "Alice"})
    with HandLogStore(paths.db, paths.text) as store:
        log = HandLog(store, lookup_player=lookups)
        for start in (0, 1):
            log.project(book([hand_pb2.CardsMucked(player_root=ALICE.bytes)], domain="hand", root=HAND, start=start))
        assert store.lines() == ["  Alice mucks", "  Alice mucks"]
        assert lookups.asked == [ALICE.bytes]


def test_a_player_nobody_knows_reads_as_a_fallback_and_is_asked_again_later(log, lookups):
    for start in (0, 1):
        log.project(book([hand_pb2.CardsMucked(player_root=BOB.bytes)], domain="hand", root=HAND, start=start))
    assert log.store.lines() == ["  Player_" + BOB.hex[:8] + " mucks"] * 2
    assert lookups.asked == [BOB.bytes, BOB.bytes]
    log.project(book([registered("Bob")], domain="player", root=BOB))
    log.project(book([hand_pb2.CardsMucked(player_root=BOB.bytes)], domain="hand", root=HAND, start=2))
    assert log.store.lines()[-1] == "  Bob mucks"
    assert lookups.asked == [BOB.bytes, BOB.bytes]


def test_the_hand_number_comes_from_the_hand_started_or_the_deal(log):
    log.project(book([registered("Alice")], domain="player", root=ALICE))
    dealt = hand_pb2.CardsDealt(table_root=TABLE.bytes, hand_number=9, game_variant=TEXAS_HOLDEM,
                                players=[hand_pb2.PlayerInHand(player_root=ALICE.bytes, position=1, stack=5)])
    log.project(book([dealt], domain="hand", root=HAND))
    log.project(book([table_created()], domain="table", root=TABLE))
    log.project(book([player_pb2.FundsTransferred(amount=chips(7), hand_root=HAND.bytes, table_root=TABLE.bytes,
                                                  new_balance=chips(12))], domain="player", root=ALICE, start=1))
    log.project(book([table_pb2.HandEnded(hand_root=HAND.bytes, stack_changes={ALICE.hex: 7})],
                     domain="table", root=TABLE, start=1))
    assert log.store.lines()[-2:] == ["Alice wins $7 in hand #9 at Main (bankroll $12)",
                                      "Hand #9 settled: Alice +$7"]


def test_events_without_a_row_are_logged_as_unrendered(log):
    log.project(book([table_pb2.ChipsAdded(player_root=ALICE.bytes, amount=5)], domain="table", root=TABLE))
    assert log.store.lines() == ["[unrendered examples.ChipsAdded]"]
    assert log.store.applied_through("table", TABLE.bytes) == 0


def test_timestamps_prefix_every_non_blank_line(paths, lookups):
    with HandLogStore(paths.db, paths.text) as store:
        log = HandLog(store, lookup_player=lookups, timestamps=True)
        at = dt.datetime(2026, 11, 23, 18, 4, 5, tzinfo=dt.UTC)
        log.project(book([registered("Alice")], domain="player", root=ALICE, created_at=at))
        log.project(book([registered("Bob")], domain="player", root=BOB, created_at=at))
        log.project(book([hand_started()], domain="table", root=TABLE, created_at=at))
        assert store.lines()[:4] == ["[18:04:05] Alice registered (Human)", "[18:04:05] Bob registered (Human)", "",
                                     "[18:04:05] === Table_" + TABLE.hex[:8] + " hand #4 ==="]


def test_the_projector_refuses_a_domain_it_does_not_listen_to(log):
    with pytest.raises(InvalidArgumentError, match="hand-flow"):
        log.project(book([registered("Alice")], domain="hand-flow", root=ALICE))


def test_the_router_serves_it_with_its_three_input_domains(log):
    router = Router("hand-log").with_handler(log).build()
    assert sorted(router.inputs) == ["hand", "player", "table"]
    assert "examples.PlayerRegistered" in router.handled_types()
    projection = router.dispatch(book([hand_pb2.ActionTaken(player_root=ALICE.bytes, action=CALL, amount=5,
                                                             pot_total=20)], domain="hand", root=HAND))
    assert unpack(projection.projection, StringValue).value == "  Player_" + ALICE.hex[:8] + " calls $5 (pot $20)"


def test_the_database_is_a_plain_sqlite_file_with_the_read_model(log, paths):
    play_a_little(log)
    with sqlite3.connect(paths.db) as conn:
        assert dict(conn.execute("SELECT root, name FROM players")) == {ALICE.bytes: "Alice", BOB.bytes: "Bob"}
        assert conn.execute("SELECT name FROM tables").fetchall() == [("Main",)]
        assert conn.execute("SELECT table_root, number FROM hands").fetchall() == [(TABLE.bytes, 4)]


def test_paths_from_the_environment():
    assert HandLogPaths.from_env({}) == HandLogPaths(text=Path("hand_log.txt"), db=Path("hand_log.db"))
    paths = HandLogPaths.from_env({"HAND_LOG_FILE": "/var/log/poker/game.log", "HAND_LOG_DB": " "})
    assert (str(paths.text), str(paths.db)) == ("/var/log/poker/game.log", "/var/log/poker/game.db")
    paths = HandLogPaths.from_env({"HAND_LOG_FILE": "x.txt", "HAND_LOG_DB": "/data/names.sqlite"})
    assert str(paths.db) == "/data/names.sqlite"
