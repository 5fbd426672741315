"""``angzarr standalone`` as a real process with real business services (spec/coordinator.md §10.1–§10.3,
checklist items 68 and 69)."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid

import grpc
import pytest
from google.protobuf import any_pb2, wrappers_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from runtime_harness import ANGZARR, echo_service, free_port, health_status, pid_alive

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, query_pb2_grpc, stream_pb2_grpc, types_pb2


def command(domain: str, text: str, root: uuid.UUID | None = None, correlation_id: str = "") -> types_pb2.CommandRequest:
    payload = any_pb2.Any()
    payload.Pack(wrappers_pb2.StringValue(value=text))
    cover = types_pb2.Cover(domain=domain, root=types_pb2.UUID(value=(root or uuid.uuid4()).bytes),
                            correlation_id=correlation_id)
    return types_pb2.CommandRequest(
        command=types_pb2.CommandBook(cover=cover, pages=[types_pb2.CommandPage(command=payload)])
    )


def send(target: str, request: types_pb2.CommandRequest):
    with grpc.insecure_channel(target) as channel:
        return command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel).HandleCommand(request, timeout=10)


def send_when_reconnected(target: str, request: types_pb2.CommandRequest, attempts: int = 100):
    """Send, retrying while the coordinator's channel to a just-restarted service is still in its
    reconnect backoff (gRPC's, up to a second or two); any other failure is raised at once."""
    for _ in range(attempts):
        try:
            return send(target, request)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNAVAILABLE or "is unreachable" not in e.details():
                raise
        time.sleep(0.05)
    return send(target, request)


def test_command_round_trip_on_every_listener_and_query_back(standalone):
    standalone.write_config([echo_service("alpha"), echo_service("beta")], tcp=True)
    standalone.start()
    standalone.wait_ready("beta")
    root = uuid.uuid4()

    # Each listener serves every domain: a beta command through alpha's socket and over TCP.
    first = send(standalone.target("alpha"), command("beta", "one", root))
    second = send(standalone.tcp, command("beta", "two", root))

    assert [p.header.sequence for p in first.events.pages] == [0]
    assert [p.header.sequence for p in second.events.pages] == [1]
    assert second.events.next_sequence == 2
    with grpc.insecure_channel(standalone.target("beta")) as channel:
        book = query_pb2_grpc.EventQueryServiceStub(channel).GetEventBook(
            types_pb2.Query(cover=types_pb2.Cover(domain="beta", root=types_pb2.UUID(value=root.bytes))), timeout=10
        )
    values = [wrappers_pb2.StringValue.FromString(p.event.value).value for p in book.pages]
    assert values == ["one", "two"]


def test_health_on_every_listener_for_overall_and_each_service(standalone):
    standalone.write_config([echo_service("alpha"), echo_service("beta")], tcp=True)
    standalone.start()
    standalone.wait_ready("beta")

    for target in (standalone.target("alpha"), standalone.target("beta"), standalone.tcp):
        assert health_status(target, "") == "SERVING"
        assert health_status(target, "alpha") == "SERVING"
        assert health_status(target, "beta") == "SERVING"
        assert health_status(target, "gamma") == "NOT_FOUND"


def test_socket_directory_is_0700_and_sockets_0600(standalone):
    standalone.write_config([echo_service("alpha")])
    standalone.start()
    standalone.wait_ready("alpha")

    assert stat.S_IMODE(standalone.uds_base.stat().st_mode) == 0o700
    mode = standalone.socket("alpha").stat().st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600


def test_services_get_the_runtime_environment_and_their_env_last(standalone):
    tcp_port = free_port()
    standalone.write_config([
        echo_service("alpha", env={"SERVICE_NAME": "biz", "LOG_LEVEL": "debug"}),
        echo_service("beta", transport="tcp", port=tcp_port),
    ])
    standalone.start()
    standalone.wait_ready("beta")

    alpha = standalone.service_env("alpha")
    assert alpha["ANGZARR_MODE"] == "standalone"
    assert alpha["ANGZARR_UDS_BASE"] == str(standalone.uds_base)
    assert alpha["OTEL_SERVICE_NAME"] == "alpha"
    assert alpha["DOMAIN"] == "alpha"
    assert alpha["TRANSPORT_TYPE"] == "uds"
    assert alpha["UDS_BASE_PATH"] == str(standalone.uds_base)
    assert alpha["SERVICE_NAME"] == "biz"  # the service's env wins over the runtime's
    assert alpha["LOG_LEVEL"] == "debug"
    beta = standalone.service_env("beta")
    assert (beta["TRANSPORT_TYPE"], beta["PORT"], beta["BIND_HOST"]) == ("tcp", str(tcp_port), "127.0.0.1")
    assert beta["SERVICE_NAME"] == "business"

    # Service output is re-logged with the service name; JSON lines stay structured.
    relayed = [e for e in standalone.events("service_output") if e["service"] == "alpha"]
    assert {"service": "alpha", "stream": "stdout", "child": {"event": "echo_ready", "domain": "alpha"}}.items() \
        <= next(e for e in relayed if "child" in e).items()
    assert any(e.get("line") == "echo alpha: a line on stderr" and e["stream"] == "stderr" for e in relayed)

    # The coordinator reaches each service where those values put it.
    assert (standalone.uds_base / "biz-alpha.sock").exists()
    assert send(standalone.target("alpha"), command("alpha", "x")).events.next_sequence == 1
    assert send(standalone.target("alpha"), command("beta", "y")).events.next_sequence == 1


def test_killed_service_restarts_with_backoff_and_is_unavailable_meanwhile(standalone):
    """Checklist item 68."""
    standalone.write_config([echo_service("alpha"), echo_service("beta")])
    standalone.start()
    standalone.wait_ready("beta")
    target = standalone.target("alpha")
    first_pid = standalone.service_pid("alpha")

    os.kill(first_pid, signal.SIGKILL)
    # Until the supervisor notices, the handler is merely unreachable; then it is restarting. Either
    # way the command is UNAVAILABLE and nothing is stored.
    while True:
        with pytest.raises(grpc.RpcError) as info:
            send(target, command("alpha", "during restart"))
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE, info.value.details()
        if "restarting" in info.value.details():
            break
        time.sleep(0.02)
    assert health_status(target, "alpha") == "NOT_SERVING"
    assert health_status(target, "beta") == "SERVING"
    assert health_status(target, "") == "SERVING"

    standalone.wait_event("service_restarted")
    assert health_status(target, "alpha") == "SERVING"
    assert send_when_reconnected(target, command("alpha", "after restart")).events.next_sequence == 1
    second_pid = standalone.service_pid("alpha")
    assert second_pid != first_pid and not pid_alive(first_pid)

    # A second crash soon after: the delay doubles.
    os.kill(second_pid, signal.SIGKILL)
    standalone.wait_event("service_restarted", count=2)
    delays = [e["restart_in_seconds"] for e in standalone.events("service_exited") if e["service"] == "alpha"]
    assert delays == [0.5, 1.0]
    assert send_when_reconnected(target, command("alpha", "again")).events.next_sequence == 1


def test_sigterm_drains_stops_services_removes_sockets_and_exits_0(standalone):
    """Checklist item 69."""
    standalone.write_config([echo_service("alpha"), echo_service("beta")], tcp=True)
    standalone.start()
    standalone.wait_ready("beta")
    pids = {d: standalone.service_pid(d) for d in ("alpha", "beta")}
    correlation = "corr-sigterm"
    send(standalone.target("alpha"), command("alpha", "before", correlation_id=correlation))

    # A health watcher and an open event stream see the shutdown.
    channel = grpc.insecure_channel(standalone.target("alpha"))
    watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    stream = stream_pb2_grpc.EventStreamServiceStub(channel).Subscribe(
        types_pb2.EventStreamFilter(correlation_id=correlation)
    )
    assert [p.header.sequence for p in next(stream).pages] == [0]
    stream_end: list[grpc.StatusCode] = []

    def drain_stream():
        try:
            for _ in stream:
                pass
            stream_end.append(grpc.StatusCode.OK)
        except grpc.RpcError as e:
            stream_end.append(e.code())

    reader = threading.Thread(target=drain_stream)
    reader.start()

    standalone.terminate(signal.SIGTERM)
    assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert standalone.wait_exit() == 0
    reader.join(30)
    channel.close()

    assert stream_end == [grpc.StatusCode.UNAVAILABLE]
    assert not any(pid_alive(p) for p in pids.values())
    assert list(standalone.uds_base.iterdir()) == []  # client and service sockets removed
    assert not standalone.db.with_name("angzarr.db.lock").exists()
    stopped = [e["service"] for e in standalone.events("service_stopped")]
    assert stopped == ["beta", "alpha"]  # reverse start order
    assert standalone.events("standalone_stopped")


def test_second_signal_skips_to_the_kills(standalone):
    standalone.write_config([echo_service("alpha", env={"ECHO_IGNORE_SIGTERM": "1"})])
    standalone.start()
    standalone.wait_ready("alpha")
    pid = standalone.service_pid("alpha")

    standalone.terminate(signal.SIGTERM)
    standalone.wait_event("shutdown_requested")
    standalone.terminate(signal.SIGINT)
    assert standalone.wait_exit() == 0
    assert standalone.events("shutdown_hurried")
    assert not pid_alive(pid)
    assert list(standalone.uds_base.iterdir()) == []


def test_service_ignoring_sigterm_is_killed_after_the_grace(standalone):
    standalone.write_config([echo_service("alpha", env={"ECHO_IGNORE_SIGTERM": "1"})])
    standalone.start()
    standalone.wait_ready("alpha")
    pid = standalone.service_pid("alpha")

    standalone.terminate(signal.SIGTERM)
    assert standalone.wait_exit() == 0
    assert [e["service"] for e in standalone.events("service_killed")] == ["alpha"]
    assert not pid_alive(pid)


def test_service_that_never_becomes_healthy_fails_startup_with_its_stderr(standalone):
    standalone.write_config([echo_service("alpha"), echo_service("beta", env={"ECHO_FAIL_AT_START": "no licence"})])
    standalone.start()
    assert standalone.wait_exit() == 1
    failure = standalone.events("standalone_failed")
    assert len(failure) == 1
    assert "service 'beta' exited with code 3" in failure[0]["reason"]
    assert "refusing to start: no licence" in failure[0]["reason"]
    assert not pid_alive(standalone.service_pid("alpha"))  # the healthy one was stopped again
    assert not standalone.socket("alpha").exists()


def test_stale_client_socket_is_replaced(standalone):
    standalone.uds_base.mkdir(mode=0o700)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(standalone.socket("alpha")))
    stale.close()  # the file stays; nothing answers on it
    standalone.write_config([echo_service("alpha")])
    standalone.start()
    standalone.wait_ready("alpha")
    assert send(standalone.target("alpha"), command("alpha", "x")).events.next_sequence == 1


