"""``table-saga`` translations (spec poker §5), driven through the library's saga router."""

from __future__ import annotations

import pytest

from angzarr_client import CommandRejectedError, Router, decode_event, unpack
from angzarr_client.proto.angzarr import saga_pb2, types_pb2
from angzarr_client.testing import build_contextual_command, build_event_book, build_rejection, uuid_for
from player import Player
from poker_contracts import hand_pb2, player_pb2, table_pb2
from poker_contracts.poker_types_pb2 import HUMAN, OMAHA, TEXAS_HOLDEM, Currency
from poker_rules.roots import poker_root
from table import Table, TableSaga

T_ROOT = poker_root("table", "main")
ALICE, BOB, CAROL = (uuid_for(f"player {name}") for name in ("alice", "bob", "carol"))
HAND = uuid_for("hand 7").bytes
CID = "correlation-42"


@pytest.fixture(scope="module")
def saga():
    return Router("table-saga").with_handler(TableSaga()).build()


def react(saga, events, *, domain, root, start_sequence=0) -> saga_pb2.SagaResponse:
    source = build_event_book(events, domain=domain, root=root, start_sequence=start_sequence, correlation_id=CID)
    return saga.dispatch(saga_pb2.SagaHandleRequest(source=source))


def only_command(response: saga_pb2.SagaResponse, cls):
    assert len(response.events) == 0
    (book,) = response.commands
    (page,) = book.pages
    return book, page, unpack(page.command, cls)


def assert_reaction_to(book: types_pb2.CommandBook, page: types_pb2.CommandPage, *, domain: str, root: bytes,
                       source_domain: str, source_root: bytes, source_seq: int) -> None:
    assert (book.cover.domain, book.cover.root.value, book.cover.correlation_id) == (domain, root, CID)
    deferred = page.header.angzarr_deferred
    assert (deferred.source.domain, deferred.source.root.value, deferred.source_seq) == (
        source_domain, source_root, source_seq
    )


def test_the_saga_listens_to_players_and_tables(saga):
    assert sorted(saga.input_domains) == ["player", "table"]


def test_funds_reserved_asks_the_table_for_a_seat(saga):
    reserved = player_pb2.FundsReserved(amount=Currency(amount=400, currency_code="CHIPS"), table_root=T_ROOT)
    book, page, join = only_command(react(saga, [reserved], domain="player", root=ALICE, start_sequence=2),
                                    table_pb2.JoinTable)
    assert join == table_pb2.JoinTable(player_root=ALICE.bytes, preferred_seat=-1, buy_in_amount=400)
    assert_reaction_to(book, page, domain="table", root=T_ROOT, source_domain="player", source_root=ALICE.bytes,
                       source_seq=2)


def test_funds_reserved_passes_on_the_preferred_seat(saga):
    reserved = player_pb2.FundsReserved(amount=Currency(amount=400), table_root=T_ROOT, preferred_seat=0)
    _, _, join = only_command(react(saga, [reserved], domain="player", root=ALICE), table_pb2.JoinTable)
    assert join.preferred_seat == 0


@pytest.mark.parametrize(
    ("event", "fact_type"),
    [
        (player_pb2.PlayerSittingOut(table_root=T_ROOT), table_pb2.PlayerSatOut),
        (player_pb2.PlayerReturningToPlay(table_root=T_ROOT), table_pb2.PlayerSatIn),
    ],
)
def test_sitting_out_and_back_become_table_facts(saga, event, fact_type):
    response = react(saga, [event], domain="player", root=ALICE, start_sequence=5)
    assert len(response.commands) == 0
    (book,) = response.events
    (page,) = book.pages
    assert (book.cover.domain, book.cover.root.value) == ("table", T_ROOT)
    assert page.header.external_deferred.external_id == f"{ALICE.hex}:5"
    assert decode_event(page, fact_type).player_root == ALICE.bytes


