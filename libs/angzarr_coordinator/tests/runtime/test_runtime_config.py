"""standalone.yaml parsing and ``--check`` validation (spec/coordinator.md §10.1)."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runtime_harness import ANGZARR

from angzarr_coordinator.config import (
    DOMAIN_PATTERN,
    ConfigError,
    load_config,
    parse_config,
    service_endpoint,
    service_environment,
)
from angzarr_coordinator.topology import Limits

EXAMPLE = Path(__file__).parents[2] / "examples" / "standalone.example.yaml"

SPEC_EXAMPLE = """
version: 1
storage: {sqlite: {path: ./data/angzarr.db, synchronous: full}}
listen: {uds_base: /tmp/angzarr, tcp: 127.0.0.1:1310}
services:
  - name: player
    command: [python, -m, player.main]
    working_dir: services/player
    transport: uds
    hosts: {command_handler: {domain: player}}
  - name: table
    command: [python, -m, table.main]
    working_dir: services/table
    env: {LOG_LEVEL: info}
    transport: uds
    hosts:
      command_handler: {domain: table, upcaster: false, snapshots: {read: true}}
      saga: {name: table-saga, listen: [player, table], emits: [table, hand, player]}
  - name: hand
    command: [python, -m, hand.main]
    working_dir: services/hand
    transport: uds
    hosts:
      command_handler: {domain: hand}
      saga: {name: hand-saga, listen: [hand], emits: [table]}
      process_manager: {name: hand-flow, listen: [hand], emits: [hand, player]}
      projector: {name: hand-log, listen: [player, table, hand]}
