"""Clients against a real scripted coordinator over TCP and Unix sockets (items 12, 21, 26, 37-42)."""

from __future__ import annotations

import threading
import uuid

import grpc
import pytest

from angzarr_client import Client, DomainClient, NoRetry, QueryBuilder, QueryClient, SpeculativeClient
from angzarr_client.books import new_cover, pack_event
from angzarr_client.client import AggregateClient, CommandHandlerClient
from angzarr_client.errors import GRPCError, InvalidArgumentError
from angzarr_client.proto.angzarr import (
    SpeculateAggregateRequest,
    command_handler_pb2,
    process_manager_pb2,
    projector_pb2,
    saga_pb2,
    types_pb2,
)
from angzarr_client.typeurl import pack, unpack
from poker_contracts import player_pb2


def _command_book(domain="player", cid="corr-1", root=None):
    book = types_pb2.CommandBook(cover=new_cover(domain, root or uuid.uuid4(), cid))
    book.pages.add().command.CopyFrom(pack(player_pb2.RegisterPlayer(display_name="alice")))
    return book


def _event_book(domain="player", cid="", pages=3, external_id=""):
    book = types_pb2.EventBook(cover=new_cover(domain, uuid.uuid4(), cid))
    for i in range(pages):
        page = book.pages.add()
        if external_id:
            page.header.external_deferred.external_id = external_id
        else:
            page.header.sequence = i
        page.event.CopyFrom(pack(player_pb2.FundsDeposited()))
    return book


def _query(domain="player", cid=""):
    return types_pb2.Query(cover=new_cover(domain, uuid.uuid4(), cid))


# -- the seed documents' usage -----------------------------------------------------------------


def test_seed_readme_client_usage(coordinator):
    """DomainClient(e).command(d, r).with_command("Name", msg).execute(); query(d, r).get_event_book()."""
    root = uuid.uuid4()
    stored = pack_event(player_pb2.PlayerRegistered(display_name="alice"), 0, cover=new_cover("player", root))
    coordinator.reply("HandleCommand", command_handler_pb2.CommandResponse(events=stored))
    coordinator.reply("GetEventBook", stored)
    client = DomainClient(coordinator.endpoint)
    msg = player_pb2.RegisterPlayer(display_name="alice")
    response = client.command("player", root).with_command("RegisterPlayer", msg).execute()
    assert response.events == stored
    assert client.query("player", root).get_event_book() == stored
    sent = coordinator.calls_to("HandleCommand")[0].request
    assert sent.command.cover.domain == "player"
    assert uuid.UUID(bytes=sent.command.cover.root.value) == root
    assert unpack(sent.command.pages[0].command, player_pb2.RegisterPlayer) == msg
    query = coordinator.calls_to("GetEventBook")[0].request
    assert uuid.UUID(bytes=query.cover.root.value) == root
    assert query.WhichOneof("selection") is None
    client.close()


def test_seed_speculative_usage(coordinator):
    """SpeculativeClient.connect(...).aggregate(SpeculateAggregateRequest(command=..., events=...))."""
    produced = pack_event(player_pb2.FundsDeposited(), 3)
    coordinator.reply("HandleSyncSpeculative", command_handler_pb2.CommandResponse(events=produced))
    client = SpeculativeClient.connect(coordinator.endpoint)
    response = client.aggregate(
        SpeculateAggregateRequest(command=_command_book(), events=_event_book(pages=3))
    )
    assert [p.event.type_url for p in response.events.pages] == [
        "type.googleapis.com/examples.FundsDeposited"
    ]
    sent = coordinator.calls_to("HandleSyncSpeculative")[0].request
    assert sent.point_in_time.as_of_sequence == 2
    client.close()


def test_seed_error_handling_usage(coordinator):
    coordinator.fail("HandleCommand", grpc.StatusCode.FAILED_PRECONDITION, "player already exists")
    client = DomainClient(coordinator.endpoint, retry=NoRetry())
    with pytest.raises(GRPCError) as info:
        client.aggregate.handle(_command_book())
    error = info.value
    assert error.is_precondition_failed()
    assert not error.is_not_found() and not error.is_invalid_argument()
    assert error.details == "player already exists"
    assert error.method == "/angzarr.CommandHandlerCoordinatorService/HandleCommand"
    assert error.endpoint == coordinator.endpoint
    assert isinstance(error.__cause__, grpc.RpcError)


# -- correlation header (item 12) --------------------------------------------------------------


