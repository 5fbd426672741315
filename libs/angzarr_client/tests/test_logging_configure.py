"""configure_logging (item 74): idempotent, JSON lines on a non-TTY, correlation ids in servicer logs.

Logging configuration is process-global, so each case runs in its own interpreter with stdout piped
(a non-TTY), which is also how a service runs in a container.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import logging
    import grpc
    import structlog
    from angzarr_client import CommandHandler, CommandRejectedError, applies, configure_logging, handles
    from angzarr_client.proto.angzarr import command_handler_pb2_grpc
    from angzarr_client.testing import build_contextual_command, running_server
    from poker_contracts import player_pb2 as pb

    class Player(CommandHandler[pb.PlayerState]):
        domain = "player"

        @handles(pb.RegisterPlayer)
        def register(self, cmd: pb.RegisterPlayer) -> pb.PlayerRegistered:
            if cmd.display_name == "taken":
                raise CommandRejectedError("name taken")
            if cmd.display_name == "boom":
                raise KeyError("boom")
            return pb.PlayerRegistered(display_name=cmd.display_name)

        @applies(pb.PlayerRegistered)
        def apply(self, state: pb.PlayerState, event: pb.PlayerRegistered) -> None:
            state.display_name = event.display_name

    configure_logging()
    configure_logging()  # idempotent: still one line per event
    structlog.get_logger("test").info("structlog_event", answer=42)
    logging.getLogger("stdlib").warning("stdlib %s", "event")
    logging.getLogger("quiet").debug("filtered out at info")
    with running_server(Player) as server, grpc.insecure_channel(server.address) as channel:
        stub = command_handler_pb2_grpc.CommandHandlerServiceStub(channel)
        for name in ("taken", "boom"):
            request = build_contextual_command(pb.RegisterPlayer(display_name=name), domain="player",
                                               correlation_id="corr-" + name)
            try:
                stub.Handle(request, timeout=10)
            except grpc.RpcError:
                pass
    """
)


def run(env_extra: dict[str, str]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LOG_LEVEL", "LOG_FORMAT")}
    env.update(env_extra)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def json_lines():
    return [json.loads(line) for line in run({})]


def test_every_line_is_json_with_level_and_utc_timestamp(json_lines):
    assert json_lines, "expected log output"
    for record in json_lines:
        assert record["level"] and record["timestamp"].endswith("Z")


def test_configure_twice_writes_each_event_once(json_lines):
    events = [r["event"] for r in json_lines]
    assert events.count("structlog_event") == 1
    assert events.count("stdlib event") == 1
    assert "filtered out at info" not in events
    assert next(r for r in json_lines if r["event"] == "structlog_event")["answer"] == 42


def test_servicer_logs_carry_correlation_id_domain_and_component(json_lines):
    rejected = next(r for r in json_lines if r["event"] == "command_rejected")
    assert rejected["correlation_id"] == "corr-taken"
    assert rejected["domain"] == "player" and rejected["component"] == "player"
    assert rejected["level"] == "info" and rejected["reason"] == "name taken"
    failed = next(r for r in json_lines if r["event"] == "handler_failed")
    assert failed["correlation_id"] == "corr-boom" and failed["level"] == "error"
    assert "KeyError" in failed["exception"]
    started = [r for r in json_lines if r["event"] == "server_started"]
    assert started == []  # running_server is a test helper; run_server logs server_started


def test_log_format_console_and_level_from_environment():
    lines = run({"LOG_FORMAT": "console", "LOG_LEVEL": "warning"})
    assert not any(line.startswith("{") for line in lines)
    assert any("stdlib event" in line for line in lines)
    assert not any("structlog_event" in line for line in lines)  # info is below warning
