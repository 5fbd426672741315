"""One sidecar's contract (spec/coordinator.md §2, §10.4) with real processes: commands only for its own
domain, queries for every domain, health SERVING only while the store and its business service answer,
and a clean exit on SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import time
import uuid

import grpc
import pytest
from distributed_system import DOMAINS, SERVING, STANDALONE, DistributedSystem, free_port, health_status

from angzarr_client import DomainClient, GRPCError, NoRetry
from angzarr_coordinator.config import load_config
from angzarr_coordinator.topology_export import export_topology
from poker_contracts import player_pb2, poker_types_pb2
from poker_demo.system import short_socket_dir

NOT_SERVING = 2


def _wait_status(address: str, wanted: int, service: str = "", timeout: float = 30.0) -> int | None:
    deadline = time.monotonic() + timeout
    status = health_status(address, service)
    while status != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
        status = health_status(address, service)
    return status


def _register(client: DomainClient, root: bytes) -> None:
    client.command("player", root).with_command(player_pb2.RegisterPlayer(
        display_name="Ada", email="ada@example.com", player_type=poker_types_pb2.PlayerType.HUMAN,
    )).execute(timeout=30)


@pytest.mark.postgres
def test_commands_only_for_its_domain_queries_for_all(start_distributed):
    system = start_distributed()
    root = uuid.uuid4().bytes
    with DomainClient(system.endpoint("player")) as player, DomainClient(system.endpoint("table")) as table:
        _register(player, root)
        with pytest.raises(GRPCError) as refused:
            table.command("player", uuid.uuid4().bytes).with_command(player_pb2.RegisterPlayer(
                display_name="Bob", email="bob@example.com")).execute(timeout=30)
        assert refused.value.code == grpc.StatusCode.NOT_FOUND
        assert "domain 'table' only" in str(refused.value)
        # The table sidecar answers queries for the player domain from the shared store.
        book = table.query("player", root).get_event_book(timeout=30)
        assert [p.event.type_url.rsplit(".", 1)[-1] for p in book.pages] == ["PlayerRegistered"]
    for domain in DOMAINS:
        assert health_status(system.endpoint(domain), domain) == SERVING


@pytest.mark.postgres
def test_health_follows_the_business_service_and_sigterm_exits_zero(start_distributed):
    system = start_distributed()
    address = system.endpoint("player")
    business = system.services["player"].process
    os.killpg(business.pid, signal.SIGKILL)
    business.wait()
    assert _wait_status(address, NOT_SERVING) == NOT_SERVING
    assert health_status(address, "player") == NOT_SERVING
    with DomainClient(address, retry=NoRetry()) as player, pytest.raises(GRPCError) as down:
        player.command("player", uuid.uuid4().bytes).with_command(player_pb2.RegisterPlayer(
            display_name="Cy", email="cy@example.com")).execute(timeout=30)
    assert down.value.code == grpc.StatusCode.UNAVAILABLE

    system.start_service("player")
    assert _wait_status(address, SERVING) == SERVING
    with DomainClient(address) as player:
        _register(player, uuid.uuid4().bytes)

    sidecar = system.sidecars["player"]
    sidecar.process.send_signal(signal.SIGTERM)
    assert sidecar.process.wait(30) == 0, sidecar.tail()
    assert "sidecar_stopped" in sidecar.tail()


def test_without_a_database_the_sidecar_listens_but_is_not_serving(tmp_path):
    system = DistributedSystem("postgresql://nobody@127.0.0.1:1/none", tmp_path)
    system.run_dir.mkdir(parents=True, exist_ok=True)
    system.topology_file.write_text(export_topology(load_config(STANDALONE)))
    for domain in DOMAINS:
        system.business_ports[domain] = free_port()
        system.sidecar_ports[domain] = free_port()
    system.start_sidecar("player")
    try:
        address = system.endpoint("player")
        assert _wait_status(address, NOT_SERVING, timeout=30) == NOT_SERVING
        time.sleep(1.0)  # a health round has run: still not serving, still alive
        assert health_status(address) == NOT_SERVING
        assert health_status(address, "liveness") == SERVING
        assert system.sidecars["player"].process.poll() is None
        with DomainClient(address, retry=NoRetry()) as player, pytest.raises(GRPCError) as down:
            player.query("player", uuid.uuid4().bytes).get_event_book(timeout=10)
        assert down.value.code == grpc.StatusCode.UNAVAILABLE
    finally:
        codes = system.stop_sidecars()
    assert codes == {"player": 0}, system.sidecars["player"].tail()


def _wait_log(proc, text: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while text not in proc.log.read_text(errors="replace"):
        if time.monotonic() > deadline or proc.process.poll() is not None:
            return False
        time.sleep(0.2)
    return True


@pytest.mark.postgres
def test_a_second_replica_stands_by_until_the_first_lets_go(start_distributed):
    """§6.3: only the replica holding the subscribers' advisory locks delivers; the other serves
    commands and queries and takes over when the first stops."""
    system = start_distributed()
    first = system.sidecars["hand"]
    assert _wait_log(first, '"delivery_started"'), first.tail()
    replica, address = system.start_replica("hand")
    assert _wait_status(address, SERVING) == SERVING, replica.tail()
    assert _wait_log(replica, '"delivery_standby"'), replica.tail()
    assert '"delivery_started"' not in replica.log.read_text()
    with DomainClient(address, retry=NoRetry()) as hand:  # a standby answers queries
        hand.query("table", uuid.uuid4().bytes).get_event_book(timeout=10)

    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(30) == 0
    assert _wait_log(replica, '"delivery_started"'), replica.tail()


@pytest.mark.postgres
def test_business_services_on_unix_sockets(start_distributed):
    """TRANSPORT_TYPE=uds: the sidecar reaches its service at <UDS_BASE_PATH>/business-<domain>.sock."""
    sockets = short_socket_dir("azd-")
    try:
        system = start_distributed(socket_dir=sockets)
        assert sorted(p.name for p in sockets.iterdir()) == [f"business-{d}.sock" for d in sorted(DOMAINS)]
        with DomainClient(system.endpoint("player")) as player:
            root = uuid.uuid4().bytes
            _register(player, root)
            assert len(player.query("player", root).get_event_book(timeout=30).pages) == 1
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