def test_correlation_id_is_sent_as_header(coordinator):
    client = CommandHandlerClient(coordinator.endpoint)
    client.handle(_command_book(cid="c"))
    client.handle(_command_book(cid=""))
    first, second = coordinator.calls_to("HandleCommand")
    assert first.metadata.get("x-correlation-id") == "c"
    assert "x-correlation-id" not in second.metadata


def test_correlation_header_on_queries_and_speculative_calls(tcp_coordinator):
    query = QueryClient(tcp_coordinator.endpoint)
    query.get_event_book(_query(cid="q-1"))
    query.get_events(_query(cid="q-2"))
    spec = SpeculativeClient(tcp_coordinator.endpoint)
    spec.projector(projector_pb2.SpeculateProjectorRequest(events=_event_book(cid="p-1")))
    saga_request = saga_pb2.SpeculateSagaRequest()
    saga_request.request.source.CopyFrom(_event_book(cid="s-1"))
    spec.saga(saga_request)
    pm_request = process_manager_pb2.SpeculatePmRequest()
    pm_request.request.trigger.CopyFrom(_event_book(cid="pm-1"))
    spec.process_manager(pm_request)
    seen = {
        c.method.rsplit("/", 2)[-2] + "/" + c.method.rsplit("/", 1)[-1]: c.metadata.get("x-correlation-id")
        for c in tcp_coordinator.calls
    }
    assert seen == {
        "angzarr.EventQueryService/GetEventBook": "q-1",
        "angzarr.EventQueryService/GetEvents": "q-2",
        "angzarr.ProjectorCoordinatorService/HandleSpeculative": "p-1",
        "angzarr.SagaCoordinatorService/ExecuteSpeculative": "s-1",
        "angzarr.ProcessManagerCoordinatorService/HandleSpeculative": "pm-1",
    }


def test_non_ascii_correlation_id_is_not_echoed_in_headers(tcp_coordinator):
    client = CommandHandlerClient(tcp_coordinator.endpoint)
    client.handle(_command_book(cid="spiel-ü"))
    call = tcp_coordinator.calls_to("HandleCommand")[0]
    assert "x-correlation-id" not in call.metadata
    assert call.request.command.cover.correlation_id == "spiel-ü"


# -- rich errors over the wire (items 21, 26) ------------------------------------------------------


def test_not_found_error_from_server(coordinator):
    coordinator.fail("GetEventBook", grpc.StatusCode.NOT_FOUND, "unknown domain 'nope'")
    client = QueryClient(coordinator.endpoint, retry=NoRetry())
    with pytest.raises(GRPCError) as info:
        client.get_event_book(_query("nope"))
    assert info.value.code == grpc.StatusCode.NOT_FOUND
    assert info.value.status().code == 5
    assert info.value.details == "unknown domain 'nope'"
    assert info.value.is_not_found()


def test_sequence_mismatch_details_travel_in_status(coordinator):
    mismatch = types_pb2.SequenceMismatchDetails(
        expected_sequence=1, actual_sequence=4, merge_strategy=types_pb2.MERGE_STRICT
    )
    current = _event_book(pages=4)
    coordinator.fail(
        "HandleCommand", grpc.StatusCode.FAILED_PRECONDITION, "sequence mismatch", rich=[mismatch, current]
    )
    client = CommandHandlerClient(coordinator.endpoint, retry=NoRetry())
    with pytest.raises(GRPCError) as info:
        client.handle(_command_book())
    assert info.value.is_sequence_mismatch()
    assert info.value.sequence_mismatch() == mismatch
    assert info.value.current_event_book() == current
    assert info.value.status().message == "sequence mismatch"


def test_plain_error_has_no_mismatch(coordinator):
    coordinator.fail("HandleCommand", grpc.StatusCode.FAILED_PRECONDITION, "rejected")
    client = CommandHandlerClient(coordinator.endpoint, retry=NoRetry())
    with pytest.raises(GRPCError) as info:
        client.handle(_command_book())
    assert not info.value.is_sequence_mismatch()
    assert info.value.sequence_mismatch() is None and info.value.current_event_book() is None


# -- command handler client (items 37, 41) -------------------------------------------------------


def test_handle_wraps_command_in_async_fail_fast_request(coordinator):
    client = AggregateClient(coordinator.endpoint)
    book = _command_book()
    client.handle(book)
    request = coordinator.calls_to("HandleCommand")[0].request
    assert request.command == book
    assert request.sync_mode == types_pb2.SYNC_MODE_ASYNC
    assert request.cascade_error_mode == types_pb2.CASCADE_ERROR_FAIL_FAST


