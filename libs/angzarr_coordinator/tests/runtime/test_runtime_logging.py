"""Log level and format from the environment (spec/coordinator.md §11, checklist item 75)."""

from __future__ import annotations

import io
import json
import os
import signal

import pytest
import structlog
from runtime_harness import echo_service

from angzarr_coordinator.observability import ObservabilityConfigError, configure_logging, log_settings


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({}, False, (20, "json")),
        ({}, True, (20, "console")),
        ({"LOG_LEVEL": "debug", "LOG_FORMAT": "console"}, False, (10, "console")),
        ({"ANGZARR_LOG_LEVEL": "error", "LOG_LEVEL": "debug"}, False, (40, "json")),
        ({"ANGZARR_LOG_FORMAT": "json", "LOG_FORMAT": "console"}, True, (20, "json")),
        ({"ANGZARR_LOG_LEVEL": " ", "LOG_LEVEL": "WARNING"}, False, (30, "json")),  # blank = unset
        ({"ANGZARR_LOG_FORMAT": "", "LOG_FORMAT": "json"}, True, (20, "json")),
    ],
)
def test_angzarr_variables_win_and_library_names_apply_when_unset(env, tty, expected):
    assert log_settings(env, tty=tty) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [({"ANGZARR_LOG_LEVEL": "loud"}, "ANGZARR_LOG_LEVEL='loud' is not a log level"),
     ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml' is not a log format")],
)
def test_bad_values_are_named(env, message):
    with pytest.raises(ObservabilityConfigError, match=message):
        log_settings(env)


def test_json_lines_carry_bound_context_and_respect_the_level():
    out = io.StringIO()
    configure_logging({"ANGZARR_LOG_LEVEL": "info", "LOG_LEVEL": "debug"}, stream=out)
    structlog.contextvars.bind_contextvars(correlation_id="corr-1", domain="player")
    try:
        structlog.get_logger("t").debug("hidden")
        structlog.get_logger("t").info("command_handled", outcome="ok", duration_ms=3)
        import logging

        logging.getLogger("some.library").warning("from stdlib %s", "logging")
    finally:
        structlog.contextvars.clear_contextvars()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["command_handled", "from stdlib logging"]
    assert lines[0]["correlation_id"] == "corr-1" and lines[0]["domain"] == "player"
    assert lines[0]["level"] == "info" and lines[0]["timestamp"].endswith("Z")
    assert lines[1]["correlation_id"] == "corr-1" and lines[1]["level"] == "warning"


def test_console_format_is_not_json():
    out = io.StringIO()
    configure_logging({"LOG_FORMAT": "console"}, stream=out)
    structlog.get_logger("t").info("hello", service="a")
    text = out.getvalue()
    assert "hello" in text and "service=a" in text
    with pytest.raises(ValueError):
        json.loads(text.splitlines()[0])


def test_standalone_follows_the_precedence(standalone):
    """The library's names apply when ours are unset; ours win when set."""
    standalone.write_config([echo_service("alpha")])
    standalone.start(unset=("ANGZARR_LOG_FORMAT", "ANGZARR_LOG_LEVEL"), LOG_LEVEL="warning", LOG_FORMAT="console")
    standalone.wait_ready("alpha")
    pid = standalone.service_pid("alpha")
    os.kill(pid, signal.SIGKILL)  # produces a warning line
    standalone.wait_restarted("alpha", pid)
    standalone.terminate()
    assert standalone.wait_exit() == 0
    text = standalone.stdout_path.read_text()
    assert "service_exited" in text and "standalone_ready" not in text  # warning level, info filtered
    assert not standalone.events()  # console format: no JSON lines

    standalone.stdout_path.unlink()
    standalone.start(ANGZARR_LOG_LEVEL="info", ANGZARR_LOG_FORMAT="json", LOG_LEVEL="error", LOG_FORMAT="console")
    standalone.wait_ready("alpha")
    standalone.terminate()
    assert standalone.wait_exit() == 0
    assert standalone.events("standalone_ready") and standalone.events("standalone_stopped")


def test_a_bad_log_variable_stops_standalone_with_exit_1(standalone):
    standalone.write_config([echo_service("alpha")])
    standalone.start(ANGZARR_LOG_LEVEL="chatty")
    assert standalone.wait_exit() == 1
    assert "ANGZARR_LOG_LEVEL='chatty' is not a log level" in standalone.stderr_path.read_text()


def test_rpc_lines_carry_the_request_correlation_id_domain_outcome_and_duration(standalone):
    import uuid

    import grpc
    from google.protobuf import any_pb2, wrappers_pb2

    from angzarr_client.proto.angzarr import command_handler_pb2_grpc, types_pb2

    standalone.write_config([echo_service("alpha")])
    standalone.start(ANGZARR_LOG_LEVEL="debug")
    standalone.wait_ready("alpha")
    payload = any_pb2.Any()
    payload.Pack(wrappers_pb2.StringValue(value="logged"))
    cover = types_pb2.Cover(domain="alpha", root=types_pb2.UUID(value=uuid.uuid4().bytes), correlation_id="corr-log")
    with grpc.insecure_channel(standalone.target("alpha")) as channel:
        stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
        stub.HandleCommand(types_pb2.CommandRequest(command=types_pb2.CommandBook(
            cover=cover, pages=[types_pb2.CommandPage(command=payload)])), timeout=10)
    standalone.terminate()
    assert standalone.wait_exit() == 0

    (line,) = [e for e in standalone.events("rpc") if e.get("correlation_id") == "corr-log"]
    assert line["method"] == "angzarr.CommandHandlerCoordinatorService/HandleCommand"
    assert (line["domain"], line["outcome"], line["level"]) == ("alpha", "OK", "debug")
    assert line["duration_ms"] > 0
    assert "logged" not in json.dumps(line)  # never payloads
    assert not [e for e in standalone.events("rpc") if "health" in e["method"]]
