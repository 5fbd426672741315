"""Reading events back: decoding pages into poker messages, folding a player's money, the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import any_pb2, wrappers_pb2

from angzarr_client.proto.angzarr import types_pb2
from poker_contracts import player_pb2, poker_types_pb2, table_pb2
from poker_demo.events import book_events, decode_page
from poker_demo.ledger import PlayerLedger
from poker_demo.report import bankroll_table, hand_log_markers, read_hand_log

T1 = bytes(16 * [1])
T2 = bytes(16 * [2])


def chips(n: int) -> poker_types_pb2.Currency:
    return poker_types_pb2.Currency(amount=n, currency_code="CHIPS")


def page(msg, sequence: int) -> types_pb2.EventPage:
    p = types_pb2.EventPage(header=types_pb2.PageHeader(sequence=sequence))
    p.event.Pack(msg)
    return p


def test_pages_decode_to_their_poker_classes_and_others_are_skipped():
    book = types_pb2.EventBook(cover=types_pb2.Cover(domain="table", root=types_pb2.UUID(value=T1),
                                                     correlation_id="c-1"))
    book.pages.append(page(table_pb2.PlayerJoined(seat_position=3, stack=500), 4))
    book.pages.append(page(wrappers_pb2.StringValue(value="not poker"), 5))
    book.pages.append(types_pb2.EventPage(header=types_pb2.PageHeader(sequence=6)))  # no payload
    events = list(book_events(book))
    assert [(e.domain, e.root, e.sequence, e.correlation_id, e.name) for e in events] == [
        ("table", T1, 4, "c-1", "PlayerJoined")]
    assert events[0].message == table_pb2.PlayerJoined(seat_position=3, stack=500)
    assert decode_page(types_pb2.EventPage(event=any_pb2.Any(type_url="type.googleapis.com/examples.Nope"))) is None


def test_the_ledger_follows_the_absolute_values_and_sums_the_movements():
    events = [
        player_pb2.PlayerRegistered(display_name="Alice"),
        player_pb2.FundsDeposited(amount=chips(1000), new_balance=chips(1000)),
        player_pb2.FundsReserved(amount=chips(400), table_root=T1, new_reserved_balance=chips(400)),
        player_pb2.FundsReserved(amount=chips(100), table_root=T2, new_reserved_balance=chips(500)),
        player_pb2.FundsTransferred(amount=chips(-150), table_root=T1, new_balance=chips(850),
                                    new_reserved_balance=chips(350)),
        player_pb2.FundsReleased(amount=chips(250), table_root=T1, new_reserved_balance=chips(100)),
        player_pb2.FundsWithdrawn(amount=chips(300), new_balance=chips(550)),
        player_pb2.ActionRequested(hand_root=T1),  # moves no money
    ]
    ledger = PlayerLedger.of(events)
    assert ledger.display_name == "Alice"
    assert (ledger.bankroll, ledger.reserved, ledger.available) == (550, 100, 450)
    assert ledger.table_reservations == {T2: 100}
    assert (ledger.deposits, ledger.withdrawals, ledger.transfers) == (1000, 300, -150)
    assert ledger.bankroll == ledger.deposits - ledger.withdrawals + ledger.transfers  # M1


def test_the_bankroll_table_totals_what_came_in_and_what_is_held():
    a = PlayerLedger(bankroll=1030, deposits=1000, transfers=30)
    b = PlayerLedger(bankroll=820, deposits=1000, withdrawals=150, transfers=-30)
    lines = bankroll_table([("Alice", a), ("Bob", b)]).splitlines()
    assert lines[1].split() == ["Alice", "1,000", "0", "+30", "1,030", "0"]
    assert lines[2].split() == ["Bob", "1,000", "150", "-30", "820", "0"]
    assert lines[3].split() == ["total", "1,850", "+0", "1,850"]


def test_the_hand_log_is_read_once_it_holds_every_marker(tmp_path: Path):
    markers = hand_log_markers("main", [1, 2], ["Alice"])
    assert markers == ["=== main hand #1 ===", "Hand #1 settled", "=== main hand #2 ===", "Hand #2 settled",
                       "Alice releases $"]
    log = tmp_path / "hand_log.txt"
    log.write_text("=== main hand #1 ===\nHand #1 settled: Alice +$5\n")
    text, missing = read_hand_log(log, markers, timeout=0.2)
    assert missing == markers[2:]
    log.write_text(text + "=== main hand #2 ===\nHand #2 settled: Alice -$5\nAlice releases $500 from main\n")
    text, missing = read_hand_log(log, markers, timeout=0.2)
    assert missing == [] and text.endswith("from main\n")
    assert read_hand_log(tmp_path / "absent.txt", markers, timeout=0)[1] == markers


@pytest.mark.parametrize("seq", [0, 7])
def test_sequences_come_from_the_page_header(seq):
    book = types_pb2.EventBook(cover=types_pb2.Cover(domain="player", root=types_pb2.UUID(value=T2)))
    book.pages.append(page(player_pb2.FundsDeposited(amount=chips(5)), seq))
    assert [e.sequence for e in book_events(book)] == [seq]
