"""``python -m player`` as a real process on a Unix socket: health, then commands over gRPC."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from angzarr_client import decode_event
from angzarr_client.proto.angzarr import command_handler_pb2_grpc
from angzarr_client.testing import build_contextual_command, serving_module, uuid_for
from poker_contracts import player_pb2 as pb
from poker_contracts.poker_types_pb2 import AI, Currency

STARTUP_LIMIT_SECONDS = 30
ALICE = uuid_for("player alice")


@pytest.fixture(scope="module")
def channel() -> Iterator[grpc.Channel]:
    # A short directory: Unix socket paths are limited to about 100 bytes.
    base = Path(tempfile.mkdtemp(prefix="h6p-", dir="/tmp"))
    socket = base / "business-player.sock"
    env = {**os.environ, "TRANSPORT_TYPE": "uds", "UDS_BASE_PATH": str(base), "SERVICE_NAME": "business",
           "LOG_FORMAT": "json"}
    try:
        with serving_module("player", f"unix://{socket}", env, startup_limit_seconds=STARTUP_LIMIT_SECONDS) as served:
            yield served.channel
        assert served.process.returncode == 0, served.output
        assert not socket.exists(), "stopping removes the socket"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_the_player_service_reports_serving_for_its_name(channel):
    health = health_pb2_grpc.HealthStub(channel)
    assert health.Check(health_pb2.HealthCheckRequest(service="player")).status == (
        health_pb2.HealthCheckResponse.SERVING
    )


def test_register_and_deposit_over_grpc(channel):
    stub = command_handler_pb2_grpc.CommandHandlerServiceStub(channel)
    register = pb.RegisterPlayer(display_name="Alice", email="alice@example.com", player_type=AI)
    response = stub.Handle(build_contextual_command(register, domain="player", root=ALICE), timeout=10)
    (page,) = response.events.pages
    assert page.header.sequence == 0
    registered = decode_event(page, pb.PlayerRegistered)
    assert (registered.display_name, registered.email, registered.player_type) == ("Alice", "alice@example.com", AI)

    deposit = pb.DepositFunds(amount=Currency(amount=1000))
    response = stub.Handle(build_contextual_command(deposit, [registered], domain="player", root=ALICE), timeout=10)
    (page,) = response.events.pages
    assert page.header.sequence == 1
    assert decode_event(page, pb.FundsDeposited).new_balance == Currency(amount=1000, currency_code="CHIPS")


def test_rejections_keep_their_status_and_message(channel):
    stub = command_handler_pb2_grpc.CommandHandlerServiceStub(channel)
    with pytest.raises(grpc.RpcError) as raised:
        stub.Handle(build_contextual_command(pb.DepositFunds(amount=Currency(amount=5)), domain="player"),
                    timeout=10)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "does not exist" in raised.value.details()
    with pytest.raises(grpc.RpcError) as raised:
        stub.Handle(build_contextual_command(pb.RegisterPlayer(display_name="A", player_type=AI), domain="player"),
                    timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "email is required" in raised.value.details()