def test_socket_someone_answers_on_fails_startup(standalone):
    standalone.uds_base.mkdir(mode=0o700)
    live = socket.socket(socket.AF_UNIX)
    live.bind(str(standalone.socket("alpha")))
    live.listen()
    try:
        standalone.write_config([echo_service("alpha")])
        standalone.start()
        assert standalone.wait_exit() == 1
    finally:
        live.close()
    reason = standalone.events("standalone_failed")[0]["reason"]
    assert "another process is serving on" in reason
    assert not (standalone.state / "alpha.pid").exists()  # failed before starting any service


def test_socket_base_writable_by_others_or_owned_by_another_user_fails_startup(standalone):
    standalone.uds_base.mkdir()
    os.chmod(standalone.uds_base, 0o777)
    standalone.write_config([echo_service("alpha")])
    standalone.start()
    assert standalone.wait_exit() == 1
    assert "is writable by others" in standalone.events("standalone_failed")[0]["reason"]

    if os.geteuid() == 0:  # only root can hand a directory to another user
        os.chmod(standalone.uds_base, 0o700)
        os.chown(standalone.uds_base, 65534, 65534)
        standalone.stdout_path.unlink()
        standalone.start()
        assert standalone.wait_exit() == 1
        reason = standalone.events("standalone_failed")[0]["reason"]
        assert "belongs to uid 65534" in reason and "ANGZARR_UDS_BASE" in reason


