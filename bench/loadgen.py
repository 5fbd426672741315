"""A lean load generator: ``clients`` concurrent gRPC clients (``grpc.aio``, one channel each) sending
``Add`` commands (``MERGE_COMMUTATIVE``, ``SYNC_MODE_ASYNC``) over a coordinator's Unix socket to
random aggregates, in one or several processes.

Each client sends its next command as soon as the previous one is answered (a closed loop). Latency is
measured per command from send to response; commands sent during the warm-up are not counted. Each
client remembers the aggregate's ``next_sequence`` from the responses it gets, so most commands carry
the right expected sequence; a stale one is rebased by the coordinator (COMMUTATIVE).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
import uuid
from collections import Counter as Tally
from dataclasses import dataclass, field

import grpc

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, types_pb2

ROOT_NAMESPACE = uuid.UUID("6c1d8a56-9c55-4a57-9e1a-1d7c0c2b5e11")
ADD_TYPE_URL = "type.googleapis.com/google.protobuf.Int64Value"
MAX_MESSAGE = 64 * 1024 * 1024
CHANNEL_OPTIONS = [("grpc.max_send_message_length", MAX_MESSAGE), ("grpc.max_receive_message_length", MAX_MESSAGE)]


def aggregate_root(index: int, prefix: str = "counter") -> bytes:
    """The root of the ``index``-th benchmark aggregate (stable across runs and processes)."""
    return uuid.uuid5(ROOT_NAMESPACE, f"{prefix}-{index}").bytes


def add_request(domain: str, root: bytes, sequence: int, amount: int = 1,
                sync_mode: int = types_pb2.SYNC_MODE_ASYNC) -> types_pb2.CommandRequest:
    """A ``CommandRequest`` adding ``amount`` to ``domain``/``root``, expecting ``sequence``."""
    request = types_pb2.CommandRequest(sync_mode=sync_mode)
    book = request.command
    book.cover.domain = domain
    book.cover.root.value = root
    book.cover.correlation_id = uuid.uuid4().hex
    page = book.pages.add()
    page.header.sequence = sequence
    page.merge_strategy = types_pb2.MERGE_COMMUTATIVE
    page.command.type_url = ADD_TYPE_URL
    # Int64Value{value: amount} encoded by hand: field 1, varint.
    page.command.value = b"\x08" + _varint(amount)
    return request


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


@dataclass
class LoadResult:
    """What a load run measured (latencies in seconds, of the commands sent after the warm-up)."""

    latencies: list[float] = field(default_factory=list)
    errors: Tally = field(default_factory=Tally)
    measured_seconds: float = 0.0

    def merge(self, other: LoadResult) -> None:
        self.latencies.extend(other.latencies)
        self.errors.update(other.errors)
        self.measured_seconds = max(self.measured_seconds, other.measured_seconds)


async def _client(socket: str, domain: str, roots: list[bytes], start: float, deadline: float,
                  rng: random.Random, expected: dict[bytes, int], result: LoadResult) -> None:
    async with grpc.aio.insecure_channel(f"unix:{socket}", options=CHANNEL_OPTIONS) as channel:
        stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
        while True:
            sent_wall = time.time()
            if sent_wall >= deadline:
                return
            root = rng.choice(roots)
            request = add_request(domain, root, expected.get(root, 0))
            t0 = time.perf_counter()
            try:
                response = await stub.HandleCommand(request, timeout=30)
            except grpc.aio.AioRpcError as e:
                result.errors[e.code().name] += 1
                continue
            elapsed = time.perf_counter() - t0
            expected[root] = response.events.next_sequence
            if sent_wall >= start:
                result.latencies.append(elapsed)


async def _run(socket: str, domain: str, roots: list[bytes], clients: int, start: float, deadline: float,
               seed: int) -> LoadResult:
    result = LoadResult(measured_seconds=deadline - start)
    expected: dict[bytes, int] = {}
    await asyncio.gather(*(
        _client(socket, domain, roots, start, deadline, random.Random(seed * 1000 + i), expected, result)
        for i in range(clients)
    ))
    return result


def _worker(socket: str, domain: str, roots: list[bytes], clients: int, start: float, deadline: float,
            seed: int, queue: multiprocessing.Queue) -> None:
    result = asyncio.run(_run(socket, domain, roots, clients, start, deadline, seed))
    queue.put((result.latencies, dict(result.errors), result.measured_seconds))


def run_load(socket: str, *, domain: str = "counter", aggregates: int = 1000, clients: int = 16,
             seconds: float = 30.0, warmup: float = 3.0, processes: int = 1, seed: int = 1) -> LoadResult:
    """Drive ``clients`` closed-loop clients for ``warmup`` + ``seconds`` seconds, split over
    ``processes`` processes (1 = in this process), and return the merged measurements."""
    roots = [aggregate_root(i) for i in range(aggregates)]
    start = time.time() + warmup
    deadline = start + seconds
    if processes <= 1:
        return asyncio.run(_run(socket, domain, roots, clients, start, deadline, seed))
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    # The spawned processes take a moment to import; the warm-up starts counting after that.
    start += 2.0
    deadline += 2.0
    procs = [ctx.Process(target=_worker, args=(socket, domain, roots, n, start, deadline, seed + i, queue))
             for i, n in enumerate(shares) if n]
    for p in procs:
        p.start()
    merged = LoadResult()
    for _ in procs:
        latencies, errors, measured = queue.get(timeout=deadline - time.time() + 120)
        merged.merge(LoadResult(latencies, Tally(errors), measured))
    for p in procs:
        p.join(30)
    return merged
