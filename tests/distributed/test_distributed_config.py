"""The sidecar's configuration from the environment (spec/coordinator.md §10.4) and its peer endpoints."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from distributed_system import STANDALONE, free_port

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.config import ConfigError, load_config
from angzarr_coordinator.peers import PeerDispatch, PeerEndpoints, override_variable
from angzarr_coordinator.reactions.records import COMMAND, PM_NOTICE
from angzarr_coordinator.sidecar_config import read_topology_file, sidecar_config
from angzarr_coordinator.topology import Limits
from angzarr_coordinator.topology_export import describe, export_topology

DB = "postgresql://angzarr@db:5432/angzarr"


@pytest.fixture
def topology_file(tmp_path: Path) -> Path:
    path = tmp_path / "topology.yaml"
    path.write_text(export_topology(load_config(STANDALONE)))
    return path


def env(topology_file: Path, **extra: str) -> dict[str, str]:
    return {"DOMAIN": "table", "DATABASE_URL": DB, "ANGZARR_TOPOLOGY": str(topology_file), **extra}


def test_defaults_reach_the_business_container_on_localhost_and_peers_by_service_name(topology_file):
    cfg = sidecar_config(env(topology_file))
    assert cfg.domain == "table"
    assert cfg.business_endpoint == "127.0.0.1:50052"
    assert cfg.port == 1310 and cfg.drain_seconds == 20.0 and cfg.migrate is True
    assert cfg.peers.endpoint("player") == "ch-player.angzarr.svc:1310"
    own = cfg.topology.service_for_domain("table")
    assert own.endpoint == "127.0.0.1:50052" and own.saga.name == "table-saga"


def test_every_setting_comes_from_the_environment(topology_file):
    cfg = sidecar_config(env(topology_file, TRANSPORT_TYPE="TCP", PORT="7001", ANGZARR_PORT="7002",
                             ANGZARR_NAMESPACE="poker", ANGZARR_CH_PORT="9000", ANGZARR_DRAIN_SECONDS="3.5",
                             ANGZARR_MIGRATE="0", ANGZARR_ENDPOINT_HAND="10.0.0.9:1400"))
    assert cfg.business_endpoint == "127.0.0.1:7001"
    assert (cfg.port, cfg.drain_seconds, cfg.migrate) == (7002, 3.5, False)
    assert cfg.peers.endpoint("player") == "ch-player.poker.svc:9000"
    assert cfg.peers.endpoint("hand") == "10.0.0.9:1400"


def test_a_business_container_on_a_shared_socket(topology_file):
    by_base = sidecar_config(env(topology_file, TRANSPORT_TYPE="uds", UDS_BASE_PATH="/sockets"))
    assert by_base.business_endpoint == "/sockets/business-table.sock"
    by_path = sidecar_config(env(topology_file, TRANSPORT_TYPE="uds", UDS_PATH="/run/x.sock"))
    assert by_path.business_endpoint == "/run/x.sock"


def test_every_problem_is_reported_at_once(topology_file):
    with pytest.raises(ConfigError) as caught:
        sidecar_config({"ANGZARR_TOPOLOGY": str(topology_file), "TRANSPORT_TYPE": "pipe",
                        "ANGZARR_PORT": "http", "ANGZARR_DRAIN_SECONDS": "-1", "ANGZARR_MIGRATE": "maybe"})
    text = "\n".join(caught.value.problems)
    for name in ("DOMAIN", "DATABASE_URL", "TRANSPORT_TYPE", "ANGZARR_PORT", "ANGZARR_DRAIN_SECONDS",
                 "ANGZARR_MIGRATE"):
        assert name in text, f"{name} not reported in:\n{text}"


def test_a_sqlite_url_and_an_unknown_service_are_refused(topology_file):
    with pytest.raises(ConfigError, match="PostgreSQL"):
        sidecar_config(env(topology_file, DATABASE_URL="sqlite:///tmp/x.db"))
    with pytest.raises(ConfigError, match="no service 'casino'"):
        sidecar_config(env(topology_file, DOMAIN="casino"))
    with pytest.raises(ConfigError, match="topology file"):
        sidecar_config(env(topology_file, ANGZARR_TOPOLOGY=str(topology_file.parent / "missing.yaml")))


def test_a_config_file_gives_defaults_the_environment_overrides(tmp_path, topology_file):
    file = tmp_path / "coordinator.yaml"
    file.write_text(f"DOMAIN: hand\nDATABASE_URL: {DB}\nANGZARR_TOPOLOGY: {topology_file}\nANGZARR_PORT: 1400\n")
    cfg = sidecar_config({"ANGZARR_PORT": "1500"}, config_file=str(file))
    assert (cfg.domain, cfg.port) == ("hand", 1500)
    file.write_text("DOMAIN: hand\nDATABSE_URL: x\n")
    with pytest.raises(ConfigError, match="unknown key 'DATABSE_URL'"):
        sidecar_config({}, config_file=str(file))


def test_the_exported_topology_reads_back_as_the_standalone_one(topology_file):
    standalone = load_config(STANDALONE)
    topology, limits = read_topology_file(topology_file)
    assert describe(topology) == describe(standalone.topology)
    assert limits == standalone.limits
    assert [s.command for s in topology.services] == [(), (), ()]


def test_override_variable_names():
    assert override_variable("hand-flow") == "ANGZARR_ENDPOINT_HAND_FLOW"
    assert PeerEndpoints(environ={"ANGZARR_ENDPOINT_HAND_FLOW": " 1.2.3.4:5 "}).endpoint("hand-flow") == "1.2.3.4:5"


async def test_an_unreachable_peer_is_a_transient_failure_naming_it_and_own_entries_stay_local():
    port = free_port()  # nothing listens there
    peers = PeerDispatch("table", PeerEndpoints(environ={"ANGZARR_ENDPOINT_PLAYER": f"127.0.0.1:{port}"}),
                         Limits(), timeout=2.0)
    try:
        book = types_pb2.CommandBook(cover=types_pb2.Cover(domain="player", root=types_pb2.UUID(value=b"r" * 16)))
        sent = await asyncio.wait_for(peers.send(COMMAND, book.SerializeToString(), "saga:x;1", 0, 0), 10)
        assert sent.code == grpc.StatusCode.UNAVAILABLE
        assert "domain 'player'" in sent.message and str(port) in sent.message
        own = types_pb2.CommandBook(cover=types_pb2.Cover(domain="table", root=types_pb2.UUID(value=b"r" * 16)))
        assert await peers.send(COMMAND, own.SerializeToString(), "saga:x;2", 0, 0) is None
        assert await peers.send(PM_NOTICE, book.SerializeToString(), "pm:x;3", 0, 0) is None
    finally:
        await peers.close()


def test_the_cli_checks_a_configuration(topology_file):
    angzarr = str(Path(sys.executable).with_name("angzarr"))
    base = {k: v for k, v in os.environ.items() if k not in ("DOMAIN", "DATABASE_URL", "ANGZARR_TOPOLOGY")}
    ok = subprocess.run([angzarr, "coordinator", "--check"], env={**base, **env(topology_file)},
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "domain table" in ok.stdout, ok.stderr
    bad = subprocess.run([angzarr, "coordinator", "--check"], env=base, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "DOMAIN" in bad.stderr and "DATABASE_URL" in bad.stderr
