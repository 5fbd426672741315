"""Our own client library against the real coordinator: commands, rich sequence errors, queries and
subscriptions as ``angzarr_client`` users see them (spec/client-library.md §2, §4)."""

from __future__ import annotations

import uuid

import pytest
from coord_support import struct_of
from google.protobuf import struct_pb2

from angzarr_client import errors
from angzarr_client.client import Client
from angzarr_client.proto.angzarr import types_pb2


def deposit(amount: float) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update({"op": "deposit", "amount": amount})
    return s


@pytest.fixture
def client(coordinator):
    c = Client.connect(f"unix:{coordinator.socket}")
    yield c
    c.close()


def test_library_commands_queries_and_sequence_errors(client):
    root = uuid.uuid4()
    first = client.command("bank", root).with_command(deposit(5)).execute()
    assert first.events.next_sequence == 1
    client.command("bank", root).with_sequence(1).with_command(deposit(7)).execute()
    stale = client.command("bank", root).with_sequence(0).with_merge_strategy(types_pb2.MERGE_STRICT)
    with pytest.raises(errors.GRPCError) as info:
        stale.with_command(deposit(1)).execute()
    err = info.value
    assert err.is_precondition_failed() and err.is_sequence_mismatch()
    assert err.sequence_mismatch().actual_sequence == 2
    book = err.current_event_book()
    assert book.next_sequence == 2 and [p.header.sequence for p in book.pages] == [0, 1]
    pages = client.query("bank", root).range_to(1, 1).get_events()
    assert [p.header.sequence for b in pages for p in b.pages] == [1]
    assert struct_of(pages[0].pages[0].event)["balance"] == 12


def test_library_rejections_keep_code_and_message(client):
    s = struct_pb2.Struct()
    s.update({"op": "withdraw", "amount": 50})
    with pytest.raises(errors.GRPCError) as info:
        client.command("bank", uuid.uuid4()).with_command(s).execute()
    assert info.value.is_precondition_failed()
    assert "insufficient funds" in str(info.value)
    assert not info.value.is_sequence_mismatch()


def test_library_subscription_sees_history_then_live(client):
    cid = "lib-" + uuid.uuid4().hex[:8]
    root = uuid.uuid4()
    client.command("bank", root).with_correlation_id(cid).with_command(deposit(1)).execute()
    stream = client.query.subscribe(cid)
    try:
        it = iter(stream)
        assert next(it).pages[0].header.sequence == 0
        client.command("bank", root).with_correlation_id(cid).with_sequence(1).with_command(deposit(1)).execute()
        assert next(it).pages[0].header.sequence == 1
    finally:
        stream.cancel()