def test_hand_started_deals_the_hand(saga):
    started = table_pb2.HandStarted(
        hand_root=HAND, hand_number=7, dealer_position=3, small_blind_position=5, big_blind_position=0,
        active_players=[table_pb2.SeatSnapshot(position=0, player_root=ALICE.bytes, stack=480),
                        table_pb2.SeatSnapshot(position=3, player_root=BOB.bytes, stack=520)],
        game_variant=OMAHA, small_blind=5, big_blind=10, deck_seed=b"seed", action_timeout_seconds=12,
    )
    book, page, deal = only_command(react(saga, [started], domain="table", root=T_ROOT, start_sequence=9),
                                    hand_pb2.DealCards)
    assert deal == hand_pb2.DealCards(
        table_root=T_ROOT, hand_number=7, game_variant=OMAHA,
        players=[hand_pb2.PlayerInHand(player_root=ALICE.bytes, position=0, stack=480),
                 hand_pb2.PlayerInHand(player_root=BOB.bytes, position=3, stack=520)],
        dealer_position=3, small_blind=5, big_blind=10, deck_seed=b"seed", action_timeout_seconds=12,
    )
    assert_reaction_to(book, page, domain="hand", root=HAND, source_domain="table", source_root=T_ROOT,
                       source_seq=9)


def test_hand_ended_settles_every_non_zero_change(saga):
    ended = table_pb2.HandEnded(
        hand_root=HAND, stack_changes={ALICE.hex: -100, BOB.hex: 100, CAROL.hex: 0}
    )
    response = react(saga, [ended], domain="table", root=T_ROOT, start_sequence=11)
    assert len(response.events) == 0
    transfers = {}
    for book in response.commands:
        (page,) = book.pages
        assert_reaction_to(book, page, domain="player", root=book.cover.root.value, source_domain="table",
                           source_root=T_ROOT, source_seq=11)
        transfers[book.cover.root.value] = unpack(page.command, player_pb2.TransferFunds)
    assert transfers == {
        ALICE.bytes: player_pb2.TransferFunds(amount=Currency(amount=-100, currency_code="CHIPS"), hand_root=HAND,
                                              reason="hand result", table_root=T_ROOT),
        BOB.bytes: player_pb2.TransferFunds(amount=Currency(amount=100, currency_code="CHIPS"), hand_root=HAND,
                                            reason="hand result", table_root=T_ROOT),
    }


def test_an_aborted_hand_moves_no_money(saga):
    ended = table_pb2.HandEnded(hand_root=HAND, stack_changes={ALICE.hex: 0, BOB.hex: 0})
    response = react(saga, [ended], domain="table", root=T_ROOT)
    assert len(response.commands) == len(response.events) == 0


def test_player_left_releases_the_reservation(saga):
    left = table_pb2.PlayerLeft(player_root=BOB.bytes, seat_position=3, chips_cashed_out=650)
    book, page, release = only_command(react(saga, [left], domain="table", root=T_ROOT, start_sequence=4),
                                       player_pb2.ReleaseFunds)
    assert release == player_pb2.ReleaseFunds(table_root=T_ROOT)
    assert_reaction_to(book, page, domain="player", root=BOB.bytes, source_domain="table", source_root=T_ROOT,
                       source_seq=4)


def test_a_book_is_translated_page_by_page_in_order(saga):
    events = [
        table_pb2.PlayerJoined(player_root=ALICE.bytes, seat_position=0, stack=500),  # no reaction
        table_pb2.HandEnded(hand_root=HAND, stack_changes={ALICE.hex: -500, BOB.hex: 500}),
        table_pb2.PlayerLeft(player_root=ALICE.bytes, seat_position=0, chips_cashed_out=0),
    ]
    response = react(saga, events, domain="table", root=T_ROOT, start_sequence=20)
    kinds = [(book.cover.root.value, book.pages[0].command.type_url.rsplit(".", 1)[-1],
              book.pages[0].header.angzarr_deferred.source_seq) for book in response.commands]
    settled = sorted([ALICE, BOB], key=lambda player: player.hex)  # settlements go out in player-key order
    assert kinds == [(p.bytes, "TransferFunds", 21) for p in settled] + [(ALICE.bytes, "ReleaseFunds", 22)]


