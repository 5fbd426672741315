"""Stamping and echo tolerance of handler replies (spec/coordinator.md §3.1 step 8)."""

from __future__ import annotations

import grpc
import pytest

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_coordinator.richerror import RpcFailure
from angzarr_coordinator.stamping import new_pages, stamp


def page(seq: int, value: bytes) -> types_pb2.EventPage:
    p = types_pb2.EventPage()
    p.header.sequence = seq
    p.event.type_url = "type.googleapis.com/t.E"
    p.event.value = value
    return p


def reply(*pages) -> command_handler_pb2.BusinessResponse:
    return command_handler_pb2.BusinessResponse(events=types_pb2.EventBook(pages=pages))


def test_echo_prefix_is_dropped_only_when_exact():
    given = [page(0, b"a"), page(1, b"b")]
    assert [p.event.value for p in new_pages(reply(*given, page(9, b"c")), given)] == [b"c"]
    # A changed payload or sequence is not an echo: everything is new.
    assert len(new_pages(reply(page(0, b"a"), page(1, b"X"), page(9, b"c")), given)) == 3
    assert len(new_pages(reply(page(0, b"a"), page(5, b"b")), given)) == 2
    # Nothing was given: nothing can be an echo.
    assert len(new_pages(reply(page(0, b"a")), [])) == 1


def test_stamping_replaces_sequences_and_fills_created_at():
    source = page(77, b"a")
    source.committed = True
    source.cascade_id = "c"
    kept = page(3, b"b")
    kept.created_at.seconds = 42
    stamped = stamp([source, kept], 10)
    assert [p.header.sequence for p in stamped] == [10, 11]
    assert stamped[0].created_at.seconds > 0 and stamped[1].created_at.seconds == 42
    assert not stamped[0].committed and not stamped[0].HasField("cascade_id")
    assert stamped[0].event == source.event


def test_sequences_past_2_pow_32_are_out_of_range():
    with pytest.raises(RpcFailure) as info:
        stamp([page(0, b"a"), page(1, b"b")], 2**32 - 1)
    assert info.value.code == grpc.StatusCode.OUT_OF_RANGE
    assert [p.header.sequence for p in stamp([page(0, b"a")], 2**32 - 2)] == [2**32 - 2]
    with pytest.raises(RpcFailure):  # next_sequence 2**32 would not fit the uint32 on the wire
        stamp([page(0, b"a")], 2**32 - 1)
