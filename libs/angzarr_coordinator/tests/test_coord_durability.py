"""Acknowledged commands survive ``kill -9`` of the coordinator; an interrupted append is all or
nothing (spec/coordinator.md §13 item 64, pipeline side)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from coord_support import CLIENT_OPTIONS, CoordinatorHarness, aggregate_query, bank_topology, command

from angzarr_client.proto.angzarr import command_handler_pb2_grpc

SCRIPT = Path(__file__).parent / "coord_handlers" / "run_coordinator.py"


def start_coordinator_process(db: Path, socket: Path, handler_socket: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--db", str(db), "--socket", str(socket), "--handler-socket", str(handler_socket)],
        stdout=subprocess.PIPE,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    line = process.stdout.readline().decode().strip()
    if line != "READY":
        process.kill()
        raise RuntimeError(f"coordinator process did not start (said {line!r})")
    return process


def test_acknowledged_commands_survive_kill_9_and_commits_are_whole(tmp_path, bank_service):
    db, socket = tmp_path / "events.db", tmp_path / "crash.sock"
    process = start_coordinator_process(db, socket, bank_service.socket)
    roots = [uuid.uuid4() for _ in range(6)]
    acked: dict[bytes, list[bytes]] = {r.bytes: [] for r in roots}
    lock = threading.Lock()
    stop = threading.Event()
    first_acks = threading.Semaphore(0)

    def client(root: uuid.UUID) -> None:
        with grpc.insecure_channel(f"unix:{socket}", options=CLIENT_OPTIONS) as channel:
            stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
            while not stop.is_set():
                try:
                    response = stub.HandleCommand(command(root=root, events=10), timeout=5)
                except grpc.RpcError:
                    return  # the coordinator died under us
                with lock:
                    acked[root.bytes].extend(p.SerializeToString() for p in response.events.pages)
                first_acks.release()

    try:
        with ThreadPoolExecutor(len(roots)) as pool:
            futures = [pool.submit(client, r) for r in roots]
            for _ in range(30):  # kill while commands are in flight, after some were acknowledged
                first_acks.acquire(timeout=30)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            stop.set()
            for f in futures:
                f.result(30)
    finally:
        if process.poll() is None:
            process.kill()
    harness = CoordinatorHarness(db, bank_topology(str(bank_service.socket)), tmp_path / "after.sock")
    try:
        total_acked = 0
        for root in roots:
            book = harness.queries.GetEventBook(aggregate_query("bank", root))
            stored = [p.SerializeToString() for p in book.pages]
            assert stored[: len(acked[root.bytes])] == acked[root.bytes]  # every acknowledged page, as acked
            assert len(stored) % 10 == 0  # whole commits only
            assert [p.header.sequence for p in book.pages] == list(range(len(stored)))
            total_acked += len(acked[root.bytes])
        assert total_acked >= 300
    finally:
        harness.close()
