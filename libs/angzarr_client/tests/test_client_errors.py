"""The error hierarchy and its predicates (contract items 19-26, rule R3)."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

from angzarr_client import errors
from angzarr_client.errors import (
    ClientError,
    CommandRejectedError,
    ConnectionError,
    DecodeError,
    GRPCError,
    InvalidArgumentError,
    InvalidTimestampError,
    StateRebuildError,
    TransportError,
)
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import pack


class _FailedCall(grpc.RpcError, grpc.Call):
    """The shape of a failed call as grpc hands it to a client (code, details, trailers)."""

    def __init__(self, code, details="", trailers=()):
        self._code, self._details, self._trailers = code, details, tuple(trailers)

    def code(self):
        return self._code

    def details(self):
        return self._details

    def trailing_metadata(self):
        return self._trailers

    def initial_metadata(self):
        return ()

    def is_active(self):
        return False

    def time_remaining(self):
        return None

    def cancel(self):
        return False

    def add_callback(self, callback):
        return False


def _grpc_error(code, details="server says no", detail_msgs=()):
    trailers = ()
    if detail_msgs:
        status = status_pb2.Status(
            code=code.value[0], message=details, details=[pack(m) for m in detail_msgs]
        )
        trailers = ((errors.STATUS_DETAILS_KEY, status.SerializeToString()),)
    return GRPCError(_FailedCall(code, details, trailers), method="/angzarr.X/Y", endpoint="h:1")


ALL_ERRORS = [
    ClientError("base"),
    ConnectionError("client is closed"),
    TransportError("bad tls"),
    _grpc_error(grpc.StatusCode.NOT_FOUND),
    InvalidArgumentError("bad"),
    InvalidTimestampError("bad time"),
    DecodeError("bad bytes", type_url="t", expected="e"),
    StateRebuildError("cannot rebuild", cause=KeyError("x")),
    CommandRejectedError("no"),
]


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_is_a_client_error_and_predicates_never_raise(error):
    assert isinstance(error, ClientError)
    for predicate in (
        "is_not_found",
        "is_precondition_failed",
        "is_aborted",
        "is_invalid_argument",
        "is_connection_error",
        "is_retryable",
    ):
        assert isinstance(getattr(error, predicate)(), bool)
    assert str(error)


PREDICATE_OF = {
    grpc.StatusCode.NOT_FOUND: "is_not_found",
    grpc.StatusCode.FAILED_PRECONDITION: "is_precondition_failed",
    grpc.StatusCode.INVALID_ARGUMENT: "is_invalid_argument",
    grpc.StatusCode.ABORTED: "is_aborted",
}


@pytest.mark.parametrize("code", list(PREDICATE_OF))
def test_each_code_sets_exactly_its_own_predicate(code):
    error = _grpc_error(code)
    for other_code, predicate in PREDICATE_OF.items():
        assert getattr(error, predicate)() is (other_code == code)
    assert not error.is_retryable()
    assert not error.is_connection_error()


def test_not_found_grpc_error_fields():
    error = _grpc_error(grpc.StatusCode.NOT_FOUND, "no such aggregate")
    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.status().code == 5
    assert error.status().message == "no such aggregate"
    assert error.details == "no such aggregate"
    assert str(error) == "grpc error NOT_FOUND calling /angzarr.X/Y at h:1: no such aggregate"
    assert error.method == "/angzarr.X/Y" and error.endpoint == "h:1"


def test_invalid_argument_error_has_no_code():
    error = InvalidArgumentError("command type URL not set")
    assert error.is_invalid_argument()
    assert error.code is None and error.status() is None
    assert isinstance(error, ValueError)
    assert str(error) == "command type URL not set"


@pytest.mark.parametrize("error", [ConnectionError("closed"), TransportError("tls")])
def test_connection_and_transport_errors(error):
    assert error.is_connection_error()
    assert error.is_retryable()
    assert error.code is None


@pytest.mark.parametrize("code", list(grpc.StatusCode))
def test_retryable_only_for_transient_codes(code):
    transient = {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
    assert _grpc_error(code).is_retryable() is (code in transient)
    assert _grpc_error(code).is_connection_error() is (code == grpc.StatusCode.UNAVAILABLE)


def test_command_rejected_error():
    error = CommandRejectedError("x")
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.status_code == grpc.StatusCode.FAILED_PRECONDITION
    assert str(error) == "x" and error.reason == "x"
    assert error.is_precondition_failed()
    assert CommandRejectedError.invalid_argument("a").code == grpc.StatusCode.INVALID_ARGUMENT
    assert CommandRejectedError.not_found("a").code == grpc.StatusCode.NOT_FOUND
    assert CommandRejectedError.already_exists("a").code == grpc.StatusCode.ALREADY_EXISTS
    assert CommandRejectedError.precondition_failed("a").code == grpc.StatusCode.FAILED_PRECONDITION
    assert CommandRejectedError("a", grpc.StatusCode.OUT_OF_RANGE).code == grpc.StatusCode.OUT_OF_RANGE
    with pytest.raises(ValueError):
        CommandRejectedError("a", grpc.StatusCode.UNAVAILABLE)


def test_str_includes_cause_and_is_never_empty():
    assert str(StateRebuildError("cannot rebuild", cause=KeyError("x"))) == "cannot rebuild: 'x'"
    assert str(ClientError()) == "ClientError"
    assert str(StateRebuildError("m", cause=ValueError())) == "m: ValueError"


def test_sequence_mismatch_details():
    mismatch = types_pb2.SequenceMismatchDetails(expected_sequence=2, actual_sequence=5)
    book = types_pb2.EventBook(cover=types_pb2.Cover(domain="player"))
    error = _grpc_error(grpc.StatusCode.FAILED_PRECONDITION, "sequence mismatch", [mismatch, book])
    assert error.is_sequence_mismatch()
    assert error.sequence_mismatch() == mismatch
    assert error.detail(types_pb2.SequenceMismatchDetails).actual_sequence == 5
    assert error.current_event_book() == book
    assert error.status().code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert len(error.status().details) == 2


def test_event_book_alone_is_not_a_mismatch():
    error = _grpc_error(grpc.StatusCode.FAILED_PRECONDITION, "x", [types_pb2.EventBook()])
    assert not error.is_sequence_mismatch()
    assert error.sequence_mismatch() is None
    assert error.current_event_book() == types_pb2.EventBook()


def test_no_details_give_none():
    error = _grpc_error(grpc.StatusCode.FAILED_PRECONDITION)
    assert error.sequence_mismatch() is None
    assert error.current_event_book() is None
    assert error.retry_after() is None
    assert not error.is_sequence_mismatch()


def test_retry_after_from_retry_info():
    info = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2, nanos=500_000_000))
    assert _grpc_error(grpc.StatusCode.UNAVAILABLE, "busy", [info]).retry_after() == 2.5


def test_corrupt_status_trailer_falls_back_to_code_and_details():
    call = _FailedCall(grpc.StatusCode.ABORTED, "x", ((errors.STATUS_DETAILS_KEY, b"\xff\xff"),))
    error = GRPCError(call)
    assert error.status().code == grpc.StatusCode.ABORTED.value[0]
    assert error.is_aborted()


def test_bare_rpc_error_is_wrapped_as_unknown():
    error = GRPCError(grpc.RpcError())
    assert error.code == grpc.StatusCode.UNKNOWN
    assert str(error)