def test_handle_passes_modes(tcp_coordinator):
    client = CommandHandlerClient(tcp_coordinator.endpoint)
    client.handle(
        _command_book(),
        sync_mode=types_pb2.SYNC_MODE_CASCADE,
        cascade_error_mode=types_pb2.CASCADE_ERROR_CONTINUE,
    )
    request = tcp_coordinator.calls_to("HandleCommand")[0].request
    assert (request.sync_mode, request.cascade_error_mode) == (2, 1)
    with pytest.raises(InvalidArgumentError, match="sync_mode"):
        client.handle(_command_book(), sync_mode=7)


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda b: b.ClearField("pages"), "no pages"),
        (lambda b: setattr(b.cover, "domain", ""), "no domain"),
        (lambda b: b.pages[0].ClearField("command"), "no payload"),
    ],
)
def test_bad_command_books_raise_without_rpc(tcp_coordinator, mutate, problem):
    client = CommandHandlerClient(tcp_coordinator.endpoint)
    book = _command_book()
    mutate(book)
    with pytest.raises(InvalidArgumentError, match=problem):
        client.handle(book)
    request = types_pb2.CommandRequest(command=book)
    with pytest.raises(InvalidArgumentError, match=problem):
        client.handle_command(request)
    with pytest.raises(InvalidArgumentError, match=problem):
        client.handle_sync_speculative(command_handler_pb2.SpeculateCommandHandlerRequest(command=book))
    assert tcp_coordinator.calls == []


def test_handle_rejects_wrong_message_types(tcp_coordinator):
    client = CommandHandlerClient(tcp_coordinator.endpoint)
    with pytest.raises(InvalidArgumentError):
        client.handle(types_pb2.EventBook())
    with pytest.raises(InvalidArgumentError):
        client.handle_command(_command_book())
    assert tcp_coordinator.calls == []


def test_handle_does_not_mutate_the_callers_book(tcp_coordinator):
    client = CommandHandlerClient(tcp_coordinator.endpoint)
    book = _command_book()
    before = book.SerializeToString()
    client.handle(book)
    assert book.SerializeToString() == before


def test_inject_fact(coordinator):
    facts = _event_book(pages=1, external_id="payment-42", cid="f-1")
    stored = _event_book(pages=1)
    coordinator.reply("HandleEvent", command_handler_pb2.FactInjectionResponse(events=stored))
    client = CommandHandlerClient(coordinator.endpoint)
    response = client.inject_fact(facts, sync_mode=types_pb2.SYNC_MODE_SIMPLE, route_to_handler=True)
    assert response.events == stored
    call = coordinator.calls_to("HandleEvent")[0]
    assert call.request.events == facts
    assert call.request.sync_mode == types_pb2.SYNC_MODE_SIMPLE and call.request.route_to_handler
    assert call.metadata["x-correlation-id"] == "f-1"


def test_inject_fact_without_external_id_raises_before_rpc(tcp_coordinator):
    client = CommandHandlerClient(tcp_coordinator.endpoint)
    with pytest.raises(InvalidArgumentError, match="external_id"):
        client.inject_fact(_event_book(pages=1))
    with pytest.raises(InvalidArgumentError):
        client.inject_fact(_event_book(pages=0, external_id="x"))
    assert tcp_coordinator.calls == []


def test_command_new_assigns_a_fresh_root(tcp_coordinator):
    client = CommandHandlerClient(tcp_coordinator.endpoint)
    a, b = client.command_new("player"), client.command_new("player")
    assert isinstance(a.root, uuid.UUID) and a.root != b.root
    a.with_command(player_pb2.RegisterPlayer()).execute()
    sent = tcp_coordinator.calls_to("HandleCommand")[0].request
    assert uuid.UUID(bytes=sent.command.cover.root.value) == a.root


# -- query client (items 38-40) -----------------------------------------------------------------


def test_get_events_returns_a_list(coordinator):
    books = [_event_book(pages=1), _event_book(pages=2)]
    coordinator.reply("GetEvents", books)
    client = QueryClient(coordinator.endpoint)
    result = client.get_events(_query())
    assert isinstance(result, list) and result == books


def test_iter_events_is_lazy_and_cancel_stops_it(coordinator):
    books = [_event_book(pages=1), _event_book(pages=2)]
    coordinator.hold_stream("GetEvents", books)
    client = QueryClient(coordinator.endpoint)
    stream = client.iter_events(_query(), timeout=30)
    assert coordinator.calls_to("GetEvents") == []  # nothing sent until iteration starts
    assert next(stream) == books[0]
    assert next(stream) == books[1]
    stream.cancel()
    assert list(stream) == []
    assert stream.cancelled
    assert coordinator.held_streams_finished.wait(10)


