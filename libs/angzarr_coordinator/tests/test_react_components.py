"""Process managers (§4.3) and the saga, PM and projector coordinator services (§4.2-4.4, §10.1)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from coord_support import CLIENT_OPTIONS, CoordinatorHarness, aggregate_query
from react_support import (
    REACT_LIMITS,
    event_kinds,
    order,
    reserve,
    shop_topology,
    wait_until,
)

from angzarr_client.proto.angzarr import (
    process_manager_pb2,
    process_manager_pb2_grpc,
    projector_pb2,
    projector_pb2_grpc,
    saga_pb2,
    saga_pb2_grpc,
    types_pb2,
)
from angzarr_coordinator.store.base import AggregateKey
from angzarr_coordinator.topology import ProjectorSpec, ServiceSpec, Topology


@pytest.fixture
def quiet(tmp_path, shop):
    """A coordinator without tailers: reactions run only when an RPC asks."""
    h = CoordinatorHarness(tmp_path / "quiet.db", shop_topology(shop), tmp_path / "q.sock", limits=REACT_LIMITS)
    yield h
    h.close()


def pm_root(correlation_id: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "angzarr:correlation:" + correlation_id)


# -- process managers ------------------------------------------------------------------------------------
def test_pm_state_lives_in_its_domain_under_the_correlation_root_and_prepare_feeds_handle(harness, shop):
    cid, origin, stock = f"order-{uuid.uuid4().hex[:8]}", uuid.uuid4(), uuid.uuid4()
    harness.commands.HandleCommand(order("add", domain="stock", root=stock, i=1))
    harness.commands.HandleCommand(order("add", domain="stock", root=stock, i=2))
    harness.commands.HandleCommand(order("place", root=origin, correlation_id=cid,
                                         pm=[{"domain": "stock", "op": "add", "root": str(stock), "i": 3}]))
    wait_until(lambda: len(event_kinds(harness, "stock", stock)) == 3, message="the PM's command")
    assert event_kinds(harness, "fulfil", pm_root(cid)) == ["pm_step"]
    [call] = [c for c in shop.flow.calls("pm", origin)]
    # the destinations Prepare returned, with their next sequences
    assert call["dest"] == {"stock": 2, f"stock/{stock.hex}": 2}
    assert call["state_root"] == pm_root(cid).hex
    # the PM's command came with source = PM cover and source_seq = the PM's last sequence
    last = shop.stock.calls("aggregate", stock)[-1]
    assert (last["header"], last["deferred_domain"], last["deferred_seq"]) == ("angzarr_deferred", "fulfil", 0)


def test_a_redelivered_pm_trigger_re_appends_and_re_sends_nothing(harness):
    cid, origin, stock = str(uuid.uuid4()), uuid.uuid4(), uuid.uuid4()
    harness.commands.HandleCommand(order("place", root=origin, correlation_id=cid,
                                         pm=[{"domain": "stock", "op": "add", "root": str(stock)}]))
    wait_until(lambda: event_kinds(harness, "stock", stock) == ["add"], message="the PM's command")
    reactions = harness.coordinator.reactions
    [sub] = reactions.pms
    book = harness.queries.GetEventBook(aggregate_query("order", origin))
    book.cover.correlation_id = cid  # as the tailer delivers it: the commit's cover
    # the crash window: the trigger comes again although the reaction is recorded
    again = harness.run(reactions.pm(sub).react_to(book, AggregateKey("order", origin), 0, 0, 0, None, False,
                                                   progress=True))
    assert again.recorded.fresh is False
    assert event_kinds(harness, "fulfil", uuid.UUID(cid)) == ["pm_step"]
    assert event_kinds(harness, "stock", stock) == ["add"]


def test_a_rejected_pm_command_comes_back_to_the_pm_as_a_notification(harness):
    cid, origin, stock = str(uuid.uuid4()), uuid.uuid4(), uuid.uuid4()
    harness.commands.HandleCommand(order("place", root=origin, correlation_id=cid, pm=[reserve(stock, 20)]))
    wait_until(lambda: event_kinds(harness, "fulfil", uuid.UUID(cid)) == ["pm_step", "pm_compensated"],
               message="the PM's compensation")
    assert event_kinds(harness, "stock", stock) == [] and harness.dead_letters() == []


def test_a_pm_notice_no_handler_matches_is_a_dead_letter(harness):
    cid, origin, stock = str(uuid.uuid4()), uuid.uuid4(), uuid.uuid4()
    harness.commands.HandleCommand(order("place", root=origin, correlation_id=cid,
                                         pm=[{"domain": "stock", "op": "nocomp", "root": str(stock)}]))
    [letter] = wait_until(harness.dead_letters, message="the no-compensation dead letter")
    assert letter.letter.rejection_reason.startswith("no compensation")
    assert event_kinds(harness, "fulfil", uuid.UUID(cid)) == ["pm_step"]


def test_pm_handle_rpc_refuses_a_trigger_without_correlation_id(quiet):
    origin = uuid.uuid4()
    response = quiet.commands.HandleCommand(order("place", root=origin))
    trigger = types_pb2.EventBook(cover=types_pb2.Cover(domain="order", root=response.events.cover.root),
                                  pages=response.events.pages)
    stub = process_manager_pb2_grpc.ProcessManagerCoordinatorServiceStub(quiet.channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.Handle(process_manager_pb2.ProcessManagerCoordinatorRequest(trigger=trigger))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "correlation id" in err.value.details()


def test_pm_handle_rpc_runs_the_pm_for_a_committed_trigger(quiet):
    cid, origin, stock = str(uuid.uuid4()), uuid.uuid4(), uuid.uuid4()
    response = quiet.commands.HandleCommand(order("place", root=origin, correlation_id=cid,
                                                  pm=[{"domain": "stock", "op": "add", "root": str(stock)}]))
    stub = process_manager_pb2_grpc.ProcessManagerCoordinatorServiceStub(quiet.channel)
    reply = stub.Handle(process_manager_pb2.ProcessManagerCoordinatorRequest(trigger=response.events))
    assert [p.header.sequence for p in reply.process_events.pages] == [0]
    assert reply.process_events.cover.domain == "fulfil"
    [command] = reply.commands
    assert command.pages[0].header.angzarr_deferred.source.domain == "fulfil"
    assert event_kinds(quiet, "stock", stock) == ["add"]


# -- saga coordinator --------------------------------------------------------------------------------------
def test_execute_dispatches_the_saga_commands_of_a_committed_source(quiet):
    origin, stock = uuid.uuid4(), uuid.uuid4()
    response = quiet.commands.HandleCommand(order("place", root=origin, saga=[reserve(stock, 1)]))
    stub = saga_pb2_grpc.SagaCoordinatorServiceStub(quiet.channel)
    reply = stub.Execute(saga_pb2.SagaHandleRequest(source=response.events))
    [command] = reply.commands
    deferred = command.pages[0].header.angzarr_deferred
    assert (deferred.source.domain, deferred.source.root.value, deferred.source_seq) == ("order", origin.bytes, 0)
    assert [(b.cover.domain, [p.header.sequence for p in b.pages]) for b in reply.events] == [("stock", [0])]
    assert event_kinds(quiet, "stock", stock) == ["reserve"]
    again = stub.Execute(saga_pb2.SagaHandleRequest(source=response.events))  # recorded: nothing runs twice
    assert list(again.commands) == list(reply.commands) and list(again.events) == list(reply.events)
    assert event_kinds(quiet, "stock", stock) == ["reserve"]


def test_execute_reports_a_rejected_command_in_the_cascade_trailer(quiet):
    origin, stock = uuid.uuid4(), uuid.uuid4()
    response = quiet.commands.HandleCommand(order("place", root=origin, saga=[reserve(stock, 20)]))
    stub = saga_pb2_grpc.SagaCoordinatorServiceStub(quiet.channel)
    _, call = stub.Execute.with_call(saga_pb2.SagaHandleRequest(source=response.events))
    from angzarr_client.proto.angzarr import command_handler_pb2

    raw = dict(call.trailing_metadata())["angzarr-cascade-bin"]
    summary = command_handler_pb2.CommandResponse.FromString(raw)
    [error] = summary.cascade_errors
    assert error.error_message.startswith("FAILED_PRECONDITION: insufficient stock")
    assert event_kinds(quiet, "order", origin) == ["place", "compensated"]


def test_execute_on_uncommitted_events_is_failed_precondition(quiet):
    origin = uuid.uuid4()
    response = quiet.commands.HandleCommand(order("place", root=origin))
    forged = types_pb2.EventBook()
    forged.CopyFrom(response.events)
    forged.pages[0].event.value = b"forged"
    stub = saga_pb2_grpc.SagaCoordinatorServiceStub(quiet.channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.Execute(saga_pb2.SagaHandleRequest(source=forged))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "source events are not committed" in err.value.details()


def test_reaction_rpcs_on_a_service_endpoint_address_that_service(quiet, tmp_path):
    stock_socket = tmp_path / "ch-stock.sock"

    async def serve():
        server = grpc.aio.server(options=CLIENT_OPTIONS)
        quiet.coordinator.register(server, service="stock")
        server.add_insecure_port(f"unix:{stock_socket}")
        await server.start()
        quiet.servers.append(server)

    quiet.run(serve())
    origin = uuid.uuid4()
    response = quiet.commands.HandleCommand(order("place", root=origin))
    stub = saga_pb2_grpc.SagaCoordinatorServiceStub(quiet.connect(f"unix:{stock_socket}"))
    with pytest.raises(grpc.RpcError) as err:
        stub.Execute(saga_pb2.SagaHandleRequest(source=response.events))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert "service 'stock' hosts no saga" in err.value.details()


def test_on_the_shared_listener_a_call_needs_exactly_one_component_for_the_domain(tmp_path, shop):
    base = shop_topology(shop)
    second = ServiceSpec(name="audit", endpoint=str(shop.order.socket),
                         projector=ProjectorSpec("audit-view", ("order",)))
    h = CoordinatorHarness(tmp_path / "e.db", Topology(services=(*base.services, second)), tmp_path / "c.sock",
                           limits=REACT_LIMITS, tcp=True)
    try:
        tcp = h.connect(f"127.0.0.1:{h.tcp_port}")
        stock_root = uuid.uuid4()
        stock = h.commands.HandleCommand(order("add", domain="stock", root=stock_root))
        sagas = saga_pb2_grpc.SagaCoordinatorServiceStub(tcp)
        with pytest.raises(grpc.RpcError) as err:
            sagas.Execute(saga_pb2.SagaHandleRequest(source=stock.events))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "0 sagas listen to domain 'stock' (candidates: none)" in err.value.details()
        placed = h.commands.HandleCommand(order("place", root=uuid.uuid4()))
        projectors = projector_pb2_grpc.ProjectorCoordinatorServiceStub(tcp)
        with pytest.raises(grpc.RpcError) as err:
            projectors.HandleSync(types_pb2.EventRequest(events=placed.events))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "candidates: order-view, audit-view" in err.value.details()
        # the one projector listening to stock is found by the book's domain
        projection = projectors.HandleSync(types_pb2.EventRequest(events=stock.events))
        assert (projection.projector, projection.sequence) == ("order-view", 0)
        spec = projectors.HandleSpeculative(projector_pb2.SpeculateProjectorRequest(events=stock.events))
        assert spec.projector == "order-view"
    finally:
        h.close()


def test_speculative_saga_and_pm_calls_store_and_send_nothing(quiet, shop):
    cid, origin, stock = str(uuid.uuid4()), uuid.uuid4(), uuid.uuid4()
    response = quiet.commands.HandleCommand(order(
        "place", root=origin, correlation_id=cid, saga=[reserve(stock, 1)],
        pm=[{"domain": "stock", "op": "add", "root": str(stock)}]))
    sagas = saga_pb2_grpc.SagaCoordinatorServiceStub(quiet.channel)
    spec = sagas.ExecuteSpeculative(saga_pb2.SpeculateSagaRequest(
        request=saga_pb2.SagaHandleRequest(source=response.events)))
    [command] = spec.commands
    assert command.pages[0].header.angzarr_deferred.source_seq == 0  # headers as they would be stamped
    pms = process_manager_pb2_grpc.ProcessManagerCoordinatorServiceStub(quiet.channel)
    reply = pms.HandleSpeculative(process_manager_pb2.SpeculatePmRequest(
        request=process_manager_pb2.ProcessManagerHandleRequest(trigger=response.events)))
    assert [p.header.sequence for p in reply.process_events.pages] == [0]
    assert len(reply.commands) == 1
    assert shop.flow.calls("pm", origin)[-1]["dest"] == {"stock": 0, f"stock/{stock.hex}": 0}  # Prepare ran
    assert event_kinds(quiet, "stock", stock) == [] and event_kinds(quiet, "fulfil", uuid.UUID(cid)) == []
    assert quiet.run(quiet.store.find_reaction("saga:order-saga", AggregateKey("order", origin), 0)) is None


def test_a_pm_snapshot_is_stored_with_its_state_commit(harness):
    cid, origin, stock = str(uuid.uuid4()), uuid.uuid4(), uuid.uuid4()
    harness.commands.HandleCommand(order("place", root=origin, correlation_id=cid, pm_snapshot=True,
                                         pm=[{"domain": "stock", "op": "add", "root": str(stock)}]))
    wait_until(lambda: event_kinds(harness, "stock", stock) == ["add"], message="the PM's command")
    loaded = harness.run(harness.store.load(AggregateKey("fulfil", uuid.UUID(cid))))
    assert loaded.snapshot is not None and loaded.snapshot.sequence == 0
    assert loaded.snapshot.retention == types_pb2.RETENTION_PERSIST
