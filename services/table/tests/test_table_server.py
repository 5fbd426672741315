"""``python -m table`` as a real process on a Unix socket: health, the aggregate and the saga over gRPC."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from angzarr_client import decode_event, unpack
from angzarr_client.proto.angzarr import command_handler_pb2_grpc, saga_pb2, saga_pb2_grpc
from angzarr_client.testing import build_contextual_command, build_event_book, serving_module, uuid_for
from poker_contracts import player_pb2, table_pb2
from poker_contracts.poker_types_pb2 import TEXAS_HOLDEM, Currency
from poker_rules.roots import poker_root

STARTUP_LIMIT_SECONDS = 30
T_ROOT = poker_root("table", "main")
ALICE = uuid_for("player alice")


@pytest.fixture(scope="module")
def channel() -> Iterator[grpc.Channel]:
    # A short directory: Unix socket paths are limited to about 100 bytes.
    base = Path(tempfile.mkdtemp(prefix="h6t-", dir="/tmp"))
    socket = base / "business-table.sock"
    env = {**os.environ, "TRANSPORT_TYPE": "uds", "UDS_BASE_PATH": str(base), "SERVICE_NAME": "business",
           "LOG_FORMAT": "json"}
    try:
        with serving_module("table", f"unix://{socket}", env, startup_limit_seconds=STARTUP_LIMIT_SECONDS) as served:
            yield served.channel
        assert served.process.returncode == 0, served.output
        assert not socket.exists(), "stopping removes the socket"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_both_components_report_serving(channel):
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("table", "angzarr.CommandHandlerService", "angzarr.SagaService"):
        status = health.Check(health_pb2.HealthCheckRequest(service=service)).status
        assert status == health_pb2.HealthCheckResponse.SERVING, service


def test_create_and_join_over_grpc(channel):
    stub = command_handler_pb2_grpc.CommandHandlerServiceStub(channel)
    create = table_pb2.CreateTable(table_name="Main", game_variant=TEXAS_HOLDEM, small_blind=5, big_blind=10)
    response = stub.Handle(build_contextual_command(create, domain="table", root=T_ROOT), timeout=10)
    (page,) = response.events.pages
    created = decode_event(page, table_pb2.TableCreated)
    assert (created.min_buy_in, created.max_buy_in, created.max_players, created.action_timeout_seconds) == (
        200, 1000, 9, 30
    )

    join = table_pb2.JoinTable(player_root=ALICE.bytes, preferred_seat=-1, buy_in_amount=500)
    response = stub.Handle(build_contextual_command(join, [created], domain="table", root=T_ROOT), timeout=10)
    (page,) = response.events.pages
    assert page.header.sequence == 1
    joined = decode_event(page, table_pb2.PlayerJoined)
    assert joined.HasField("joined_at")
    joined.ClearField("joined_at")
    assert joined == table_pb2.PlayerJoined(player_root=ALICE.bytes, seat_position=0, buy_in_amount=500, stack=500)

    small = table_pb2.JoinTable(player_root=ALICE.bytes, preferred_seat=-1, buy_in_amount=100)
    with pytest.raises(grpc.RpcError) as raised:
        stub.Handle(build_contextual_command(small, [created], domain="table", root=T_ROOT), timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Buy-in must be at least 200" in raised.value.details()


def test_the_saga_seats_a_player_who_reserved_funds(channel):
    stub = saga_pb2_grpc.SagaServiceStub(channel)
    reserved = player_pb2.FundsReserved(amount=Currency(amount=400, currency_code="CHIPS"), table_root=T_ROOT)
    source = build_event_book([reserved], domain="player", root=ALICE, start_sequence=3, correlation_id="c-1")
    response = stub.Handle(saga_pb2.SagaHandleRequest(source=source), timeout=10)
    (book,) = response.commands
    assert (book.cover.domain, book.cover.root.value, book.cover.correlation_id) == ("table", T_ROOT, "c-1")
    assert book.pages[0].header.angzarr_deferred.source_seq == 3
    assert unpack(book.pages[0].command, table_pb2.JoinTable) == table_pb2.JoinTable(
        player_root=ALICE.bytes, preferred_seat=-1, buy_in_amount=400
    )
