"""The CLI next to a running ``angzarr standalone``: inspection while it holds the store, and ``tail``."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import grpc
from google.protobuf import any_pb2, wrappers_pb2
from runtime_harness import ANGZARR, echo_service

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, types_pb2


def send(target: str, domain: str, text: str, root: uuid.UUID, correlation_id: str) -> None:
    payload = any_pb2.Any()
    payload.Pack(wrappers_pb2.StringValue(value=text))
    request = types_pb2.CommandRequest(command=types_pb2.CommandBook(
        cover=types_pb2.Cover(domain=domain, root=types_pb2.UUID(value=root.bytes), correlation_id=correlation_id),
        pages=[types_pb2.CommandPage(command=payload)],
    ))
    with grpc.insecure_channel(target) as channel:
        command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel).HandleCommand(request, timeout=10)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ANGZARR), *args], capture_output=True, text=True, timeout=60)


def test_inspection_works_while_standalone_holds_the_store(standalone):
    standalone.write_config([echo_service("alpha")])
    standalone.start()
    standalone.wait_ready("alpha")
    root = uuid.uuid4()
    send(standalone.target("alpha"), "alpha", "hello", root, "c-live")

    domains = cli("domains", "-c", str(standalone.config_path), "--json")
    assert domains.returncode == 0, domains.stderr
    assert json.loads(domains.stdout) == [{"domain": "alpha", "aggregates": 1, "events": 1, "head_position": 1}]
    shown = cli("show", "alpha", str(root), "-c", str(standalone.config_path), "--json")
    assert json.loads(shown.stdout)["events"][0]["event"] == {
        "@type": "type.googleapis.com/google.protobuf.StringValue", "value": "hello"}
    # Migrating under a running standalone is refused: it needs the store's lock.
    migrate = cli("db", "migrate", "-c", str(standalone.config_path))
    assert migrate.returncode == 1 and "is in use by process" in migrate.stderr


def test_tail_prints_history_then_live_events(standalone):
    standalone.write_config([echo_service("alpha"), echo_service("beta")])
    standalone.start()
    standalone.wait_ready("beta")
    first, second = uuid.uuid4(), uuid.uuid4()
    send(standalone.target("alpha"), "alpha", "before", first, "c-tail")
    send(standalone.target("alpha"), "alpha", "other", first, "c-other")

    tail = subprocess.Popen([str(ANGZARR), "tail", "c-tail", "-c", str(standalone.config_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        history = json.loads(tail.stdout.readline())
        assert (history["domain"], history["root"], history["sequence"]) == ("alpha", str(first), 0)
        assert history["event"]["value"] == "before"

        send(standalone.target("beta"), "beta", "live", second, "c-tail")
        live = json.loads(tail.stdout.readline())
        assert (live["domain"], live["root"], live["sequence"], live["event"]["value"]) == ("beta", str(second), 0, "live")
    finally:
        tail.terminate()
        tail.wait(30)

    # The stream ends when standalone shuts down: tail reports it and fails.
    tail = subprocess.Popen([str(ANGZARR), "tail", "c-tail", "--endpoint", standalone.target("beta")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert json.loads(tail.stdout.readline())["event"]["value"] == "before"
    standalone.terminate()
    assert tail.wait(60) == 1
    assert "stream ended: UNAVAILABLE" in tail.stderr.read()
    assert standalone.wait_exit() == 0


def test_tail_usage_and_unreachable_endpoint(standalone):
    standalone.write_config([echo_service("alpha")])
    standalone.start()
    standalone.wait_ready("alpha")
    bad = cli("tail", "has.dot", "--endpoint", standalone.target("alpha"))
    assert bad.returncode == 2 and "correlation" in bad.stderr.lower()
    assert cli("tail", "x").returncode == 2  # no endpoint, no config
    gone = cli("tail", "c", "--endpoint", f"unix:{standalone.root}/nothing.sock")
    assert gone.returncode == 1 and "UNAVAILABLE" in gone.stderr


def test_dlq_replay_of_a_manual_mismatch_through_the_running_standalone(standalone):
    standalone.write_config([echo_service("alpha")])
    standalone.start()
    standalone.wait_ready("alpha")
    root = uuid.uuid4()
    send(standalone.target("alpha"), "alpha", "first", root, "c-dlq")
    payload = any_pb2.Any()
    payload.Pack(wrappers_pb2.StringValue(value="manual"))
    stale = types_pb2.CommandRequest(command=types_pb2.CommandBook(
        cover=types_pb2.Cover(domain="alpha", root=types_pb2.UUID(value=root.bytes), correlation_id="c-dlq"),
        pages=[types_pb2.CommandPage(header=types_pb2.PageHeader(sequence=0), merge_strategy=types_pb2.MERGE_MANUAL,
                                     command=payload)],
    ))
    with grpc.insecure_channel(standalone.target("alpha")) as channel:
        try:
            command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel).HandleCommand(stale, timeout=10)
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.ABORTED
        else:
            raise AssertionError("a stale MANUAL command must be ABORTED")
    config = str(standalone.config_path)
    (letter,) = json.loads(cli("dlq", "list", "-c", config, "--json").stdout)

    # Replayed as is, the command is still stale: the failure is recorded and reported.
    again = cli("dlq", "replay", str(letter["id"]), "-c", config, "--wait", "30")
    assert again.returncode == 1 and "ABORTED" in again.stderr, again.stdout + again.stderr
    # Rebased onto the current next sequence, it applies.
    rebased = cli("dlq", "replay", str(letter["id"]), "--rebase", "-c", config, "--wait", "30")
    assert rebased.returncode == 0 and "replayed" in rebased.stdout, rebased.stderr
    shown = json.loads(cli("show", "alpha", str(root), "-c", config, "--json").stdout)
    assert [e["event"]["value"] for e in shown["events"]] == ["first", "manual"]
    assert json.loads(cli("dlq", "show", str(letter["id"]), "-c", config).stdout)["status"] == "replayed"


def test_checkpoints_are_saved_at_shutdown_and_lag_reads_them(standalone):
    """Item 69's "checkpoints saved": after SIGTERM the projector's checkpoint covers every event."""
    projector = echo_service("alpha", env={"ECHO_PROJECTOR": "alpha-log"})
    projector["hosts"]["projector"] = {"name": "alpha-log", "listen": ["alpha"]}
    standalone.write_config([projector])
    standalone.start()
    standalone.wait_ready("alpha")
    roots = [uuid.uuid4() for _ in range(3)]
    for i, root in enumerate(roots):
        send(standalone.target("alpha"), "alpha", f"e{i}", root, f"c-lag-{i}")
    log = standalone.state / "projected.log"
    deadline = time.monotonic() + 60
    while not (log.exists() and len(log.read_text().splitlines()) >= 3):
        assert time.monotonic() < deadline, standalone.logs()
        time.sleep(0.05)
    standalone.terminate()
    assert standalone.wait_exit() == 0

    (row,) = json.loads(cli("lag", "-c", str(standalone.config_path), "--json").stdout)
    assert {k: row[k] for k in ("subscriber", "kind", "checkpoint", "watermark", "lag_events", "state")} == {
        "subscriber": "alpha-log", "kind": "projector", "checkpoint": 3, "watermark": 3, "lag_events": 0,
        "state": "caught up"}
    assert sorted(log.read_text().splitlines()) == ["alpha 0"] * 3  # each aggregate's event, once
