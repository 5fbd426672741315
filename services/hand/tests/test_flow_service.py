"""``python -m hand`` hosts the hand-saga, the hand-flow PM, the hand-log projector and the action clock.

The service runs as a real process on a Unix socket. A small in-process coordinator stand-in (real gRPC
``EventQueryService`` and ``CommandHandlerCoordinatorService`` on ``<base>/ch-hand.sock``, backed by the
real ``Hand`` aggregate) lets the action clock's start-up scan and ``TimeOutPlayer`` travel over real
sockets too.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from google.protobuf.wrappers_pb2 import StringValue
from hand_harness import CID, HAND_ROOT, P1, T0, deal_cards, hu_blinds

from angzarr_client.errors import CommandRejectedError
from angzarr_client.ids import proto_to_uuid, uuid_to_proto
from angzarr_client.proto.angzarr import (
    command_handler_pb2,
    command_handler_pb2_grpc,
    process_manager_pb2,
    process_manager_pb2_grpc,
    projector_pb2_grpc,
    query_pb2_grpc,
    saga_pb2,
    saga_pb2_grpc,
    types_pb2,
)
from angzarr_client.testing import build_event_book, serving_module, uuid_for
from angzarr_client.typeurl import unpack
from poker_contracts import hand_pb2, player_pb2, table_pb2
from poker_contracts.poker_types_pb2 import FOLD, HUMAN

STARTUP_LIMIT_SECONDS = 30


class CoordinatorStandIn(query_pb2_grpc.EventQueryServiceServicer,
                         command_handler_pb2_grpc.CommandHandlerCoordinatorServiceServicer):
    """One hand, waiting on P1 with a long-expired deadline; commands run on the real aggregate."""

    def __init__(self) -> None:
        self.hand = hu_blinds()
        self.received: list[types_pb2.CommandBook] = []
        self.timed_out = threading.Event()

    def GetEventBook(self, request, context):
        if proto_to_uuid(request.cover.root) != HAND_ROOT:
            return types_pb2.EventBook()
        return build_event_book(self.hand.history, domain="hand", root=HAND_ROOT, correlation_id=CID)

    def GetAggregateRoots(self, request, context):
        yield types_pb2.AggregateRoot(domain="hand", root=uuid_to_proto(HAND_ROOT))

    def HandleCommand(self, request, context):
        book = request.command
        self.received.append(book)
        command = unpack(book.pages[0].command, hand_pb2.TimeOutPlayer)
        try:
            # The aggregate's "now" is an hour after the turn started: the deadline has passed.
            self.hand.send(command, correlation_id=book.cover.correlation_id, at=T0 + dt.timedelta(hours=1))
        except CommandRejectedError as exc:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        self.timed_out.set()
        return command_handler_pb2.CommandResponse()


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[dict]:
    base = Path(tempfile.mkdtemp(dir="/tmp", prefix="hf-"))  # Unix socket paths must stay short
    logs = tmp_path_factory.mktemp("handlog")
    stand_in = CoordinatorStandIn()
    coordinator = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    query_pb2_grpc.add_EventQueryServiceServicer_to_server(stand_in, coordinator)
    command_handler_pb2_grpc.add_CommandHandlerCoordinatorServiceServicer_to_server(stand_in, coordinator)
    coordinator.add_insecure_port(f"unix://{base}/ch-hand.sock")
    coordinator.start()
    env = {**os.environ, "TRANSPORT_TYPE": "uds", "UDS_BASE_PATH": str(base), "SERVICE_NAME": "business",
           "DOMAIN": "hand", "LOG_FORMAT": "json", "ANGZARR_MODE": "standalone", "ANGZARR_UDS_BASE": str(base),
           "HAND_LOG_FILE": str(logs / "hand_log.txt")}
    env.pop("UDS_PATH", None)
    env.pop("HAND_LOG_DB", None)
    try:
        with serving_module("hand", f"unix://{base}/business-hand.sock", env,
                            startup_limit_seconds=STARTUP_LIMIT_SECONDS) as served:
            yield {"channel": served.channel, "stand_in": stand_in, "logs": logs, "process": served.process}
        assert served.process.returncode == 0, served.output
    finally:
        coordinator.stop(grace=None)
        shutil.rmtree(base, ignore_errors=True)


def test_the_action_clock_times_out_an_expired_turn_found_by_its_start_up_scan(service):
    stand_in = service["stand_in"]
    assert stand_in.timed_out.wait(timeout=30), "no TimeOutPlayer reached the coordinator"
    book = stand_in.received[0]
    assert (book.cover.domain, book.cover.correlation_id) == ("hand", CID)
    assert unpack(book.pages[0].command, hand_pb2.TimeOutPlayer).player_root == P1
    timed_out = [e for e in stand_in.hand.history if isinstance(e, hand_pb2.PlayerTimedOut)]
    assert [e.default_action for e in timed_out] == [FOLD]


def test_the_process_manager_answers_a_deal_with_the_small_blind(service):
    stub = process_manager_pb2_grpc.ProcessManagerServiceStub(service["channel"])
    dealt = hu_blinds().history[0]
    trigger = build_event_book([dealt], domain="hand", root=uuid_for("svc hand"), correlation_id="svc-cid")
    response = stub.Handle(process_manager_pb2.ProcessManagerHandleRequest(trigger=trigger), timeout=10)
    (command,) = response.commands
    assert command.cover.correlation_id == "svc-cid"
    assert unpack(command.pages[0].command, hand_pb2.PostBlind) == hand_pb2.PostBlind(
        player_root=P1, blind_type="small", amount=5
    )
    assert len(response.process_events.pages) == 1
    assert response.process_events.cover.domain == "hand-flow"


def test_the_saga_ends_a_complete_hand_at_its_table(service):
    stub = saga_pb2_grpc.SagaServiceStub(service["channel"])
    table = deal_cards([]).table_root
    complete = hand_pb2.HandComplete(table_root=table, hand_number=1, final_stacks=[
        hand_pb2.PlayerStackSnapshot(player_root=P1, stack=500, position=0)])
    source = build_event_book([complete], domain="hand", root=HAND_ROOT, correlation_id=CID)
    response = stub.Handle(saga_pb2.SagaHandleRequest(source=source), timeout=10)
    (command,) = response.commands
    assert (command.cover.domain, command.cover.root.value) == ("table", table)
    end = unpack(command.pages[0].command, table_pb2.EndHand)
    assert end.hand_root == HAND_ROOT.bytes and len(end.final_stacks) == 1


def test_the_projector_writes_the_hand_log_files(service):
    stub = projector_pb2_grpc.ProjectorServiceStub(service["channel"])
    alice = uuid_for("svc alice")
    book = build_event_book([player_pb2.PlayerRegistered(display_name="Alice", player_type=HUMAN)],
                            domain="player", root=alice, correlation_id="svc")
    projection = stub.Handle(book, timeout=10)
    assert unpack(projection.projection, StringValue).value == "Alice registered (Human)"
    assert projection.projector == "hand-log"
    assert stub.Handle(book, timeout=10).projector == "hand-log"  # a redelivery
    logs = service["logs"]
    assert (logs / "hand_log.txt").read_text(encoding="utf-8") == "Alice registered (Human)\n"
    assert (logs / "hand_log.db").exists()
