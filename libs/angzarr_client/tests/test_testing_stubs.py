"""RecordingStub and rpc_error, used through the clients' from_stub seam."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2

from angzarr_client.client import CommandHandlerClient
from angzarr_client.errors import GRPCError
from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_client.retry import ExponentialBackoffRetry, NoRetry
from angzarr_client.testing import RecordingStub, build_command_book, rpc_error
from poker_contracts import player_pb2 as pb


def command(correlation_id: str = "cid-1") -> types_pb2.CommandBook:
    return build_command_book(
        pb.RegisterPlayer(display_name="a"), domain="player", correlation_id=correlation_id
    )


def test_records_method_request_metadata_and_timeout_and_returns_the_canned_reply():
    reply = command_handler_pb2.CommandResponse(
        events=types_pb2.EventBook(cover=types_pb2.Cover(domain="player"))
    )
    stub = RecordingStub(responses={"HandleCommand": reply})
    client = CommandHandlerClient.from_stub(stub, retry=NoRetry())
    sent = command()
    assert client.handle(sent, timeout=3) == reply
    (call,) = stub.calls
    assert call.method == "HandleCommand"
    assert call.request.command == sent
    assert ("x-correlation-id", "cid-1") in call.metadata
    assert 0 < call.timeout <= 3
    assert stub.calls_to("HandleEvent") == []


def test_callable_replies_and_unconfigured_methods():
    stub = RecordingStub(responses={"Echo": lambda request: request * 2})
    assert stub.Echo(21) == 42
    assert stub.Other("x") is None
    assert [c.method for c in stub.calls] == ["Echo", "Other"]
    with pytest.raises(AttributeError):
        _ = stub._private


def test_error_sequences_are_raised_before_replies_and_drive_retries():
    unavailable = rpc_error(grpc.StatusCode.UNAVAILABLE, "down")
    stub = RecordingStub(
        responses={"HandleCommand": command_handler_pb2.CommandResponse()},
        errors={"HandleCommand": [unavailable, unavailable]},
    )
    client = CommandHandlerClient.from_stub(
        stub, retry=ExponentialBackoffRetry(min_delay=0.001, jitter=False)
    )
    assert client.handle(command()) == command_handler_pb2.CommandResponse()
    assert len(stub.calls_to("HandleCommand")) == 3


def test_rpc_error_carries_rich_details_readable_by_grpc_error():
    mismatch = types_pb2.SequenceMismatchDetails(expected_sequence=1, actual_sequence=4)
    retry = error_details_pb2.RetryInfo()
    retry.retry_delay.seconds = 2
    error = rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "sequence mismatch", [mismatch, retry])
    assert isinstance(error, grpc.RpcError)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and error.details() == "sequence mismatch"
    stub = RecordingStub(errors={"HandleCommand": error})
    client = CommandHandlerClient.from_stub(stub, retry=NoRetry())
    with pytest.raises(GRPCError) as info:
        client.handle(command())
    assert info.value.is_precondition_failed() and info.value.is_sequence_mismatch()
    assert info.value.sequence_mismatch().actual_sequence == 4
    assert info.value.retry_after() == 2
    assert info.value.status().code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    plain = rpc_error(grpc.StatusCode.NOT_FOUND, "nope")
    assert plain.trailing_metadata() == ()
    with pytest.raises(TypeError):
        rpc_error(5, "not a status code")
