"""The next-sequence rule, cover accessors and event packing (contract item 43, spec §3)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from angzarr_client.books import (
    CORRELATION_ID_HEADER,
    correlated_metadata,
    correlation_id_of,
    cover_of,
    domain_of,
    edition_of,
    new_cover,
    next_sequence,
    pack_event,
    pack_events,
    root_of,
)
from angzarr_client.errors import InvalidArgumentError
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import unpack
from poker_contracts import player_pb2


def _book(pages=(), snapshot=None, next_field=0):
    book = types_pb2.EventBook(next_sequence=next_field)
    for seq in pages:
        book.pages.add().header.sequence = seq
    if snapshot is not None:
        book.snapshot.sequence = snapshot
    return book


def test_next_sequence_contract_cases():
    assert next_sequence(None) == 0
    assert next_sequence(_book()) == 0
    assert next_sequence(_book(range(5))) == 5
    assert next_sequence(_book(snapshot=10)) == 11
    assert next_sequence(_book(range(6, 9), snapshot=5)) == 9


def test_next_sequence_ignores_the_field():
    assert next_sequence(_book(next_field=42)) == 0
    assert next_sequence(_book(range(3), next_field=42)) == 3


def test_next_sequence_detects_snapshot_at_zero_with_hasfield():
    assert next_sequence(_book(snapshot=0)) == 1


@given(st.lists(st.integers(0, 2**31), min_size=1, max_size=20))
def test_next_sequence_is_last_page_plus_one(seqs):
    assert next_sequence(_book(seqs)) == seqs[-1] + 1


def test_next_sequence_rejects_non_books():
    with pytest.raises(InvalidArgumentError):
        next_sequence(types_pb2.CommandBook())


def test_cover_accessors():
    root = uuid.uuid4()
    cover = new_cover("player", root, "corr-1", "branch")
    book = types_pb2.EventBook(cover=cover)
    assert cover_of(book) == cover
    assert cover_of(cover) is cover
    assert domain_of(book) == "player"
    assert correlation_id_of(types_pb2.CommandBook(cover=cover)) == "corr-1"
    assert root_of(types_pb2.Query(cover=cover)) == root
    assert edition_of(book) == "branch"


def test_cover_accessor_defaults():
    empty = types_pb2.EventBook()
    assert cover_of(empty) is None
    assert cover_of(None) is None
    assert domain_of(empty) == ""
    assert correlation_id_of(empty) == ""
    assert root_of(empty) is None
    assert root_of(types_pb2.EventBook(cover=new_cover("x"))) is None
    assert edition_of(empty) == "angzarr"
    assert edition_of(types_pb2.EventBook(cover=new_cover("x"))) == "angzarr"
    with pytest.raises(InvalidArgumentError):
        cover_of(types_pb2.EventPage())


def test_new_cover_validates():
    with pytest.raises(InvalidArgumentError):
        new_cover("")
    with pytest.raises(InvalidArgumentError):
        new_cover("d", root="not-a-uuid")
    with pytest.raises(InvalidArgumentError):
        new_cover("d", edition=3)
    cover = new_cover("d", edition=types_pb2.Edition(name="e"))
    assert cover.edition.name == "e"
    assert not cover.HasField("root")


def test_pack_event_makes_a_one_page_book():
    event = player_pb2.FundsDeposited(amount={"amount": 5})
    cover = new_cover("player", uuid.uuid4())
    book = pack_event(event, 7, cover=cover)
    assert len(book.pages) == 1
    page = book.pages[0]
    assert page.header.sequence == 7
    assert page.created_at.seconds > 0
    assert unpack(page.event, player_pb2.FundsDeposited) == event
    assert book.cover == cover
    assert not pack_event(event).HasField("cover")


def test_pack_events_gives_consecutive_sequences():
    book = pack_events([player_pb2.FundsDeposited(), player_pb2.FundsWithdrawn()], 3)
    assert [p.header.sequence for p in book.pages] == [3, 4]
    assert next_sequence(book) == 5


@pytest.mark.parametrize("bad", [-1, 2**32, "1", 1.0, True])
def test_pack_event_rejects_bad_sequences(bad):
    with pytest.raises(InvalidArgumentError):
        pack_event(player_pb2.FundsDeposited(), bad)


def test_pack_events_copies_inputs():
    cover = new_cover("player")
    event = player_pb2.FundsDeposited()
    book = pack_event(event, cover=cover)
    book.cover.domain = "changed"
    assert cover.domain == "player"


def test_correlated_metadata():
    assert CORRELATION_ID_HEADER == "x-correlation-id"
    assert correlated_metadata("c") == [("x-correlation-id", "c")]
    assert correlated_metadata("") == []


@pytest.mark.parametrize("bad", [None, 3, player_pb2.FundsDeposited()])
def test_pack_events_needs_an_iterable(bad):
    with pytest.raises(InvalidArgumentError):
        pack_events(bad)
