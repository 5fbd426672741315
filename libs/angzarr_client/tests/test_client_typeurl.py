"""Type URLs, Any packing and event decoding (contract items 44-46, rule R1)."""

from __future__ import annotations

import pytest
from google.protobuf import any_pb2, wrappers_pb2
from hypothesis import given
from hypothesis import strategies as st

from angzarr_client.errors import DecodeError, InvalidArgumentError
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import (
    TYPE_URL_PREFIX,
    decode_event,
    decode_events,
    events_from_response,
    full_name,
    pack,
    try_unpack,
    type_matches,
    type_name_from_url,
    type_url_for,
    unpack,
)
from poker_contracts import player_pb2


def test_type_url_uses_standard_prefix_and_full_name():
    assert TYPE_URL_PREFIX == "type.googleapis.com/"
    assert type_url_for(player_pb2.RegisterPlayer) == "type.googleapis.com/examples.RegisterPlayer"
    assert type_url_for(player_pb2.RegisterPlayer()) == "type.googleapis.com/examples.RegisterPlayer"
    assert full_name(types_pb2.EventBook.DESCRIPTOR) == "angzarr.EventBook"
    assert full_name("type.googleapis.com/examples.X") == "examples.X"


def test_full_name_rejects_non_messages():
    for bad in (42, object(), "", str):
        with pytest.raises(InvalidArgumentError):
            full_name(bad)


def test_type_name_is_text_after_last_slash_whatever_prefix():
    assert type_name_from_url("type.googleapis.com/examples.A") == "examples.A"
    assert type_name_from_url("example.com/x/y/orders.v1.B") == "orders.v1.B"
    assert type_name_from_url("examples.C") == "examples.C"


def test_type_matches_rule_r1():
    url = "type.googleapis.com/orders.v1.OrderCreated"
    assert type_matches(url, "v1.OrderCreated")
    assert type_matches(url, "OrderCreated")
    assert type_matches(url, "orders.v1.OrderCreated")
    assert not type_matches(url, "ordercreated")
    assert not type_matches(url, "rderCreated")
    assert not type_matches(type_url_for(wrappers_pb2.UInt32Value), "Int32Value")
    assert type_matches(type_url_for(wrappers_pb2.Int32Value), "Int32Value")
    # a class matches only its exact full name
    assert type_matches(type_url_for(player_pb2.RegisterPlayer), player_pb2.RegisterPlayer)
    assert not type_matches("x/other.examples.RegisterPlayer", player_pb2.RegisterPlayer)
    assert type_matches(pack(player_pb2.RegisterPlayer()), player_pb2.RegisterPlayer)
    with pytest.raises(InvalidArgumentError):
        type_matches(url, "")


@given(
    st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True), min_size=1, max_size=4),
    st.integers(min_value=0, max_value=3),
)
def test_type_matches_every_dotted_suffix(parts, cut):
    name = ".".join(parts)
    cut = min(cut, len(parts) - 1)
    suffix = ".".join(parts[cut:])
    assert type_matches(TYPE_URL_PREFIX + name, suffix)
    # a partial last segment never matches
    if len(parts[-1]) > 1:
        assert not type_matches(TYPE_URL_PREFIX + name, parts[-1][1:]) or name.endswith("." + parts[-1][1:])


def test_pack_and_unpack_round_trip():
    msg = player_pb2.RegisterPlayer(display_name="alice", email="a@example.com")
    packed = pack(msg)
    assert packed.type_url == "type.googleapis.com/examples.RegisterPlayer"
    assert unpack(packed, player_pb2.RegisterPlayer) == msg
    with pytest.raises(InvalidArgumentError):
        pack(b"bytes")


def test_unpack_wrong_type_raises_decode_error_with_details():
    packed = pack(player_pb2.RegisterPlayer(display_name="alice"))
    with pytest.raises(DecodeError) as info:
        unpack(packed, player_pb2.DepositFunds)
    assert info.value.type_url == packed.type_url
    assert info.value.expected == "examples.DepositFunds"
    assert info.value.is_invalid_argument()


def test_unpack_corrupt_bytes_raises_decode_error():
    corrupt = any_pb2.Any(type_url=type_url_for(player_pb2.RegisterPlayer), value=b"\x0a\xff\xff\xff")
    with pytest.raises(DecodeError):
        unpack(corrupt, player_pb2.RegisterPlayer)
    with pytest.raises(DecodeError):
        try_unpack(corrupt, player_pb2.RegisterPlayer)


def test_unpack_empty_bytes_gives_default_message():
    empty = any_pb2.Any(type_url=type_url_for(player_pb2.RegisterPlayer), value=b"")
    assert unpack(empty, player_pb2.RegisterPlayer) == player_pb2.RegisterPlayer()


def test_unpack_accepts_any_prefix():
    other_prefix = any_pb2.Any(
        type_url="example.com/types/examples.RegisterPlayer",
        value=player_pb2.RegisterPlayer(display_name="b").SerializeToString(),
    )
    assert unpack(other_prefix, player_pb2.RegisterPlayer).display_name == "b"


def test_try_unpack_returns_none_on_mismatch():
    assert try_unpack(pack(player_pb2.RegisterPlayer()), player_pb2.DepositFunds) is None


def _page(msg=None, value=None, seq=0):
    page = types_pb2.EventPage()
    page.header.sequence = seq
    if msg is not None:
        page.event.CopyFrom(pack(msg))
    if value is not None:
        page.event.CopyFrom(any_pb2.Any(type_url=type_url_for(player_pb2.PlayerRegistered), value=value))
    return page


def test_decode_event():
    event = player_pb2.PlayerRegistered(display_name="alice")
    assert decode_event(_page(event), player_pb2.PlayerRegistered) == event
    assert decode_event(_page(event), player_pb2.FundsDeposited) is None
    assert decode_event(_page(), player_pb2.PlayerRegistered) is None
    with pytest.raises(DecodeError):
        decode_event(_page(value=b"\x0a\x05ab"), player_pb2.PlayerRegistered)


def test_decode_events_filters_by_type_in_order():
    book = types_pb2.EventBook()
    for i, msg in enumerate(
        [
            player_pb2.PlayerRegistered(display_name="a"),
            player_pb2.FundsDeposited(),
            player_pb2.PlayerRegistered(display_name="b"),
        ]
    ):
        book.pages.append(_page(msg, seq=i))
    assert [e.display_name for e in decode_events(book, player_pb2.PlayerRegistered)] == ["a", "b"]
    assert len(decode_events(list(book.pages), player_pb2.FundsDeposited)) == 1


def test_events_from_response():
    from angzarr_client.proto.angzarr import command_handler_pb2

    assert events_from_response(None) == []
    assert events_from_response(command_handler_pb2.CommandResponse()) == []
    resp = command_handler_pb2.CommandResponse()
    resp.events.pages.append(_page(player_pb2.FundsDeposited(), seq=3))
    assert [p.header.sequence for p in events_from_response(resp)] == [3]
    assert len(events_from_response(resp.events)) == 1
    with pytest.raises(InvalidArgumentError):
        events_from_response(types_pb2.Cover())


@pytest.mark.parametrize("bad", [None, 3, types_pb2.Cover()])
def test_decode_events_needs_pages(bad):
    with pytest.raises(InvalidArgumentError):
        decode_events(bad, player_pb2.PlayerRegistered)
