"""Server health, reflection, several components on one server, and graceful stop (items 71, 73)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from angzarr_client.handlers import CommandHandler, Saga, applies, handles
from angzarr_client.proto.angzarr import (
    command_handler_pb2_grpc,
    saga_pb2,
    saga_pb2_grpc,
)
from angzarr_client.server import create_server, run_components
from angzarr_client.servicers import CommandHandlerGrpc
from angzarr_client.testing import build_contextual_command, build_event_book, running_server
from poker_contracts import player_pb2 as pb
from poker_contracts import table_pb2

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
ADD = command_handler_pb2_grpc.add_CommandHandlerServiceServicer_to_server

entered = threading.Event()
release = threading.Event()


class SlowPlayer(CommandHandler[pb.PlayerState]):
    domain = "player"

    @handles(pb.RegisterPlayer)
    def register(self, cmd: pb.RegisterPlayer) -> pb.PlayerRegistered:
        if cmd.display_name == "slow":
            entered.set()
            release.wait(30)
        return pb.PlayerRegistered(display_name=cmd.display_name)

    @applies(pb.PlayerRegistered)
    def apply(self, state: pb.PlayerState, event: pb.PlayerRegistered) -> None:
        state.display_name = event.display_name


class Echo(Saga):
    name = "echo"
    input_domain = "table"

    @handles(table_pb2.TableCreated)
    def on_created(self, event: table_pb2.TableCreated):
        return None


def _check(handle, service: str) -> int:
    return handle.health.Check(health_pb2.HealthCheckRequest(service=service), None).status


def test_health_not_serving_before_start_serving_after_and_not_serving_once_stop_begins():
    entered.clear()
    release.clear()
    env = {"BIND_HOST": "127.0.0.1", "PORT": "0"}
    handle = create_server(ADD, CommandHandlerGrpc(SlowPlayer), "player-agg", "player", environ=env)
    names = ["", "player-agg", "angzarr.CommandHandlerService"]
    assert sorted(handle.service_names) == sorted(names)
    assert [_check(handle, n) for n in names] == [NOT_SERVING] * 3
    handle.start()
    channel = grpc.insecure_channel(handle.address)
    try:
        health = health_pb2_grpc.HealthStub(channel)
        assert [health.Check(health_pb2.HealthCheckRequest(service=n), timeout=5).status for n in names] == [
            SERVING
        ] * 3
        watch = health.Watch(health_pb2.HealthCheckRequest(service="player-agg"), timeout=30)
        assert next(watch).status == SERVING
        # keep a call in flight so the graceful stop has something to wait for
        slow = command_handler_pb2_grpc.CommandHandlerServiceStub(channel).Handle.future(
            build_contextual_command(pb.RegisterPlayer(display_name="slow"), domain="player")
        )
        assert entered.wait(10)
        stopper = threading.Thread(target=handle.stop, kwargs={"grace": 20})
        stopper.start()
        assert next(watch).status == NOT_SERVING  # seen while the server is still draining
        end = time.monotonic() + 10
        while [_check(handle, n) for n in names] != [NOT_SERVING] * 3 and time.monotonic() < end:
            time.sleep(0.01)
        assert [_check(handle, n) for n in names] == [NOT_SERVING] * 3
        assert not slow.done()
        release.set()
        assert slow.result(timeout=20).events.pages[0].header.sequence == 0  # the in-flight call completed
        stopper.join(20)
        assert not stopper.is_alive()
    finally:
        release.set()
        channel.close()
        handle.stop(grace=0)


def test_reflection_lists_the_hosted_services():
    with (
        running_server(SlowPlayer, Echo, reflection=True) as handle,
        grpc.insecure_channel(handle.address) as ch,
    ):
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        responses = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        services = {s.name for s in next(responses).list_services_response.service}
    assert {"angzarr.CommandHandlerService", "angzarr.SagaService", "grpc.health.v1.Health"} <= services


def test_without_reflection_the_service_is_absent():
    with running_server(SlowPlayer) as handle, grpc.insecure_channel(handle.address) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        with pytest.raises(grpc.RpcError) as info:
            next(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_two_components_of_one_kind_are_refused():
    with pytest.raises(TypeError, match="two command handler"):
        run_components(SlowPlayer, SlowPlayer)
    with pytest.raises(TypeError):
        run_components()


def test_components_share_one_server():
    with running_server(SlowPlayer, Echo) as handle, grpc.insecure_channel(handle.address) as ch:
        saga = saga_pb2_grpc.SagaServiceStub(ch)
        book = build_event_book([table_pb2.TableCreated()], domain="table")
        assert saga.Handle(saga_pb2.SagaHandleRequest(source=book), timeout=5) == saga_pb2.SagaResponse()
        ch_stub = command_handler_pb2_grpc.CommandHandlerServiceStub(ch)
        request = build_contextual_command(pb.RegisterPlayer(display_name="x"), domain="player")
        assert len(ch_stub.Handle(request, timeout=5).events.pages) == 1
        assert _check(handle, "angzarr.SagaService") == SERVING


# -- SIGTERM on a real process ------------------------------------------------------------------------------

SERVICE = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from angzarr_client import CommandHandler, applies, handles, run_aggregate_server
    from poker_contracts import player_pb2 as pb

    class Player(CommandHandler[pb.PlayerState]):
        domain = "player"

        @handles(pb.RegisterPlayer)
        def register(self, cmd: pb.RegisterPlayer) -> pb.PlayerRegistered:
            if cmd.display_name == "slow":
                Path(os.environ["ENTERED_MARKER"]).touch()
                deadline = time.monotonic() + 30
                while not Path(os.environ["RELEASE_MARKER"]).exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
            return pb.PlayerRegistered(display_name=cmd.display_name)

        @applies(pb.PlayerRegistered)
        def apply(self, state: pb.PlayerState, event: pb.PlayerRegistered) -> None:
            state.display_name = event.display_name

    run_aggregate_server(Player, "50303", grace=20)
    print("returned-normally", flush=True)
    """
)


