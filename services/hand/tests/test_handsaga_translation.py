"""``hand-saga`` (spec poker §5): ``HandComplete`` → ``EndHand`` to the table, through the saga router."""

from __future__ import annotations

import pytest

from angzarr_client import Router, unpack
from angzarr_client.proto.angzarr import saga_pb2
from angzarr_client.testing import build_event_book, uuid_for
from hand.saga import HandSaga
from poker_contracts import hand_pb2, table_pb2
from poker_contracts.poker_types_pb2 import STRAIGHT, HandRanking
from poker_rules.roots import poker_root

TABLE = poker_root("table", "main")
HAND = uuid_for("hand-saga hand 1")
P1, P2 = uuid_for("hs P1").bytes, uuid_for("hs P2").bytes
CID = "hand-saga-cid"


@pytest.fixture(scope="module")
def saga():
    return Router("hand-saga").with_handler(HandSaga()).build()


def react(saga, events, *, start_sequence=0) -> saga_pb2.SagaResponse:
    source = build_event_book(events, domain="hand", root=HAND, start_sequence=start_sequence, correlation_id=CID)
    return saga.dispatch(saga_pb2.SagaHandleRequest(source=source))


def complete(**overrides) -> hand_pb2.HandComplete:
    fields = dict(
        table_root=TABLE,
        hand_number=3,
        winners=[
            hand_pb2.PotWinner(player_root=P1, amount=200, pot_type="main",
                               winning_hand=HandRanking(rank_type=STRAIGHT, score=5570560)),
            hand_pb2.PotWinner(player_root=P1, amount=50, pot_type="side-1"),
        ],
        final_stacks=[
            hand_pb2.PlayerStackSnapshot(player_root=P1, stack=750, position=0),
            hand_pb2.PlayerStackSnapshot(player_root=P2, stack=250, position=4, has_folded=True),
        ],
    )
    fields.update(overrides)
    return hand_pb2.HandComplete(**fields)


def test_the_saga_listens_to_hands_only(saga):
    assert list(saga.input_domains) == ["hand"]


def test_hand_complete_ends_the_hand_at_its_table(saga):
    response = react(saga, [hand_pb2.CardsDealt(), complete()], start_sequence=11)
    assert len(response.events) == 0
    (book,) = response.commands
    (page,) = book.pages
    assert (book.cover.domain, book.cover.root.value, book.cover.correlation_id) == ("table", TABLE, CID)
    deferred = page.header.angzarr_deferred
    assert (deferred.source.domain, deferred.source.root.value, deferred.source_seq) == ("hand", HAND.bytes, 12)
    end = unpack(page.command, table_pb2.EndHand)
    assert end.hand_root == HAND.bytes
    assert list(end.results) == [
        table_pb2.PotResult(winner_root=P1, amount=200, pot_type="main",
                            winning_hand=HandRanking(rank_type=STRAIGHT, score=5570560)),
        table_pb2.PotResult(winner_root=P1, amount=50, pot_type="side-1"),
    ]
    assert not end.results[1].HasField("winning_hand")
    assert list(end.final_stacks) == [
        table_pb2.SeatSnapshot(position=0, player_root=P1, stack=750),
        table_pb2.SeatSnapshot(position=4, player_root=P2, stack=250),
    ]


def test_a_player_ending_at_zero_is_still_listed(saga):
    stacks = [hand_pb2.PlayerStackSnapshot(player_root=P1, stack=1000, position=1),
              hand_pb2.PlayerStackSnapshot(player_root=P2, stack=0, position=2, is_all_in=True)]
    (book,) = react(saga, [complete(final_stacks=stacks)]).commands
    end = unpack(book.pages[0].command, table_pb2.EndHand)
    assert [(s.position, s.player_root, s.stack) for s in end.final_stacks] == [(1, P1, 1000), (2, P2, 0)]


def test_other_hand_events_yield_nothing(saga):
    events = [hand_pb2.CardsDealt(), hand_pb2.PotAwarded(), hand_pb2.ShowdownStarted(), hand_pb2.PlayerTimedOut()]
    response = react(saga, events)
    assert len(response.commands) == 0 and len(response.events) == 0


def test_redelivery_yields_the_same_command(saga):
    first = react(saga, [complete()], start_sequence=4)
    second = react(saga, [complete()], start_sequence=4)
    assert first.commands[0].pages[0] == second.commands[0].pages[0]
    assert first.commands[0].cover == second.commands[0].cover


def test_a_source_from_another_domain_is_refused(saga):
    from angzarr_client.errors import InvalidArgumentError

    source = build_event_book([complete()], domain="table", root=HAND, correlation_id=CID)
    with pytest.raises(InvalidArgumentError, match="hand"):
        saga.dispatch(saga_pb2.SagaHandleRequest(source=source))