limits: {max_pages_per_book: 100}
decode: {modules: [poker_contracts.table_pb2]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "standalone.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    return info.value.problems


def test_the_spec_example_parses_into_a_topology(tmp_path):
    config = load_config(write(tmp_path, SPEC_EXAMPLE), environ={})

    assert config.storage.path == tmp_path / "data" / "angzarr.db"
    assert config.storage.synchronous == "full"
    assert str(config.listen.uds_base) == "/tmp/angzarr" and config.listen.tcp == "127.0.0.1:1310"
    assert [s.name for s in config.topology.services] == ["player", "table", "hand"]
    assert config.topology.known_domains == ("player", "table", "hand", "hand-flow")
    hand = config.topology.services[2]
    assert hand.saga.listen == ("hand",) and hand.process_manager.emits == ("hand", "player")
    assert hand.projector.listen == ("player", "table", "hand")
    assert hand.endpoint == "/tmp/angzarr/business-hand.sock"
    assert hand.working_dir == str(tmp_path / "services" / "hand")
    assert config.topology.services[1].env == {"LOG_LEVEL": "info"}
    assert config.limits == Limits(max_pages_per_book=100)
    assert config.decode_modules == ("poker_contracts.table_pb2",)


def test_the_shipped_example_is_valid(tmp_path):
    config = load_config(EXAMPLE, environ={})
    assert len(config.topology.services) == 1


def test_check_flag_reports_ok_and_every_problem(tmp_path):
    good = write(tmp_path, SPEC_EXAMPLE)
    ok = subprocess.run([str(ANGZARR), "standalone", "-c", str(good), "--check"], capture_output=True, text=True)
    assert ok.returncode == 0 and "ok (3 services: player, table, hand)" in ok.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text("services: []\nstorage: {sqlite: {path: x.db}}\nbogus: 1\n")
    result = subprocess.run([str(ANGZARR), "standalone", "-c", str(bad), "--check"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "unknown key 'bogus'" in result.stderr and "non-empty list of services" in result.stderr


def test_unknown_keys_are_reported_with_their_location(tmp_path):
    found = problems(tmp_path, """
        storage: {sqlite: {path: x.db, synchronus: full}}
        services:
          - name: a
            command: [run]
            hosts: {command_handler: {domain: a, snapshot: {read: false}}}
            restart: always
    """)
    assert "storage.sqlite: unknown key 'synchronus'; allowed: path, synchronous" in found
    assert any("services[0] (a).hosts.command_handler: unknown key 'snapshot'" in p for p in found)
    assert any(p.startswith("services[0]: unknown key 'restart'") for p in found)


def test_duplicate_names_are_reported(tmp_path):
    found = problems(tmp_path, """
        storage: {sqlite: {path: x.db}}
        services:
          - {name: a, command: [run], hosts: {command_handler: {domain: a}}}
          - {name: a, command: [run], hosts: {projector: {name: log, listen: [a]}}}
          - {name: b, command: [run], hosts: {command_handler: {domain: a}, saga: {name: log, listen: [a]}}}
    """)
    assert "service 'a': the name is used by two services" in found
    assert any("command handler of service 'b': 'a' is already used" in p for p in found)
    assert any("saga of service 'b': 'log' is already used by the projector of service 'a'" in p for p in found)


def test_unknown_domains_name_the_served_ones(tmp_path):
    found = problems(tmp_path, """
        storage: {sqlite: {path: x.db}}
        services:
          - name: a
            command: [run]
            hosts:
              command_handler: {domain: a}
              saga: {name: s, listen: [a, nope], emits: [elsewhere]}
              process_manager: {name: flow, listen: [a], emits: [flow]}
    """)
    assert "service 'a'.hosts.saga.listen: unknown domain 'nope'; served: a, flow" in found
    assert "service 'a'.hosts.saga.emits: unknown domain 'elsewhere'; served: a, flow" in found
    assert len(found) == 2  # the PM's own state domain is known


def test_two_components_of_one_kind_in_a_service(tmp_path):
    found = problems(tmp_path, """
        storage: {sqlite: {path: x.db}}
        services:
          - name: a
            command: [run]
            hosts:
              command_handler: {domain: a}
              saga: {name: s1, listen: [a]}
              saga: {name: s2, listen: [a]}
    """)
    assert found == [
        "services[0] (a).hosts: hosts two saga components; a service hosts at most one component of each "
        "kind (split it into two services) (line 9)"
    ]


def test_types_ports_limits_and_version(tmp_path):
    found = problems(tmp_path, """
        version: 2
        storage: {sqlite: {path: x.db, synchronous: off}}
        listen: {tcp: "1310"}
        services:
          - {name: A, command: [run], hosts: {}}
          - {name: b, command: [run], transport: tcp, hosts: {command_handler: {domain: b}}}
          - {name: c, command: [run], port: 9, hosts: {command_handler: {domain: c}}}
          - {name: d, hosts: {command_handler: {domain: d}}}
        limits: {handler_timeout: 0, cascade: {max_depth: two}}
    """)
    assert "version: unsupported version 2; this angzarr reads version 1" in found
    assert any(p.startswith("storage.sqlite.synchronous: expected one of full, normal") for p in found)
    assert any(p.startswith("listen.tcp: expected 'host:port'") for p in found)
    assert any("services[0].name: 'A' is not a valid name" in p for p in found)
    assert any("transport tcp needs a port" in p for p in found)
    assert any("services[2] (c).port: a port is only used with 'transport: tcp'" in p for p in found)
    assert any(p.startswith("services[3] (d).command: expected the command to start") for p in found)
    assert "limits.handler_timeout: expected a positive number, got 0" in found
    assert "limits.cascade_max_depth: expected a positive number, got 'two'" in found


def test_invalid_yaml_and_missing_file_are_config_errors(tmp_path):
    assert problems(tmp_path, "services: [\n")[0].startswith("line ")
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "missing.yaml")


def test_limits_keys_flat_and_nested(tmp_path):
    config = load_config(write(tmp_path, """
        storage: {sqlite: {path: x.db}}
        services: [{name: a, command: run --fast, hosts: {command_handler: {domain: a}}}]
        limits: {handler_timeout: 2, max_streams: 8, cascade: {max_depth: 3}}
    """), environ={})
    assert config.limits.handler_timeout == 2.0 and config.limits.max_streams == 8
    assert config.limits.cascade_max_depth == 3
    assert config.topology.services[0].command == ("run", "--fast")


def test_angzarr_uds_base_wins_over_the_file(tmp_path):
    config = load_config(write(tmp_path, SPEC_EXAMPLE), environ={"ANGZARR_UDS_BASE": "/tmp/elsewhere"})
    assert str(config.listen.uds_base) == "/tmp/elsewhere"
    assert config.topology.services[0].endpoint == "/tmp/elsewhere/business-player.sock"


def test_service_environment_and_endpoint(tmp_path):
    config = parse_config({
        "storage": {"sqlite": {"path": "x.db"}},
        "services": [
            {"name": "a", "command": ["run"], "env": {"UDS_PATH": "/tmp/a.sock", "FLAG": True},
             "hosts": {"command_handler": {"domain": "a"}}},
            {"name": "b", "command": ["run"], "transport": "tcp", "port": 5000,
             "hosts": {"command_handler": {"domain": "b"}}},
        ],
    }, source=tmp_path / "s.yaml", environ={"UDS_PATH": "/inherited.sock", "HOME": "/root"})
    a, b = config.topology.services
    env = service_environment(a, "/tmp/base", {"UDS_PATH": "/inherited.sock", "HOME": "/root"})
    assert env["HOME"] == "/root" and env["FLAG"] == "true"
    assert a.endpoint == "/tmp/a.sock"  # the service's own UDS_PATH, not the inherited one
    assert b.endpoint == "127.0.0.1:5000"
    assert service_endpoint({"TRANSPORT_TYPE": "uds", "DOMAIN": "x"}) == "/tmp/angzarr/business-x.sock"


@given(st.text(max_size=70))
def test_names_follow_the_domain_rule(name):
    data = {"storage": {"sqlite": {"path": "x.db"}},
            "services": [{"name": name, "command": ["run"], "hosts": {"command_handler": {"domain": name}}}]}
    valid = DOMAIN_PATTERN.fullmatch(name) is not None and not name.endswith("\n")
    try:
        config = parse_config(data, source=Path("/tmp/s.yaml"), environ={})
    except ConfigError as e:
        assert not valid, e.problems
    else:
        assert valid and config.topology.services[0].name == name


def test_socket_paths_too_long_for_unix_sockets_are_reported(tmp_path):
    text = SPEC_EXAMPLE.replace("uds_base: /tmp/angzarr", "uds_base: /tmp/" + "d" * 90)
    found = problems(tmp_path, text)
    assert len(found) == 1 and found[0].startswith("listen.uds_base: socket path /tmp/ddd")
    assert "set ANGZARR_UDS_BASE to a shorter directory" in found[0]


def test_the_sidecar_topology_needs_no_commands(tmp_path):
    from angzarr_coordinator.config import parse_topology

    topology = parse_topology([{"name": "player", "hosts": {"command_handler": {"domain": "player"}}}],
                              base_dir=tmp_path, uds_base=Path("/tmp/angzarr"), environ={}, require_command=False)
    assert topology.services[0].command == () and topology.aggregate_domains == ("player",)
    with pytest.raises(ConfigError, match="expected the command to start"):
        parse_topology([{"name": "player", "hosts": {"command_handler": {"domain": "player"}}}],
                       base_dir=tmp_path, uds_base=Path("/tmp/angzarr"), environ={})
