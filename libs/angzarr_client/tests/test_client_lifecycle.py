"""Channels, closing, readiness and deadlines (contract items 5, 6, 13)."""

from __future__ import annotations

import math
import uuid

import grpc
import pytest

from angzarr_client import NO_TIMEOUT, ExponentialBackoffRetry, NoRetry
from angzarr_client.books import new_cover
from angzarr_client.client import (
    DEFAULT_TIMEOUT,
    Client,
    CommandHandlerClient,
    DomainClient,
    QueryClient,
    SpeculativeClient,
)
from angzarr_client.errors import ConnectionError, GRPCError, InvalidArgumentError
from angzarr_client.proto.angzarr import process_manager_pb2, projector_pb2, saga_pb2, types_pb2
from angzarr_client.typeurl import pack
from poker_contracts import player_pb2

# Deadline given to calls a silent server never answers: long enough that a loaded machine still
# delivers the call to the server before it expires.
SILENT_TIMEOUT = 1.0


def _within(remaining, timeout):
    """The server saw a deadline of about ``timeout``; gRPC rounds the wire timeout to coarse units."""
    return remaining is not None and 0 < remaining <= timeout * 1.05 + 0.05


def _query():
    return types_pb2.Query(cover=new_cover("player", uuid.uuid4()))


def _command_book():
    book = types_pb2.CommandBook(cover=new_cover("player", uuid.uuid4(), "c"))
    book.pages.add().command.CopyFrom(pack(player_pb2.RegisterPlayer()))
    return book


def _event_book(cid="c"):
    book = types_pb2.EventBook(cover=new_cover("player", uuid.uuid4(), cid))
    page = book.pages.add()
    page.header.external_deferred.external_id = "x"
    page.event.CopyFrom(pack(player_pb2.FundsDeposited()))
    return book


# -- item 5 -----------------------------------------------------------------------------------


def test_from_channel_leaves_channel_open_and_can_be_shared(tcp_coordinator):
    channel = grpc.insecure_channel(tcp_coordinator.endpoint)
    a = QueryClient.from_channel(channel)
    b = DomainClient.from_channel(channel)
    a.get_event_book(_query())
    a.close()
    b.get_event_book(_query())  # the shared channel still works after a.close()
    b.close()
    grpc.channel_ready_future(channel).result(timeout=10)  # still usable by its owner
    assert len(tcp_coordinator.calls_to("GetEventBook")) == 2
    channel.close()


def test_channel_target_with_owns_channel_true_is_closed(tcp_coordinator):
    channel = grpc.insecure_channel(tcp_coordinator.endpoint)
    client = QueryClient(channel, owns_channel=True)
    client.get_event_book(_query())
    client.close()
    other = QueryClient.from_channel(channel, retry=NoRetry())
    with pytest.raises(ConnectionError):
        other.get_event_book(_query())


def test_client_on_caller_closed_channel_raises_connection_error(tcp_coordinator):
    channel = grpc.insecure_channel(tcp_coordinator.endpoint)
    client = CommandHandlerClient.from_channel(channel, retry=NoRetry())
    channel.close()
    with pytest.raises(ConnectionError, match="closed"):
        client.handle(_command_book())


# -- item 6 -----------------------------------------------------------------------------------


def _every_call(client: Client):
    spec_pm = process_manager_pb2.SpeculatePmRequest()
    spec_pm.request.trigger.CopyFrom(_event_book())
    spec_saga = saga_pb2.SpeculateSagaRequest()
    spec_saga.request.source.CopyFrom(_event_book())
    return [
        lambda: client.execute(_command_book()),
        lambda: client.execute_with_mode(_command_book(), types_pb2.SYNC_MODE_SIMPLE),
        lambda: client.get_event_book(_query()),
        lambda: client.get_events(_query()),
        lambda: client.command("player", uuid.uuid4()),
        lambda: client.command_new("player"),
        lambda: client.query_domain("player"),
        lambda: client.command_handler.handle(_command_book()),
        lambda: client.aggregate.inject_fact(_event_book()),
        lambda: client.query.get_event_book(_query()),
        lambda: client.query.get_events(_query()),
        lambda: next(client.query.iter_events(_query())),
        lambda: client.query.subscribe("c"),
        lambda: client.query.get_aggregate_roots(),
        lambda: client.speculative.projector(projector_pb2.SpeculateProjectorRequest(events=_event_book())),
        lambda: client.speculative.saga(spec_saga),
        lambda: client.speculative.process_manager(spec_pm),
        lambda: client.wait_ready(1),
        lambda: client.query.wait_ready(1),
    ]


@pytest.mark.parametrize("close", ["close", "with", "twice"])
def test_every_call_after_close_raises_connection_error(coordinator, close):
    client = DomainClient(coordinator.endpoint)
    if close == "with":
        with client as entered:
            assert entered is client
            client.get_event_book(_query())
    else:
        client.close()
        if close == "twice":
            client.close()
    before = len(coordinator.calls)
    for call in _every_call(client):
        with pytest.raises(ConnectionError, match="client is closed"):
            call()
    assert client.closed and client.query.closed and client.command_handler.closed
    assert len(coordinator.calls) == before


def test_builder_of_closed_client_raises_connection_error(tcp_coordinator):
    client = Client(tcp_coordinator.endpoint)
    builder = client.command_new("player").with_command(player_pb2.RegisterPlayer())
    query = client.query("player", uuid.uuid4())
    client.close()
    with pytest.raises(ConnectionError):
        builder.execute()
    with pytest.raises(ConnectionError):
        query.get_event_book()