def test_iter_events_drains_a_finite_stream(tcp_coordinator):
    books = [_event_book(pages=1)]
    tcp_coordinator.reply("GetEvents", books)
    assert list(QueryClient(tcp_coordinator.endpoint).iter_events(_query())) == books


def test_iter_events_error_after_first_item_is_grpc_error(tcp_coordinator):
    def fail_midway(request, context):
        yield _event_book(pages=1)
        context.abort(grpc.StatusCode.INTERNAL, "store broke")

    tcp_coordinator.reply("GetEvents", fail_midway)
    stream = QueryClient(tcp_coordinator.endpoint).iter_events(_query())
    next(stream)
    with pytest.raises(GRPCError) as info:
        next(stream)
    assert info.value.code == grpc.StatusCode.INTERNAL
    assert len(tcp_coordinator.calls_to("GetEvents")) == 1


def test_subscribe_streams_history_then_live(coordinator):
    history = [_event_book(cid="game-1", pages=1)]
    coordinator.hold_stream("Subscribe", history)
    client = QueryClient(coordinator.endpoint)
    with client.subscribe("game-1") as stream:
        assert next(stream) == history[0]
    call = coordinator.calls_to("Subscribe")[0]
    assert call.request.correlation_id == "game-1"
    assert call.metadata["x-correlation-id"] == "game-1"
    assert call.time_remaining is None  # subscriptions default to NO_TIMEOUT
    assert coordinator.held_streams_finished.wait(10)


def test_subscribe_needs_a_correlation_id(tcp_coordinator):
    with pytest.raises(InvalidArgumentError):
        QueryClient(tcp_coordinator.endpoint).subscribe("")
    assert tcp_coordinator.calls == []


def test_get_aggregate_roots(coordinator):
    roots = [uuid.uuid4(), uuid.uuid4()]
    coordinator.reply(
        "GetAggregateRoots",
        [
            types_pb2.AggregateRoot(domain="player", root=types_pb2.UUID(value=roots[0].bytes)),
            types_pb2.AggregateRoot(domain="table", root=types_pb2.UUID(value=roots[1].bytes)),
        ],
    )
    assert QueryClient(coordinator.endpoint).get_aggregate_roots() == [
        ("player", roots[0]),
        ("table", roots[1]),
    ]


def test_query_without_domain_or_correlation_raises(tcp_coordinator):
    client = QueryClient(tcp_coordinator.endpoint)
    with pytest.raises(InvalidArgumentError, match="domain"):
        client.get_event_book(types_pb2.Query())
    with pytest.raises(InvalidArgumentError):
        client.get_events(types_pb2.CommandBook())
    # a correlation query may span domains
    client.get_events(types_pb2.Query(cover=types_pb2.Cover(correlation_id="w")))
    assert len(tcp_coordinator.calls) == 1


def test_domain_client_query_shapes(coordinator):
    """Item 39/40: get_events is a list, get_event_book is unary, execute == handle, aliases hold."""
    coordinator.reply("GetEvents", [_event_book(pages=1)])
    client = DomainClient(coordinator.endpoint)
    assert isinstance(client.get_events(_query()), list)
    assert isinstance(client.get_event_book(_query()), types_pb2.EventBook)
    assert client.aggregate is client.command_handler
    builder = client.query("player", uuid.uuid4())
    assert isinstance(builder, QueryBuilder)
    assert isinstance(client.query.get_event_book(_query()), types_pb2.EventBook)
    book = _command_book()
    client.execute(book)
    client.command_handler.handle(book)
    client.execute_with_mode(book, types_pb2.SYNC_MODE_SIMPLE)
    first, second, third = (c.request for c in coordinator.calls_to("HandleCommand"))
    assert first == second
    assert third.sync_mode == types_pb2.SYNC_MODE_SIMPLE and third.command == book


