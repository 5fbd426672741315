"""Cards: text form, canonical deck order and protobuf conversion (spec poker §0.2)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poker_contracts import poker_types_pb2
from poker_rules.cards import (
    ACE,
    CLUBS,
    DIAMONDS,
    HEARTS,
    NEW_DECK,
    SPADES,
    Card,
    card_index,
    format_card,
    format_cards,
    from_proto,
    from_protos,
    parse_card,
    parse_cards,
    to_proto,
    to_protos,
)


def test_suit_numbers_match_the_proto_enum():
    assert (CLUBS, DIAMONDS, HEARTS, SPADES) == (
        poker_types_pb2.CLUBS,
        poker_types_pb2.DIAMONDS,
        poker_types_pb2.HEARTS,
        poker_types_pb2.SPADES,
    )
    assert ACE == poker_types_pb2.ACE
    assert poker_types_pb2.TEN == 10


def test_parse_card_reads_rank_then_suit():
    assert parse_card("As") == Card(14, SPADES)
    assert parse_card("Tc") == Card(10, CLUBS)
    assert parse_card("2d") == Card(2, DIAMONDS)
    assert parse_card("Jh") == Card(11, HEARTS)
    assert parse_card(" qd ") == Card(12, DIAMONDS)


def test_parse_cards_splits_on_whitespace():
    assert parse_cards("As Kd") == [Card(14, SPADES), Card(13, DIAMONDS)]
    assert parse_cards("") == []
    assert parse_cards("  ") == []


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("", "two characters"),
        ("A", "two characters"),
        ("10s", "two characters"),
        ("1s", "rank"),
        ("Ax", "suit"),
        ("Zz", "rank"),
    ],
)
def test_bad_card_text_is_a_value_error_saying_what_is_wrong(text, keyword):
    with pytest.raises(ValueError, match=keyword):
        parse_card(text)


def test_parse_cards_rejects_any_bad_word():
    with pytest.raises(ValueError, match="suit"):
        parse_cards("As Kx")


def test_non_text_is_a_value_error():
    with pytest.raises(ValueError):
        parse_card(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        parse_cards(42)  # type: ignore[arg-type]


def test_format_round_trips():
    assert format_card(Card(14, SPADES)) == "As"
    assert format_cards([Card(10, HEARTS), Card(5, CLUBS)]) == "Th 5c"
    assert format_cards([]) == ""
    assert str(Card(13, DIAMONDS)) == "Kd"


def test_format_rejects_out_of_range_cards():
    with pytest.raises(ValueError, match="rank"):
        format_card(Card(1, SPADES))
    with pytest.raises(ValueError, match="suit"):
        format_card(Card(14, 0))


def test_new_deck_is_suit_major_canonical_order():
    assert len(NEW_DECK) == 52
    assert len(set(NEW_DECK)) == 52
    assert format_cards(NEW_DECK[:13]) == "2c 3c 4c 5c 6c 7c 8c 9c Tc Jc Qc Kc Ac"
    assert format_card(NEW_DECK[13]) == "2d"
    assert format_card(NEW_DECK[25]) == "Ad"
    assert format_card(NEW_DECK[26]) == "2h"
    assert format_card(NEW_DECK[39]) == "2s"
    assert format_card(NEW_DECK[51]) == "As"
    assert [card_index(c) for c in NEW_DECK] == list(range(52))


def test_proto_conversion_round_trips_every_card():
    for card in NEW_DECK:
        msg = to_proto(card)
        assert isinstance(msg, poker_types_pb2.Card)
        assert (msg.rank, msg.suit) == (card.rank, card.suit)
        assert from_proto(msg) == card
    assert from_protos(to_protos(NEW_DECK)) == list(NEW_DECK)


def test_ace_of_spades_proto_uses_enum_values():
    msg = to_proto(parse_card("As"))
    assert msg.rank == poker_types_pb2.ACE
    assert msg.suit == poker_types_pb2.SPADES


def test_unspecified_proto_card_is_rejected():
    with pytest.raises(ValueError, match="rank"):
        from_proto(poker_types_pb2.Card())
    with pytest.raises(ValueError, match="suit"):
        from_proto(poker_types_pb2.Card(rank=poker_types_pb2.ACE))


@given(st.sampled_from(NEW_DECK))
def test_text_round_trip(card):
    assert parse_card(format_card(card)) == card
