"""Support for coordinator tests: a real business handler process and a real coordinator.

``start_bank_service`` starts ``coord_handlers/bank_handler.py`` on a Unix socket.
``CoordinatorHarness`` starts a ``Coordinator`` on a temporary ``SqliteEventStore`` file, served by
``grpc.aio`` on a Unix socket, in a background event-loop thread, and offers synchronous stubs
(``.commands``, ``.queries``, ``.streams``), the socket path and ``.run(coro)`` to reach the store
from tests. Build your own with ``CoordinatorHarness(...)`` for other topologies,
a TCP listener or a second coordinator sharing the store (``.add_peer``).
``coordinator_on_socket`` and ``ready_until_signalled`` are for coordinator processes of crash tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from google.protobuf import any_pb2, struct_pb2
from google.rpc import status_pb2

from angzarr_client.proto.angzarr import (
    command_handler_pb2_grpc,
    query_pb2_grpc,
    stream_pb2_grpc,
    types_pb2,
)
from angzarr_coordinator.app import Coordinator
from angzarr_coordinator.store.sqlite import SqliteEventStore
from angzarr_coordinator.topology import (
    CommandHandlerSpec,
    Limits,
    ProjectorSpec,
    ReactorSpec,
    ServiceSpec,
    Topology,
)

HANDLER_SCRIPT = Path(__file__).parent / "coord_handlers" / "bank_handler.py"
MAX_MESSAGE = 64 * 1024 * 1024
CLIENT_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.max_metadata_size", 1024 * 1024),
]
# The default handler timeout: a loaded test machine must not turn slow handlers into failures.
TEST_LIMITS = Limits(handler_timeout=10.0)


class BankService:
    """The running handler process: its socket and the log of its ``Handle`` calls."""

    def __init__(self, socket: Path, calls: Path, process: subprocess.Popen) -> None:
        self.socket, self.calls_path, self.process = socket, calls, process
        self._read = 0  # bytes of the log parsed so far; the log only grows
        self._calls: list[dict] = []
        self._lock = threading.Lock()

    def calls(self, tag: str | None = None) -> list[dict]:
        """The handler's ``Handle`` (and ``Replay``) calls so far, optionally only those with ``tag``."""
        with self._lock:
            if self.calls_path.exists():
                with open(self.calls_path, "rb") as f:
                    f.seek(self._read)
                    chunk = f.read()
                complete = chunk[: chunk.rfind(b"\n") + 1]  # a line being written is read next time
                self._read += len(complete)
                self._calls.extend(json.loads(line) for line in complete.splitlines() if line)
            return [c for c in self._calls if tag is None or c["tag"] == tag]


def start_bank_service(directory: Path) -> BankService:
    socket, calls = directory / "bank.sock", directory / "calls.jsonl"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, str(HANDLER_SCRIPT), "--socket", str(socket), "--calls", str(calls)],
        stdout=subprocess.PIPE,
        env=env,
    )
    line = process.stdout.readline().decode().strip()
    if line != "READY":
        process.kill()
        raise RuntimeError(f"bank handler did not start (said {line!r})")
    with grpc.insecure_channel(f"unix:{socket}") as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
    return BankService(socket, calls, process)


def bank_topology(endpoint: str) -> Topology:
    """Domains: ``bank`` (plain), ``upbank`` (upcaster on), ``rawbank`` (snapshot reads off),
    ``ghost`` (unreachable endpoint); projector ``bank-view`` on ``bank``; PM state domain ``flow``."""
    return Topology(
        services=(
            ServiceSpec(name="bank", endpoint=endpoint, command_handler=CommandHandlerSpec("bank"),
                        projector=ProjectorSpec("bank-view", ("bank",))),
            ServiceSpec(name="upbank", endpoint=endpoint, command_handler=CommandHandlerSpec("upbank", upcaster=True)),
            ServiceSpec(name="rawbank", endpoint=endpoint,
                        command_handler=CommandHandlerSpec("rawbank", snapshots_read=False)),
            ServiceSpec(name="ghost", endpoint="/nonexistent/angzarr-ghost.sock",
                        command_handler=CommandHandlerSpec("ghost")),
            ServiceSpec(name="flowsvc", endpoint=endpoint,
                        process_manager=ReactorSpec("flow", ("bank",), ("bank",))),
        )
    )