# -- round trips: a refused reaction comes back to its source as a notice --------------------------------


def test_a_join_the_table_refuses_is_compensated_by_the_player(saga):
    reserved = player_pb2.FundsReserved(amount=Currency(amount=400, currency_code="CHIPS"), table_root=T_ROOT,
                                        new_available_balance=Currency(amount=600),
                                        new_reserved_balance=Currency(amount=400))
    history = [
        player_pb2.PlayerRegistered(display_name="Alice", email="a@example.com", player_type=HUMAN),
        player_pb2.FundsDeposited(amount=Currency(amount=1000), new_balance=Currency(amount=1000)),
        reserved,
    ]
    (join,) = react(saga, history[2:], domain="player", root=ALICE, start_sequence=2).commands
    table = Router("table").with_handler(Table).build()
    with pytest.raises(CommandRejectedError) as refused:  # no such table yet
        table.dispatch(build_contextual_command(join))
    notice = build_rejection(join, f"FAILED_PRECONDITION: {refused.value}", reactor="saga:table-saga")

    player = Router("player").with_handler(Player).build()
    response = player.dispatch(
        build_contextual_command(notice, build_event_book(history, domain="player", root=ALICE))
    )
    (page,) = response.events.pages
    released = decode_event(page, player_pb2.FundsReleased)
    assert (page.header.sequence, released.amount.amount, released.table_root) == (3, 400, T_ROOT)


def test_a_deal_the_hand_refuses_aborts_the_hand_at_the_table(saga):
    history = build_event_book([
        table_pb2.TableCreated(table_name="Main", game_variant=TEXAS_HOLDEM, small_blind=5, big_blind=10,
                               min_buy_in=200, max_buy_in=1000, max_players=9, action_timeout_seconds=30),
        table_pb2.PlayerJoined(player_root=ALICE.bytes, seat_position=0, buy_in_amount=500, stack=500),
        table_pb2.PlayerJoined(player_root=BOB.bytes, seat_position=1, buy_in_amount=500, stack=500),
    ], domain="table", root=T_ROOT)
    table = Router("table").with_handler(Table).build()
    started_book = table.dispatch(build_contextual_command(table_pb2.StartHand(), history, domain="table")).events
    (deal,) = react(saga, started_book.pages, domain="table", root=T_ROOT, start_sequence=3).commands
    notice = build_rejection(deal, "INVALID_ARGUMENT: bad deal", reactor="saga:table-saga")

    history.pages.extend(started_book.pages)
    response = table.dispatch(build_contextual_command(notice, history))
    (page,) = response.events.pages
    ended = decode_event(page, table_pb2.HandEnded)
    assert ended.hand_root == deal.cover.root.value
    assert dict(ended.stack_changes) == {ALICE.hex: 0, BOB.hex: 0}
    assert len(react(saga, [ended], domain="table", root=T_ROOT).commands) == 0  # nothing to settle


def test_the_same_source_always_yields_the_same_reactions(saga):
    # The coordinator may call a saga twice (to fix destination sequences) and redelivers after crashes.
    events = [
        player_pb2.FundsReserved(amount=Currency(amount=400), table_root=T_ROOT),
        player_pb2.PlayerSittingOut(table_root=T_ROOT),
    ]
    first, again = (untimed(react(saga, events, domain="player", root=ALICE)) for _ in range(2))
    assert first == again and len(first.commands) == len(first.events) == 1
    ended = [table_pb2.HandEnded(hand_root=HAND, stack_changes={ALICE.hex: -5, BOB.hex: 10, CAROL.hex: -5})]
    assert react(saga, ended, domain="table", root=T_ROOT) == react(saga, ended, domain="table", root=T_ROOT)


def untimed(response: saga_pb2.SagaResponse) -> saga_pb2.SagaResponse:
    """The response without page timestamps (the library stamps facts with the time they were made)."""
    copy = saga_pb2.SagaResponse()
    copy.CopyFrom(response)
    for book in copy.events:
        for page in book.pages:
            page.ClearField("created_at")
    return copy
