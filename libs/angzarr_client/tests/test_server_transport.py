"""Transport selection from the environment and socket handling (item 72)."""

from __future__ import annotations

import os
import socket

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from angzarr_client import InvalidArgumentError
from angzarr_client.handlers import CommandHandler, applies, handles
from angzarr_client.proto.angzarr import command_handler_pb2_grpc
from angzarr_client.server import Transport, create_server, transport_from_env
from angzarr_client.servicers import CommandHandlerGrpc
from poker_contracts import player_pb2 as pb

ADD = command_handler_pb2_grpc.add_CommandHandlerServiceServicer_to_server


class Player(CommandHandler[pb.PlayerState]):
    domain = "player"

    @handles(pb.RegisterPlayer)
    def register(self, cmd: pb.RegisterPlayer) -> pb.PlayerRegistered:
        return pb.PlayerRegistered(display_name=cmd.display_name)

    @applies(pb.PlayerRegistered)
    def apply(self, state: pb.PlayerState, event: pb.PlayerRegistered) -> None:
        state.display_name = event.display_name


# -- transport_from_env is pure ---------------------------------------------------------------------------


def test_defaults_are_tcp_on_all_interfaces_and_the_default_port():
    assert transport_from_env("50303", environ={}) == Transport("tcp", host="[::]", port=50303)
    assert transport_from_env(50303, environ={}).address == "[::]:50303"


def test_tcp_variables_and_blank_values():
    env = {"TRANSPORT_TYPE": " TCP ", "PORT": "0", "BIND_HOST": "127.0.0.1"}
    assert transport_from_env("1", environ=env) == Transport("tcp", host="127.0.0.1", port=0)
    assert transport_from_env("7", environ={"PORT": "  ", "BIND_HOST": ""}).port == 7


def test_uds_path_rules():
    assert (
        transport_from_env("1", "player", environ={"TRANSPORT_TYPE": "uds"}).path
        == "/tmp/angzarr/business-player.sock"
    )
    env = {"TRANSPORT_TYPE": "UDS", "UDS_BASE_PATH": "/run/x", "SERVICE_NAME": "svc"}
    assert transport_from_env("1", "table", environ=env).path == "/run/x/svc-table.sock"
    assert transport_from_env("1", environ=env).path == "/run/x/svc.sock"
    assert transport_from_env("1", environ={**env, "DOMAIN": "hand"}).path == "/run/x/svc-hand.sock"
    assert transport_from_env("1", "table", environ={**env, "DOMAIN": "hand"}).path == "/run/x/svc-table.sock"
    assert transport_from_env("1", "t", environ={**env, "UDS_PATH": "/a/b.sock"}).address == "unix:/a/b.sock"


@pytest.mark.parametrize("env", [{"TRANSPORT_TYPE": "quic"}, {"PORT": "abc"}, {"PORT": "70000"}])
def test_bad_configuration_fails(env):
    with pytest.raises(InvalidArgumentError):
        transport_from_env("1", environ=env)


def test_bad_default_port_fails():
    with pytest.raises(InvalidArgumentError):
        transport_from_env("http", environ={})


# -- binding ----------------------------------------------------------------------------------------------


def _health(address: str, service: str = "") -> int:
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


def test_uds_binds_base_stem_domain_socket_and_removes_it_on_stop(tmp_path, monkeypatch):
    base = tmp_path / "nested" / "run"
    monkeypatch.setenv("TRANSPORT_TYPE", "uds")
    monkeypatch.setenv("UDS_BASE_PATH", str(base))
    monkeypatch.setenv("SERVICE_NAME", "playersvc")
    monkeypatch.delenv("UDS_PATH", raising=False)
    before = dict(os.environ)
    handle = create_server(ADD, CommandHandlerGrpc(Player), "player-agg", "player")
    path = base / "playersvc-player.sock"
    assert handle.transport.path == str(path) and handle.address == f"unix:{path}"
    handle.start()
    try:
        assert path.exists()
        assert _health(handle.address) == health_pb2.HealthCheckResponse.SERVING
    finally:
        handle.stop(grace=1)
    assert not path.exists()
    assert dict(os.environ) == before


def test_a_stale_socket_is_replaced_but_a_regular_file_is_not(tmp_path):
    stale = tmp_path / "stale.sock"
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(stale))
    leftover.close()
    env = {"TRANSPORT_TYPE": "uds", "UDS_PATH": str(stale)}
    with create_server(ADD, CommandHandlerGrpc(Player), environ=env) as handle:
        assert _health(handle.address) == health_pb2.HealthCheckResponse.SERVING
    regular = tmp_path / "file.sock"
    regular.write_text("keep me")
    with pytest.raises(InvalidArgumentError, match="not a socket"):
        create_server(
            ADD, CommandHandlerGrpc(Player), environ={"TRANSPORT_TYPE": "uds", "UDS_PATH": str(regular)}
        )
    assert regular.read_text() == "keep me"


def test_quic_fails_at_startup_and_leaves_the_environment_alone(monkeypatch):
    monkeypatch.setenv("TRANSPORT_TYPE", "quic")
    before = dict(os.environ)
    with pytest.raises(InvalidArgumentError, match="TRANSPORT_TYPE"):
        create_server(ADD, CommandHandlerGrpc(Player))
    assert dict(os.environ) == before


def test_tcp_port_zero_picks_a_free_port_and_a_taken_port_fails():
    env = {"BIND_HOST": "127.0.0.1", "PORT": "0"}
    with create_server(ADD, CommandHandlerGrpc(Player), "p", environ=env) as first:
        assert first.port > 0 and first.address == f"127.0.0.1:{first.port}"
        assert _health(first.address, "p") == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(OSError):
            create_server(
                ADD, CommandHandlerGrpc(Player), environ={"BIND_HOST": "127.0.0.1", "PORT": str(first.port)}
            )
