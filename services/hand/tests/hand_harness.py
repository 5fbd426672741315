"""Test harness for the hand aggregate: a hand driven command by command, and the spec's HE fixtures.

``HandUnderTest`` keeps the committed history as the coordinator would: each command runs on a fresh
``Hand`` built from that history (under a chosen correlation id and clock), and its new events are
appended. Test files import it (``conftest.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from google.protobuf.message import Message

from angzarr_client.errors import CommandRejectedError
from angzarr_client.testing import build_event_book, uuid_for
from angzarr_client.typeurl import pack, type_name_from_url
from hand.aggregate import Hand
from hand.state import rebuild
from poker_contracts import hand_pb2 as pb
from poker_contracts.poker_types_pb2 import TEXAS_HOLDEM
from poker_rules.cards import format_cards, from_protos
from poker_rules.roots import poker_root

T0 = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)
CID = "hand-correlation-1"
HAND_ROOT = uuid_for("hand-1")
TABLE = poker_root("table", "main")
SEED = b"pin-this-deck"


def root(name: str) -> bytes:
    return uuid_for(name).bytes


P1, P2, A, B, C, D = (root(n) for n in ("P1", "P2", "A", "B", "C", "D"))


def cards(text_cards) -> str:
    """Protobuf cards as text, e.g. ``"3s 4c"``."""
    return format_cards(from_protos(text_cards))


@dataclass
class HandUnderTest:
    """A hand's committed history plus a way to send it commands."""

    history: list[Message] = field(default_factory=list)
    now: dt.datetime = T0
    correlation_id: str = CID

    def aggregate(self, *, correlation_id: str | None = None, at: dt.datetime | None = None) -> Hand:
        cid = self.correlation_id if correlation_id is None else correlation_id
        book = build_event_book(self.history, domain="hand", root=HAND_ROOT, correlation_id=cid)
        moment = at or self.now
        return Hand(book, clock=lambda: moment)

    def send(self, cmd: Message, *, correlation_id: str | None = None, at: dt.datetime | None = None) -> list:
        """Run ``cmd``; append and return its events (as messages)."""
        agg = self.aggregate(correlation_id=correlation_id, at=at)
        agg.dispatch(pack(cmd))
        events = [decode(page.event) for page in agg.new_events]
        self.history.extend(events)
        return events

    def reject(self, cmd: Message, *, correlation_id: str | None = None, at: dt.datetime | None = None):
        """Run ``cmd`` expecting a rejection; assert nothing was emitted; return the error."""
        agg = self.aggregate(correlation_id=correlation_id, at=at)
        with pytest.raises(CommandRejectedError) as info:
            agg.dispatch(pack(cmd))
        assert agg.new_events == []
        return info.value

    @property
    def state(self) -> pb.HandState:
        return rebuild(self.history)

    def player(self, player_root: bytes) -> pb.PlayerHandState:
        return next(p for p in self.state.players if p.player_root == player_root)

    # command shorthands
    def act(self, player_root: bytes, action: int, amount: int = 0, **kw) -> list:
        return self.send(pb.PlayerAction(player_root=player_root, action=action, amount=amount), **kw)

    def blinds(self) -> None:
        state = self.state
        by_seat = {p.position: p.player_root for p in state.players}
        self.send(pb.PostBlind(player_root=by_seat[state.small_blind_position], blind_type="small",
                               amount=state.small_blind))
        self.send(pb.PostBlind(player_root=by_seat[state.big_blind_position], blind_type="big",
                               amount=state.big_blind))


def names(events) -> list[str]:
    return [type(e).__name__ for e in events]


def decode(payload) -> Message:
    cls = getattr(pb, type_name_from_url(payload.type_url).rsplit(".", 1)[-1])
    message = cls()
    message.ParseFromString(payload.value)
    return message


def deal_cards(players, *, variant=TEXAS_HOLDEM, dealer=0, seed=SEED, sb=5, bb=10, hand_number=1,
               table=TABLE, timeout=0) -> pb.DealCards:
    return pb.DealCards(
        table_root=table, hand_number=hand_number, game_variant=variant,
        players=[pb.PlayerInHand(player_root=r, position=s, stack=st) for r, s, st in players],
        dealer_position=dealer, small_blind=sb, big_blind=bb, deck_seed=seed,
        action_timeout_seconds=timeout,
    )


def dealt(players, **kw) -> HandUnderTest:
    hut = HandUnderTest()
    hut.send(deal_cards(players, **kw))
    return hut


def hu_hand(p1_stack: int = 500, p2_stack: int = 500, variant: int = TEXAS_HOLDEM) -> HandUnderTest:
    return dealt([(P1, 0, p1_stack), (P2, 1, p2_stack)], variant=variant)


def hu_blinds(p1_stack: int = 500, p2_stack: int = 500, variant: int = TEXAS_HOLDEM) -> HandUnderTest:
    hut = hu_hand(p1_stack, p2_stack, variant)
    hut.blinds()
    return hut


def three_handed_blinds() -> HandUnderTest:
    """3H with blinds posted: A seat 0 (SB), B seat 2 (BB, 45 chips), C seat 5 (button, first to act)."""
    hut = dealt([(A, 0, 1000), (B, 2, 45), (C, 5, 1000)], dealer=5)
    hut.blinds()
    return hut