def test_closing_stops_an_open_iterator_before_it_starts(tcp_coordinator):
    client = QueryClient(tcp_coordinator.endpoint)
    stream = client.iter_events(_query())
    client.close()
    with pytest.raises(ConnectionError):
        next(stream)


def test_from_clients_never_closes_collaborators(tcp_coordinator):
    ch = CommandHandlerClient(tcp_coordinator.endpoint)
    q = QueryClient(tcp_coordinator.endpoint)
    s = SpeculativeClient(tcp_coordinator.endpoint)
    composed = Client.from_clients(ch, q, s)
    assert composed.command_handler is ch and composed.aggregate is ch and composed.query is q
    composed.get_event_book(_query())
    composed.close()
    with pytest.raises(ConnectionError):
        composed.get_event_book(_query())
    assert not ch.closed and not q.closed and not s.closed
    q.get_event_book(_query())
    assert len(tcp_coordinator.calls_to("GetEventBook")) == 2


# -- readiness --------------------------------------------------------------------------------


def test_wait_ready(coordinator, closed_port_endpoint):
    QueryClient(coordinator.endpoint).wait_ready(10)
    with pytest.raises(ConnectionError, match="not ready"):
        QueryClient(closed_port_endpoint).wait_ready(0.2)
    with pytest.raises(InvalidArgumentError):
        QueryClient(coordinator.endpoint).wait_ready(0)


# -- item 13: deadlines ------------------------------------------------------------------------


def test_silent_server_times_out_after_default_timeout(coordinator):
    coordinator.silent("GetEventBook")
    client = QueryClient(coordinator.endpoint, retry=NoRetry(), default_timeout=SILENT_TIMEOUT)
    with pytest.raises(GRPCError) as info:
        client.get_event_book(_query())
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert info.value.is_retryable()
    call = coordinator.calls_to("GetEventBook")[0]
    assert _within(call.time_remaining, SILENT_TIMEOUT)


def test_per_call_timeout_overrides_default(tcp_coordinator):
    client = QueryClient(tcp_coordinator.endpoint, default_timeout=1000)
    client.get_event_book(_query(), timeout=5)
    client.get_event_book(_query())
    short, default = tcp_coordinator.calls_to("GetEventBook")
    assert _within(short.time_remaining, 5)
    assert _within(default.time_remaining, 1000) and default.time_remaining > 100


def test_default_timeout_is_thirty_seconds(tcp_coordinator):
    assert DEFAULT_TIMEOUT == 30.0
    QueryClient(tcp_coordinator.endpoint).get_event_book(_query())
    remaining = tcp_coordinator.calls_to("GetEventBook")[0].time_remaining
    assert _within(remaining, 30) and remaining > 10


def test_no_timeout_sends_no_deadline(tcp_coordinator):
    assert math.inf == NO_TIMEOUT
    QueryClient(tcp_coordinator.endpoint).get_event_book(_query(), timeout=NO_TIMEOUT)
    QueryClient(tcp_coordinator.endpoint, default_timeout=NO_TIMEOUT).get_events(_query())
    assert [c.time_remaining for c in tcp_coordinator.calls] == [None, None]


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "5", True])
def test_bad_timeouts_raise_without_rpc(tcp_coordinator, bad):
    client = QueryClient(tcp_coordinator.endpoint)
    with pytest.raises(InvalidArgumentError):
        client.get_event_book(_query(), timeout=bad)
    with pytest.raises(InvalidArgumentError):
        CommandHandlerClient(tcp_coordinator.endpoint).handle(_command_book(), timeout=bad)
    with pytest.raises(InvalidArgumentError):
        QueryClient(tcp_coordinator.endpoint, default_timeout=bad)
    assert tcp_coordinator.calls == []


def test_retry_uses_deadline_per_attempt(tcp_coordinator):
    tcp_coordinator.silent("GetEventBook", times=2)
    policy = ExponentialBackoffRetry(min_delay=0.01, max_delay=0.01, max_attempts=3, jitter=False)
    client = QueryClient(tcp_coordinator.endpoint, retry=policy, default_timeout=SILENT_TIMEOUT)
    client.get_event_book(_query())  # two attempts time out, the third is answered
    calls = tcp_coordinator.calls_to("GetEventBook")
    assert len(calls) == 3
    assert all(_within(c.time_remaining, SILENT_TIMEOUT) for c in calls)


def test_repr_mentions_endpoint_and_state(tcp_coordinator):
    client = DomainClient(tcp_coordinator.endpoint)
    assert tcp_coordinator.endpoint in repr(client) and "open" in repr(client)
    client.close()
    assert "closed" in repr(client)


def test_closing_mid_call_reports_client_closed(coordinator):
    import threading

    coordinator.silent("GetEventBook")
    client = QueryClient(coordinator.endpoint, default_timeout=30)
    outcome = []

    def call():
        try:
            client.get_event_book(_query())
        except Exception as exc:  # asserted below
            outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    for _ in range(1000):  # wait (bounded) until the server holds the call
        if coordinator.calls_to("GetEventBook"):
            break
        worker.join(0.01)
    client.close()
    worker.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], ConnectionError)


def test_closing_mid_stream_reports_client_closed(coordinator):
    coordinator.hold_stream("Subscribe", [types_pb2.EventBook(cover=new_cover("player"))])
    client = QueryClient(coordinator.endpoint)
    stream = client.subscribe("game-1")
    next(stream)
    client.close()
    with pytest.raises(ConnectionError, match="client is closed"):
        next(stream)
