"""Retry policies and how clients apply them (contract items 14-18, rule R5)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from angzarr_client.books import new_cover
from angzarr_client.client import CommandHandlerClient, QueryClient
from angzarr_client.errors import (
    ClientError,
    CommandRejectedError,
    ConnectionError,
    GRPCError,
    InvalidArgumentError,
    TransportError,
)
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.retry import ExponentialBackoffRetry, NoRetry, default_retry_policy, is_transient
from angzarr_client.typeurl import pack
from poker_contracts import player_pb2


class _Call(grpc.RpcError):
    def __init__(self, code):
        self._code = code

    def code(self):
        return self._code

    def details(self):
        return self._code.name.lower()


# Deadline given to calls a silent server never answers: long enough that a loaded machine still
# delivers the call to the server before it expires.
SILENT_TIMEOUT = 1.0


def _error(code):
    return GRPCError(_Call(code), method="/m", endpoint="e")


def _fast(max_attempts=10, **kw):
    """A policy that records its sleeps instead of sleeping."""
    sleeps = []
    policy = ExponentialBackoffRetry(max_attempts=max_attempts, sleep=sleeps.append, **kw)
    return policy, sleeps


def _query():
    return types_pb2.Query(cover=new_cover("player", uuid.uuid4()))


def _command_book():
    book = types_pb2.CommandBook(cover=new_cover("player", uuid.uuid4(), "c"))
    book.pages.add().command.CopyFrom(pack(player_pb2.RegisterPlayer()))
    return book


# -- item 14 ----------------------------------------------------------------------------------


def test_unavailable_twice_then_success_over_grpc(coordinator):
    seen = []
    policy, sleeps = _fast(on_retry=lambda attempt, exc: seen.append((attempt, exc.code)))
    book = types_pb2.EventBook(cover=new_cover("player"))
    coordinator.fail("GetEventBook", grpc.StatusCode.UNAVAILABLE, "restarting", times=2)
    coordinator.reply("GetEventBook", book)
    client = QueryClient(coordinator.endpoint, retry=policy)
    assert client.get_event_book(_query()) == book
    assert seen == [(0, grpc.StatusCode.UNAVAILABLE), (1, grpc.StatusCode.UNAVAILABLE)]
    assert len(coordinator.calls_to("GetEventBook")) == 3
    assert len(sleeps) == 2


# -- item 15 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ABORTED,
    ],
)
def test_rejections_get_one_attempt(tcp_coordinator, code):
    policy, sleeps = _fast()
    tcp_coordinator.fail("HandleCommand", code, "no", times=3)
    tcp_coordinator.fail("GetEventBook", code, "no", times=3)
    with pytest.raises(GRPCError) as info:
        CommandHandlerClient(tcp_coordinator.endpoint, retry=policy).handle(_command_book())
    assert info.value.code == code
    with pytest.raises(GRPCError):
        QueryClient(tcp_coordinator.endpoint, retry=policy).get_event_book(_query())
    assert len(tcp_coordinator.calls_to("HandleCommand")) == 1
    assert len(tcp_coordinator.calls_to("GetEventBook")) == 1
    assert sleeps == []


def test_no_retry_makes_one_attempt(tcp_coordinator):
    tcp_coordinator.fail("GetEventBook", grpc.StatusCode.UNAVAILABLE, "down", times=3)
    with pytest.raises(GRPCError):
        QueryClient(tcp_coordinator.endpoint, retry=NoRetry()).get_event_book(_query())
    assert len(tcp_coordinator.calls_to("GetEventBook")) == 1


def test_policy_never_retries_other_exceptions():
    policy, sleeps = _fast()
    calls = []

    def op():
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        policy.execute(op)
    with pytest.raises(CommandRejectedError):
        policy.execute(lambda: (_ for _ in ()).throw(CommandRejectedError("no")))
    assert len(calls) == 1 and sleeps == []


# -- item 16 ----------------------------------------------------------------------------------


def test_persistent_unavailable_makes_max_attempts_then_raises_last(tcp_coordinator):
    policy, sleeps = _fast(max_attempts=3)
    tcp_coordinator.fail("GetEventBook", grpc.StatusCode.UNAVAILABLE, "down 1")
    tcp_coordinator.fail("GetEventBook", grpc.StatusCode.UNAVAILABLE, "down 2")
    tcp_coordinator.fail("GetEventBook", grpc.StatusCode.UNAVAILABLE, "down 3")
    with pytest.raises(GRPCError) as info:
        QueryClient(tcp_coordinator.endpoint, retry=policy).get_event_book(_query())
    assert info.value.details == "down 3"
    assert len(tcp_coordinator.calls_to("GetEventBook")) == 3
    assert len(sleeps) == 2


def test_execute_reraises_last_exception_unchanged():
    policy, _ = _fast(max_attempts=3)
    errors = [_error(grpc.StatusCode.UNAVAILABLE) for _ in range(3)]
    it = iter(errors)

    def op():
        raise next(it)

    with pytest.raises(GRPCError) as info:
        policy.execute(op)
    assert info.value is errors[-1]


# -- item 17 ----------------------------------------------------------------------------------


def test_delays_double_up_to_max_delay():
    policy, sleeps = _fast(max_attempts=8, min_delay=0.1, max_delay=1.0, jitter=False)
    with pytest.raises(GRPCError):
        policy.execute(lambda: (_ for _ in ()).throw(_error(grpc.StatusCode.UNAVAILABLE)))
    assert sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])


@given(st.integers(min_value=0, max_value=40))
def test_jittered_delay_falls_in_half_open_interval(attempt):
    policy = ExponentialBackoffRetry(min_delay=0.1, max_delay=5.0, jitter=True)
    d = min(0.1 * 2**attempt, 5.0)
    for _ in range(20):
        assert d / 2 <= policy.delay(attempt) < d


def test_defaults():
    policy = default_retry_policy()
    assert isinstance(policy, ExponentialBackoffRetry)
    assert (policy.min_delay, policy.max_delay, policy.max_attempts, policy.jitter) == (0.1, 5.0, 10, True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_delay": -1},
        {"max_delay": -0.5},
        {"min_delay": 2, "max_delay": 1},
        {"max_attempts": 0},
        {"max_attempts": 1.5},
        {"min_delay": float("inf")},
        {"on_retry": 3},
        {"retry_on": None},
    ],
)
def test_bad_parameters_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        ExponentialBackoffRetry(**kwargs)


def test_custom_retry_on_with_one_parameter():
    policy, sleeps = _fast(max_attempts=3, retry_on=lambda exc: isinstance(exc, KeyError))
    with pytest.raises(KeyError):
        policy.execute(lambda: (_ for _ in ()).throw(KeyError("k")))
    assert len(sleeps) == 2


# -- item 18 ----------------------------------------------------------------------------------


def test_handle_command_retries_unavailable_not_deadline(tcp_coordinator):
    policy, _ = _fast()
    tcp_coordinator.fail("HandleCommand", grpc.StatusCode.UNAVAILABLE, "down")
    CommandHandlerClient(tcp_coordinator.endpoint, retry=policy).handle(_command_book())
    assert len(tcp_coordinator.calls_to("HandleCommand")) == 2

    tcp_coordinator.silent("HandleCommand")
    client = CommandHandlerClient(tcp_coordinator.endpoint, retry=policy, default_timeout=SILENT_TIMEOUT)
    with pytest.raises(GRPCError) as info:
        client.handle(_command_book())
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert len(tcp_coordinator.calls_to("HandleCommand")) == 3  # the silent one was not resent


def test_get_event_book_retries_unavailable_and_deadline(tcp_coordinator):
    policy, _ = _fast()
    tcp_coordinator.fail("GetEventBook", grpc.StatusCode.UNAVAILABLE, "down")
    tcp_coordinator.silent("GetEventBook")
    client = QueryClient(tcp_coordinator.endpoint, retry=policy, default_timeout=SILENT_TIMEOUT)
    client.get_event_book(_query())
    assert len(tcp_coordinator.calls_to("GetEventBook")) == 3


def test_drained_stream_is_retried_whole(tcp_coordinator):
    policy, _ = _fast()
    books = [types_pb2.EventBook(cover=new_cover("a")), types_pb2.EventBook(cover=new_cover("b"))]

    def fail_after_one(request, context):
        yield books[0]
        context.abort(grpc.StatusCode.UNAVAILABLE, "lost")

    tcp_coordinator.reply("GetEvents", fail_after_one, books)
    assert QueryClient(tcp_coordinator.endpoint, retry=policy).get_events(_query()) == books
    assert len(tcp_coordinator.calls_to("GetEvents")) == 2


def test_iterator_retries_before_first_item_only(tcp_coordinator):
    policy, _ = _fast()
    books = [types_pb2.EventBook(cover=new_cover("a"))]

    def fail_after_one(request, context):
        yield books[0]
        context.abort(grpc.StatusCode.UNAVAILABLE, "lost")

    tcp_coordinator.fail("GetEvents", grpc.StatusCode.UNAVAILABLE, "down")
    tcp_coordinator.reply("GetEvents", fail_after_one)
    stream = QueryClient(tcp_coordinator.endpoint, retry=policy).iter_events(_query())
    assert next(stream) == books[0]
    with pytest.raises(GRPCError) as info:
        next(stream)
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    assert len(tcp_coordinator.calls_to("GetEvents")) == 2


def test_closed_client_is_never_retried(tcp_coordinator):
    seen = []
    policy, sleeps = _fast(on_retry=lambda a, e: seen.append(a))
    client = QueryClient(tcp_coordinator.endpoint, retry=policy)
    client.close()
    with pytest.raises(ConnectionError):
        client.get_event_book(_query())
    with pytest.raises(ConnectionError):
        client.get_events(_query())
    with pytest.raises(ConnectionError):
        next(client.iter_events(_query()))
    assert seen == [] and sleeps == []


# -- is_transient ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(grpc.StatusCode))
def test_is_transient_by_code(code):
    idempotent = {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
    command = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert is_transient(_error(code)) is (code in idempotent)
    assert is_transient(_error(code), idempotent=False) is (code in command)


def test_is_transient_for_other_errors():
    for exc in (ConnectionError("x"), TransportError("y")):
        assert is_transient(exc) and is_transient(exc, idempotent=False)
    for exc in (InvalidArgumentError("x"), CommandRejectedError("no"), ClientError("x"), KeyError("k")):
        assert not is_transient(exc) and not is_transient(exc, idempotent=False)