def test_query_builder_executes_through_client(tcp_coordinator):
    stored = _event_book(pages=2)
    tcp_coordinator.reply("GetEventBook", stored, stored)
    tcp_coordinator.reply("GetEvents", [stored], [stored])
    client = Client(tcp_coordinator.endpoint)
    root = uuid.uuid4()
    assert client.query("player", root).range(1).get_event_book() == stored
    assert client.query("player", root).get_pages() == list(stored.pages)
    assert client.query_domain("player").by_correlation_id("w").get_events() == [stored]
    assert list(client.query("player", root).iter_events()) == [stored]
    first = tcp_coordinator.calls_to("GetEventBook")[0].request
    assert first.range.lower == 1 and not first.range.HasField("upper")
    by_cid = tcp_coordinator.calls_to("GetEvents")[0].request
    assert by_cid.cover.correlation_id == "w" and not by_cid.cover.HasField("root")


# -- speculative client (items 41, 42) -----------------------------------------------------------


def test_speculative_process_manager_needs_correlation_id(tcp_coordinator):
    client = SpeculativeClient(tcp_coordinator.endpoint)
    request = process_manager_pb2.SpeculatePmRequest()
    request.request.trigger.CopyFrom(_event_book(cid=""))
    with pytest.raises(InvalidArgumentError, match="correlation id"):
        client.process_manager(request)
    assert tcp_coordinator.calls == []


def test_speculative_calls_reach_their_services(coordinator):
    projection = types_pb2.Projection(projector="hand-log", sequence=2)
    coordinator.reply("ProjectorCoordinatorService/HandleSpeculative", projection)
    saga_reply = saga_pb2.SagaResponse(commands=[_command_book()])
    coordinator.reply("ExecuteSpeculative", saga_reply)
    pm_reply = process_manager_pb2.ProcessManagerHandleResponse(commands=[_command_book()])
    coordinator.reply("ProcessManagerCoordinatorService/HandleSpeculative", pm_reply)
    client = SpeculativeClient(coordinator.endpoint)
    assert client.projector(projector_pb2.SpeculateProjectorRequest(events=_event_book())) == projection
    saga_request = saga_pb2.SpeculateSagaRequest()
    saga_request.request.source.CopyFrom(_event_book())
    assert client.saga(saga_request) == saga_reply
    pm_request = process_manager_pb2.SpeculatePmRequest()
    pm_request.request.trigger.CopyFrom(_event_book(cid="game-1"))
    assert client.process_manager(pm_request) == pm_reply
    raw = command_handler_pb2.SpeculateCommandHandlerRequest(command=_command_book())
    client.command_handler(raw)
    assert not coordinator.calls_to("HandleSyncSpeculative")[0].request.HasField("point_in_time")


def test_speculate_aggregate_request_positions():
    command = _command_book()
    assert (
        SpeculateAggregateRequest(command, _event_book(pages=6)).to_proto().point_in_time.as_of_sequence == 5
    )
    pages = list(_event_book(pages=6).pages)
    assert SpeculateAggregateRequest(command, pages).to_proto().point_in_time.as_of_sequence == 5
    snap_only = types_pb2.EventBook(snapshot=types_pb2.Snapshot(sequence=9))
    assert SpeculateAggregateRequest(command, snap_only).to_proto().point_in_time.as_of_sequence == 9
    assert not SpeculateAggregateRequest(command, types_pb2.EventBook()).to_proto().HasField("point_in_time")
    assert not SpeculateAggregateRequest(command).to_proto().HasField("point_in_time")
    explicit = types_pb2.TemporalQuery(as_of_sequence=2)
    assert SpeculateAggregateRequest(command, point_in_time=explicit).to_proto().point_in_time == explicit
    by_time = SpeculateAggregateRequest(command, point_in_time="2024-01-01T00:00:00Z").to_proto()
    assert by_time.point_in_time.as_of_time.seconds == 1704067200
    assert SpeculateAggregateRequest(command).to_proto().command == command


def test_speculate_aggregate_request_rejects_both_positions():
    with pytest.raises(InvalidArgumentError, match="not both"):
        SpeculateAggregateRequest(_command_book(), _event_book(), types_pb2.TemporalQuery(as_of_sequence=1))
    with pytest.raises(InvalidArgumentError):
        SpeculateAggregateRequest(types_pb2.EventBook())
    with pytest.raises(InvalidArgumentError):
        SpeculateAggregateRequest(_command_book(), point_in_time=object())


# -- thread safety ----------------------------------------------------------------------------


def test_one_client_serves_many_threads(tcp_coordinator):
    client = CommandHandlerClient(tcp_coordinator.endpoint)
    errors = []

    def send(n):
        try:
            client.handle(_command_book(cid=f"t-{n}"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(c.metadata["x-correlation-id"] for c in tcp_coordinator.calls) == sorted(
        f"t-{n}" for n in range(16)
    )