def test_angzarr_uds_base_overrides_the_file(standalone):
    standalone.write_config([echo_service("alpha")])
    moved = standalone.root / "m"
    standalone.start(ANGZARR_UDS_BASE=str(moved))
    standalone.uds_base = moved
    standalone.wait_ready("alpha")
    assert stat.S_IMODE(moved.stat().st_mode) == 0o700
    assert standalone.service_env("alpha")["UDS_BASE_PATH"] == str(moved)


def test_tcp_listener_address_in_use_fails_startup(standalone):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        standalone.write_config([echo_service("alpha")], tcp=True)
        config = standalone.config_path.read_text().replace(standalone.tcp, f"127.0.0.1:{busy.getsockname()[1]}")
        standalone.config_path.write_text(config)
        standalone.start()
        assert standalone.wait_exit() == 1
    finally:
        busy.close()
    assert "cannot listen on 127.0.0.1:" in standalone.events("standalone_failed")[0]["reason"]
    assert not pid_alive(standalone.service_pid("alpha"))
    assert list(standalone.uds_base.iterdir()) == []


def test_unsupported_dead_letter_kinds_are_answered_at_once(standalone):
    import sqlite3

    from angzarr_coordinator.store.sqlite import writes

    standalone.write_config([echo_service("alpha")])
    standalone.start()
    standalone.wait_ready("alpha")
    conn = sqlite3.connect(standalone.db, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("BEGIN IMMEDIATE")
    letter_id = writes.add_dead_letter(conn, types_pb2.AngzarrDeadLetter(
        cover=types_pb2.Cover(domain="alpha", root=types_pb2.UUID(value=uuid.uuid4().bytes)),
        rejected_events=types_pb2.EventBook(), rejection_reason="poison", source_component="log",
        source_component_type="projector"), "log")
    conn.execute("COMMIT")
    conn.close()
    result = subprocess.run([str(ANGZARR), "dlq", "replay", str(letter_id), "-c", str(standalone.config_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "no subscriber 'log' in this topology" in result.stderr


def test_a_service_socket_still_answering_fails_startup(standalone):
    """E.g. a service left running by a standalone that was killed with SIGKILL."""
    standalone.uds_base.mkdir(mode=0o700)
    orphan = socket.socket(socket.AF_UNIX)
    orphan.bind(str(standalone.uds_base / "business-alpha.sock"))
    orphan.listen()
    try:
        standalone.write_config([echo_service("alpha")])
        standalone.start()
        assert standalone.wait_exit() == 1
    finally:
        orphan.close()
    reason = standalone.events("standalone_failed")[0]["reason"]
    assert "another process is serving on" in reason and "business-alpha.sock" in reason


def test_in_flight_commands_finish_during_the_drain_and_new_ones_are_refused(standalone):
    standalone.write_config([echo_service("alpha", env={"ECHO_DELAY": "4"})])
    standalone.start()
    standalone.wait_ready("alpha")
    channel = grpc.insecure_channel(standalone.target("alpha"))
    stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
    in_flight = stub.HandleCommand.future(command("alpha", "slow"), timeout=30)
    while not (standalone.state / "handling").exists():
        time.sleep(0.01)

    standalone.terminate()
    standalone.wait_event("shutdown_requested")
    # The handler holds the first command for 4 s, so the late one arrives while the drain is under way
    # even on a loaded machine (once the drain ends the server closes and a call would be CANCELLED).
    assert not in_flight.done()
    with pytest.raises(grpc.RpcError) as refused:
        stub.HandleCommand(command("alpha", "late"), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert in_flight.result().events.next_sequence == 1  # the command in flight completed
    assert standalone.wait_exit() == 0
    channel.close()


def test_a_signal_during_startup_stops_what_was_started_and_exits_0(standalone):
    hang = ("import os, time; open(os.path.join(os.environ['ECHO_STATE_DIR'], 'slow.pid'), 'w')"
            ".write(str(os.getpid())); time.sleep(120)")
    standalone.write_config([echo_service("alpha"),
                             {"name": "slow", "command": [sys.executable, "-c", hang],
                              "hosts": {"command_handler": {"domain": "slow"}}}])
    standalone.start()
    pidfile = standalone.state / "slow.pid"
    while not (pidfile.exists() and pidfile.read_text()):
        assert standalone.proc.poll() is None, standalone.logs()
        time.sleep(0.02)
    standalone.terminate()
    assert standalone.wait_exit() == 0
    assert not pid_alive(int(pidfile.read_text())) and not pid_alive(standalone.service_pid("alpha"))
    assert list(standalone.uds_base.iterdir()) == []
    assert not standalone.db.with_name("angzarr.db.lock").exists()