class CoordinatorHarness:
    """A ``Coordinator`` on a SQLite file, served by ``grpc.aio`` in its own event-loop thread."""

    def __init__(
        self,
        db_path: Path,
        topology: Topology,
        socket: Path,
        *,
        limits: Limits = TEST_LIMITS,
        tcp: bool = False,
        sidecar_domain: str | None = None,
    ) -> None:
        self.db_path, self.topology, self.socket, self.limits = db_path, topology, socket, limits
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="coordinator-loop")
        self.thread.start()
        self.servers: list[grpc.aio.Server] = []
        self.coordinators: list[Coordinator] = []
        self.channels: list[grpc.Channel] = []
        self.tcp_port: int | None = None
        self.store = self.run(self._open_store())
        self.coordinator = self.run(self._serve(socket, tcp=tcp, sidecar_domain=sidecar_domain))
        self.channel = self.connect(f"unix:{socket}")
        self.commands = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(self.channel)
        self.queries = query_pb2_grpc.EventQueryServiceStub(self.channel)
        self.streams = stream_pb2_grpc.EventStreamServiceStub(self.channel)

    def run(self, coro, timeout: float = 60):
        """Run ``coro`` on the coordinator's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def connect(self, target: str) -> grpc.Channel:
        channel = grpc.insecure_channel(target, options=CLIENT_OPTIONS)
        self.channels.append(channel)
        return channel

    async def _open_store(self) -> SqliteEventStore:
        store = SqliteEventStore(self.db_path, synchronous="normal")
        await store.open()
        return store

    async def _serve(self, socket: Path, *, tcp: bool = False, sidecar_domain: str | None = None) -> Coordinator:
        coordinator = Coordinator(self.store, self.topology, self.limits, sidecar_domain=sidecar_domain)
        await coordinator.start()
        server = grpc.aio.server(options=CLIENT_OPTIONS)
        coordinator.register(server)
        server.add_insecure_port(f"unix:{socket}")
        if tcp:
            self.tcp_port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        self.servers.append(server)
        self.coordinators.append(coordinator)
        return coordinator

    def add_peer(self, socket: Path) -> command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub:
        """A second coordinator on the same store (its own cache and locks, like another replica)."""
        self.run(self._serve(socket))
        return command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(self.connect(f"unix:{socket}"))

    def dead_letters(self):
        return self.run(self.store.list_dead_letters())

    def event_count(self) -> int:
        return sum(d.events for d in self.run(self.store.domains()))

    def close(self) -> None:
        for ch in self.channels:
            ch.close()

        async def shutdown():
            for coordinator in self.coordinators:
                await coordinator.stop(grace=1)
            for server in self.servers:
                await server.stop(0.5)
            await self.store.close()

        try:
            self.run(shutdown())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


# -- a coordinator process -------------------------------------------------------------------------
@asynccontextmanager
async def coordinator_on_socket(
    store: SqliteEventStore, topology: Topology, socket: str, limits: Limits = Limits()  # noqa: B008 - frozen
) -> AsyncIterator[Coordinator]:
    """Open ``store``, start a ``Coordinator`` over ``topology`` served on the Unix ``socket``; stop all on exit."""
    await store.open()
    coordinator = Coordinator(store, topology, limits)
    await coordinator.start()
    server = grpc.aio.server(options=CLIENT_OPTIONS)
    coordinator.register(server)
    server.add_insecure_port(f"unix:{socket}")
    await server.start()
    try:
        yield coordinator
    finally:
        await coordinator.stop(grace=1)
        await server.stop(1)
        await store.close()


async def ready_until_signalled() -> None:
    """Print ``READY`` on stdout (the parent test waits for it), then wait for SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("READY", flush=True)
    await stop.wait()


# -- request builders ------------------------------------------------------------------------------
def struct_any(**fields) -> any_pb2.Any:
    s = struct_pb2.Struct()
    s.update(fields)
    a = any_pb2.Any()
    a.Pack(s)
    return a


def struct_of(a: any_pb2.Any) -> dict:
    s = struct_pb2.Struct()
    a.Unpack(s)
    return dict(s)


def cover(domain: str = "bank", root: uuid.UUID | None = None, correlation_id: str = "") -> types_pb2.Cover:
    return types_pb2.Cover(
        domain=domain, root=types_pb2.UUID(value=(root or uuid.uuid4()).bytes), correlation_id=correlation_id
    )


def command(
    op: str = "deposit",
    *,
    domain: str = "bank",
    root: uuid.UUID | None = None,
    sequence: int | None = 0,
    merge: int = types_pb2.MERGE_COMMUTATIVE,
    correlation_id: str = "",
    sync_mode: int = types_pb2.SYNC_MODE_ASYNC,
    deferred: types_pb2.AngzarrDeferredSequence | None = None,
    **fields,
) -> types_pb2.CommandRequest:
    """A one-page ``CommandRequest`` whose payload is ``Struct(op=op, **fields)``."""
    book = types_pb2.CommandBook(cover=cover(domain, root, correlation_id))
    page = book.pages.add(merge_strategy=merge)
    page.command.CopyFrom(struct_any(op=op, **fields))
    if deferred is not None:
        page.header.angzarr_deferred.CopyFrom(deferred)
    elif sequence is not None:
        page.header.sequence = sequence
    return types_pb2.CommandRequest(command=book, sync_mode=sync_mode)


def aggregate_query(domain: str, root: uuid.UUID) -> types_pb2.Query:
    return types_pb2.Query(cover=types_pb2.Cover(domain=domain, root=types_pb2.UUID(value=root.bytes)))


def status_details(err: grpc.RpcError) -> tuple[status_pb2.Status, list]:
    raw = dict(err.trailing_metadata() or ()).get("grpc-status-details-bin")
    assert raw is not None, "no rich error details"
    status = status_pb2.Status.FromString(raw)
    out = []
    for any_msg in status.details:
        for cls in (types_pb2.SequenceMismatchDetails, types_pb2.EventBook):
            if any_msg.Is(cls.DESCRIPTOR):
                msg = cls()
                any_msg.Unpack(msg)
                out.append(msg)
    return status, out


def fill(coordinator, root: uuid.UUID, count: int, *, domain: str = "bank", payload: int = 0, per_fact: int = 100):
    """Store ``count`` events as facts of ``per_fact`` pages, each page ``payload`` bytes."""
    done = 0
    while done < count:
        n = min(per_fact, count - done)
        book = types_pb2.EventBook(cover=cover(domain, root))
        for i in range(n):
            page = book.pages.add()
            page.event.type_url = "type.googleapis.com/test.Blob"
            page.event.value = b"\x07" * payload
            if i == 0:
                page.header.external_deferred.external_id = f"fill-{done}"
        coordinator.commands.HandleEvent(types_pb2.EventRequest(events=book))
        done += n
