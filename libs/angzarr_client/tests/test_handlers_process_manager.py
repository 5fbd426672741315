"""ProcessManager behaviour, directly and over ProcessManagerService (item 66)."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import wrappers_pb2

from angzarr_client import correlation_root, root_of, unpack
from angzarr_client.handlers import (
    CompensationContext,
    ProcessManager,
    ProcessManagerContext,
    applies,
    handles,
    prepares,
    rejected,
)
from angzarr_client.proto.angzarr import process_manager_pb2, process_manager_pb2_grpc, types_pb2
from angzarr_client.router import Router
from angzarr_client.testing import (
    build_command_book,
    build_event_book,
    build_rejection,
    running_server,
    uuid_for,
)
from poker_contracts import hand_pb2, table_pb2


class HandFlow(ProcessManager[wrappers_pb2.Int64Value]):
    """Counts hands started at a table (state) and asks the hand domain to deal."""

    name = "hand-flow"
    input_domains = ["table", "hand"]
    output_domain = "hand"
    snapshot_every = 2

    @prepares(table_pb2.HandStarted)
    def prepare_hand(self, event: table_pb2.HandStarted):
        cover = types_pb2.Cover(domain="hand")
        cover.root.value = event.hand_root
        return [cover, cover]

    @handles(table_pb2.HandStarted, input_domain="table")
    def on_hand_started(self, event: table_pb2.HandStarted, ctx: ProcessManagerContext):
        self.emit(wrappers_pb2.Int64Value(value=self.state.value + 1))
        return ctx.command(hand_pb2.DealCards(hand_number=event.hand_number), root=event.hand_root)

    @handles(hand_pb2.HandComplete, input_domain="hand")
    def on_hand_complete(self, event: hand_pb2.HandComplete):
        return None

    @rejected("hand", hand_pb2.DealCards)
    def on_deal_rejected(self, ctx: CompensationContext):
        if "quiet" in ctx.rejection_reason:
            return None
        return wrappers_pb2.Int64Value(value=-1)

    @applies(wrappers_pb2.Int64Value)
    def apply_count(self, state: wrappers_pb2.Int64Value, event: wrappers_pb2.Int64Value) -> None:
        state.value = event.value


HAND = uuid_for("hand-7")


def trigger(*events, correlation_id="game-1", domain="table"):
    return build_event_book(
        list(events), domain=domain, root=uuid_for("table"), correlation_id=correlation_id
    )


def started(n: int) -> table_pb2.HandStarted:
    return table_pb2.HandStarted(hand_root=HAND.bytes, hand_number=n)


def handle(request, pm=HandFlow):
    return Router("hand-flow").with_handler(pm).build().dispatch(request)


def test_events_are_numbered_from_process_state_under_the_correlation_root():
    state = build_event_book([wrappers_pb2.Int64Value(value=1)] * 3, domain="hand-flow")
    response = handle(
        process_manager_pb2.ProcessManagerHandleRequest(trigger=trigger(started(4)), process_state=state)
    )
    pages = response.process_events.pages
    assert [p.header.sequence for p in pages] == [3]
    assert unpack(pages[0].event, wrappers_pb2.Int64Value).value == 2
    cover = response.process_events.cover
    assert cover.domain == "hand-flow" and root_of(cover) == correlation_root("game-1")
    assert cover.correlation_id == "game-1"
    command = response.commands[0]
    assert command.cover.domain == "hand" and root_of(command) == HAND
    assert command.pages[0].header.angzarr_deferred.source == trigger(started(4)).cover


def test_process_state_cover_with_a_root_is_kept():
    state = build_event_book([], domain="hand-flow", root=uuid_for("explicit"), correlation_id="game-1")
    response = handle(
        process_manager_pb2.ProcessManagerHandleRequest(trigger=trigger(started(1)), process_state=state)
    )
    assert root_of(response.process_events) == uuid_for("explicit")


def test_snapshot_every_applies_to_process_events():
    state = build_event_book([wrappers_pb2.Int64Value(value=1)], domain="hand-flow")
    response = handle(
        process_manager_pb2.ProcessManagerHandleRequest(trigger=trigger(started(2)), process_state=state)
    )
    assert response.process_events.snapshot.sequence == 1
    assert unpack(response.process_events.snapshot.state, wrappers_pb2.Int64Value).value == 2


def test_trigger_without_correlation_id_is_skipped():
    response = handle(
        process_manager_pb2.ProcessManagerHandleRequest(trigger=trigger(started(1), correlation_id=""))
    )
    assert response == process_manager_pb2.ProcessManagerHandleResponse()


def test_handler_without_output_leaves_the_reply_empty():
    request = process_manager_pb2.ProcessManagerHandleRequest(
        trigger=trigger(hand_pb2.HandComplete(), domain="hand")
    )
    assert not handle(request).HasField("process_events")


def _rejection_trigger(reason: str) -> types_pb2.EventBook:
    deal = build_command_book(hand_pb2.DealCards(), domain="hand", correlation_id="game-1")
    pm_cover = types_pb2.Cover(domain="hand-flow", correlation_id="game-1")
    deal.pages[0].header.angzarr_deferred.source.CopyFrom(pm_cover)
    notice_page = build_rejection(deal, reason, reactor="pm:hand-flow").pages[0]
    book = types_pb2.EventBook(cover=pm_cover)
    page = book.pages.add()
    page.header.sequence = 0
    page.event.CopyFrom(notice_page.command)
    return book


def test_notification_goes_to_rejected_and_sets_process_events():
    response = handle(
        process_manager_pb2.ProcessManagerHandleRequest(trigger=_rejection_trigger("FAILED_PRECONDITION: x"))
    )
    assert response.HasField("process_events")
    assert unpack(response.process_events.pages[0].event, wrappers_pb2.Int64Value).value == -1


def test_matched_notification_that_emits_nothing_still_sets_process_events():
    response = handle(process_manager_pb2.ProcessManagerHandleRequest(trigger=_rejection_trigger("quiet")))
    assert response.HasField("process_events") and len(response.process_events.pages) == 0


def test_unmatched_notification_leaves_the_reply_empty():
    class NoCompensation(ProcessManager[wrappers_pb2.Int64Value]):
        name = "hand-flow"
        input_domain = "table"

        @handles(table_pb2.HandStarted)
        def on_started(self, event: table_pb2.HandStarted):
            return None

        @applies(wrappers_pb2.Int64Value)
        def apply_count(self, state: wrappers_pb2.Int64Value, event: wrappers_pb2.Int64Value) -> None:
            state.value = event.value

    response = handle(
        process_manager_pb2.ProcessManagerHandleRequest(trigger=_rejection_trigger("x")), pm=NoCompensation
    )
    assert response == process_manager_pb2.ProcessManagerHandleResponse()


def test_each_request_gets_a_fresh_instance_and_the_prototype_is_untouched():
    prototype = HandFlow()
    router = Router("hand-flow").with_handler(prototype).build()
    for _ in range(2):
        response = router.dispatch(
            process_manager_pb2.ProcessManagerHandleRequest(trigger=trigger(started(1)))
        )
        assert [p.header.sequence for p in response.process_events.pages] == [0]
    assert prototype.new_events == []


def test_direct_call_supplies_a_test_context():
    pm = HandFlow()
    command = pm.on_hand_started(started(3))
    assert command.cover.domain == "hand" and pm.state.value == 1
    assert [p.header.sequence for p in pm.new_events] == [0]


def test_class_checks():
    with pytest.raises(TypeError, match="domain must equal name"):

        class WrongDomain(ProcessManager[wrappers_pb2.Int64Value]):
            name = "flow"
            domain = "other"
            input_domain = "table"

            @handles(table_pb2.HandStarted)
            def on_started(self, event: table_pb2.HandStarted):
                return None

            @applies(wrappers_pb2.Int64Value)
            def apply(self, state: wrappers_pb2.Int64Value, event: wrappers_pb2.Int64Value) -> None:
                return None

    with pytest.raises(TypeError, match="input_domain"):

        class NoInput(ProcessManager[wrappers_pb2.Int64Value]):
            name = "flow"

            @handles(table_pb2.HandStarted)
            def on_started(self, event: table_pb2.HandStarted):
                return None

            @applies(wrappers_pb2.Int64Value)
            def apply(self, state: wrappers_pb2.Int64Value, event: wrappers_pb2.Int64Value) -> None:
                return None

    assert HandFlow.domain == "hand-flow"


@pytest.fixture(params=["tcp", "uds"])
def pm_stub(request, tmp_path):
    path = str(tmp_path / "pm.sock") if request.param == "uds" else None
    with running_server(HandFlow, uds_path=path) as server, grpc.insecure_channel(server.address) as ch:
        yield process_manager_pb2_grpc.ProcessManagerServiceStub(ch)


def test_prepare_and_handle_over_grpc(pm_stub):
    prepared = pm_stub.Prepare(process_manager_pb2.ProcessManagerPrepareRequest(trigger=trigger(started(1))))
    assert len(prepared.destinations) == 1
    assert prepared.destinations[0].domain == "hand" and prepared.destinations[0].root.value == HAND.bytes
    response = pm_stub.Handle(process_manager_pb2.ProcessManagerHandleRequest(trigger=trigger(started(1))))
    assert len(response.commands) == 1 and len(response.process_events.pages) == 1


def test_unlistened_domain_is_invalid_argument_over_grpc(pm_stub):
    with pytest.raises(grpc.RpcError) as info:
        pm_stub.Handle(
            process_manager_pb2.ProcessManagerHandleRequest(trigger=trigger(started(1), domain="player"))
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