def _wait_for(predicate, what: str, proc: subprocess.Popen, limit: float = 30.0) -> None:
    # Polling with a generous limit: the assertion is that it happens, not how fast.
    end = time.monotonic() + limit
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"service exited early while waiting for {what}: {proc.communicate()}")
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_sigterm_stops_run_server_gracefully_and_in_flight_calls_complete(tmp_path):
    script = tmp_path / "service.py"
    script.write_text(SERVICE)
    sock = tmp_path / "run" / "player.sock"
    entered_marker, release_marker = tmp_path / "entered", tmp_path / "release"
    env = {
        **os.environ,
        "TRANSPORT_TYPE": "uds",
        "UDS_PATH": str(sock),
        "ENTERED_MARKER": str(entered_marker),
        "RELEASE_MARKER": str(release_marker),
        "LOG_FORMAT": "json",
    }
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for(sock.exists, "the socket", proc)
        channel = grpc.insecure_channel(f"unix:{sock}")
        grpc.channel_ready_future(channel).result(timeout=30)
        stub = command_handler_pb2_grpc.CommandHandlerServiceStub(channel)
        slow = stub.Handle.future(
            build_contextual_command(pb.RegisterPlayer(display_name="slow"), domain="player")
        )
        _wait_for(entered_marker.exists, "the in-flight call", proc)
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
        statuses = [next(watch).status]
        proc.send_signal(signal.SIGTERM)
        for reply in watch:
            statuses.append(reply.status)
            if reply.status == NOT_SERVING:
                break
        release_marker.touch()
        response = slow.result(timeout=30)
        assert response.events.pages[0].event.type_url.endswith("examples.PlayerRegistered")
        out, err = proc.communicate(timeout=30)
        channel.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert statuses[0] == SERVING and statuses[-1] == NOT_SERVING
    assert "returned-normally" in out
    assert not Path(sock).exists()


SEED_WIRING = textwrap.dedent(
    """
    import structlog
    from angzarr_client import (
        CommandHandler, CommandHandlerGrpc, Router, applies, configure_logging, handles, run_server,
    )
    from angzarr_client.proto.angzarr import command_handler_pb2_grpc
    from poker_contracts import table_pb2

    class Table(CommandHandler[table_pb2.TableState]):
        domain = "table"

        @handles(table_pb2.CreateTable)
        def handle_create_table(self, cmd: table_pb2.CreateTable, state=None, seq=None) -> table_pb2.TableCreated:
            return table_pb2.TableCreated(table_name=cmd.table_name)

        @applies(table_pb2.TableCreated)
        def apply_table_created(self, state: table_pb2.TableState, event: table_pb2.TableCreated) -> None:
            state.table_name = event.table_name

    router = Router("table").with_handler(Table()).build()

    if __name__ == "__main__":
        configure_logging()
        logger = structlog.get_logger()
        servicer = CommandHandlerGrpc(router)
        run_server(
            command_handler_pb2_grpc.add_CommandHandlerServiceServicer_to_server,
            servicer,
            service_name="table-agg",
            domain="table",
            default_port="50402",
            logger=logger,
        )
    """
)


def test_seed_server_wiring_over_tcp_logs_start_and_stops_on_sigint(tmp_path):
    import json

    script = tmp_path / "table_main.py"
    script.write_text(SEED_WIRING)
    env = {**os.environ, "PORT": "0", "BIND_HOST": "127.0.0.1", "LOG_FORMAT": "json", "TRANSPORT_TYPE": "tcp"}
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        started = None
        for line in proc.stdout:
            record = json.loads(line)
            if record.get("event") == "server_started":
                started = record
                break
        assert started is not None, proc.stderr.read()
        assert started["service"] == "table-agg" and started["transport"] == "tcp"
        with grpc.insecure_channel(started["address"]) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            assert (
                health.Check(health_pb2.HealthCheckRequest(service="table-agg"), timeout=10).status == SERVING
            )
            stub = command_handler_pb2_grpc.CommandHandlerServiceStub(channel)
            response = stub.Handle(
                build_contextual_command(table_pb2.CreateTable(table_name="t"), domain="table"), timeout=10
            )
            assert response.events.pages[0].event.type_url.endswith("examples.TableCreated")
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    events = [json.loads(line)["event"] for line in rest.splitlines() if line.strip()]
    assert "server_stopped" in events
