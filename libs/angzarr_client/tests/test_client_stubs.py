"""The ``from_stub(s)`` / ``from_clients`` seams with ``testing.RecordingStub`` (spec §6.2, §17)."""

from __future__ import annotations

import uuid

import grpc
import pytest

from angzarr_client import ExponentialBackoffRetry, NoRetry
from angzarr_client.books import new_cover
from angzarr_client.client import Client, CommandHandlerClient, QueryClient, SpeculativeClient
from angzarr_client.errors import ConnectionError, GRPCError
from angzarr_client.proto.angzarr import command_handler_pb2, projector_pb2, types_pb2
from angzarr_client.testing import RecordingStub, rpc_error
from angzarr_client.typeurl import pack
from poker_contracts import player_pb2


def _command_book(cid="c-1"):
    book = types_pb2.CommandBook(cover=new_cover("player", uuid.uuid4(), cid))
    book.pages.add().command.CopyFrom(pack(player_pb2.RegisterPlayer()))
    return book


def _query(cid=""):
    return types_pb2.Query(cover=new_cover("player", uuid.uuid4(), cid))


def test_command_handler_from_stub_records_request_metadata_and_deadline():
    reply = command_handler_pb2.CommandResponse(events=types_pb2.EventBook(cover=new_cover("player")))
    stub = RecordingStub(responses={"HandleCommand": reply})
    client = CommandHandlerClient.from_stub(stub, default_timeout=7)
    assert client.stub is stub
    assert client.handle(_command_book("c-1")) == reply
    (call,) = stub.calls_to("HandleCommand")
    assert call.request.command.cover.correlation_id == "c-1"
    assert call.metadata == (("x-correlation-id", "c-1"),)
    assert call.timeout == 7
    client.close()
    with pytest.raises(ConnectionError):
        client.handle(_command_book())


def test_query_from_stub_streams_and_errors():
    books = [types_pb2.EventBook(cover=new_cover("a")), types_pb2.EventBook(cover=new_cover("b"))]
    stub = RecordingStub(
        responses={"GetEvents": books},
        errors={"GetEventBook": rpc_error(grpc.StatusCode.NOT_FOUND, "no such domain")},
    )
    client = QueryClient.from_stub(stub, retry=NoRetry())
    assert client.get_events(_query()) == books
    assert list(client.iter_events(_query())) == books
    with pytest.raises(GRPCError) as info:
        client.get_event_book(_query())
    assert info.value.is_not_found() and info.value.details == "no such domain"
    assert info.value.endpoint == "<stub>"


def test_stub_errors_are_retried_by_policy():
    seen = []
    policy = ExponentialBackoffRetry(sleep=lambda s: None, on_retry=lambda a, e: seen.append(a))
    stub = RecordingStub(
        responses={"GetEventBook": types_pb2.EventBook()},
        errors={"GetEventBook": [rpc_error(grpc.StatusCode.UNAVAILABLE, "down")] * 2},
    )
    QueryClient.from_stub(stub, retry=policy).get_event_book(_query())
    assert seen == [0, 1] and len(stub.calls_to("GetEventBook")) == 3


def test_speculative_from_stubs_routes_each_call():
    ch, saga, projector, pm = RecordingStub(), RecordingStub(), RecordingStub(), RecordingStub()
    client = SpeculativeClient.from_stubs(ch, saga, projector, pm)
    assert client.stubs == (ch, saga, projector, pm)
    events = types_pb2.EventBook(cover=new_cover("player", uuid.uuid4(), "p-1"))
    events.pages.add().event.CopyFrom(pack(player_pb2.FundsDeposited()))
    client.projector(projector_pb2.SpeculateProjectorRequest(events=events))
    client.aggregate(command_handler_pb2.SpeculateCommandHandlerRequest(command=_command_book()))
    assert [c.method for c in projector.calls] == ["HandleSpeculative"]
    assert [c.method for c in ch.calls] == ["HandleSyncSpeculative"]
    assert saga.calls == [] and pm.calls == []


def test_client_from_clients_delegates():
    stub = RecordingStub(responses={"GetEvents": [types_pb2.EventBook()]})
    ch_stub = RecordingStub()
    client = Client.from_clients(
        CommandHandlerClient.from_stub(ch_stub),
        QueryClient.from_stub(stub),
        SpeculativeClient.from_stubs(*(RecordingStub() for _ in range(4))),
    )
    assert client.get_events(_query()) == [types_pb2.EventBook()]
    client.command_new("player").with_command(player_pb2.RegisterPlayer()).execute()
    assert [c.method for c in ch_stub.calls] == ["HandleCommand"]
    assert ch_stub.calls[0].request.sync_mode == types_pb2.SYNC_MODE_ASYNC
