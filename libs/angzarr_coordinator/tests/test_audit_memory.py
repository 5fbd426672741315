"""Checklist item 70 at reduced scale: memory stays bounded while commands touch many distinct aggregates.

20,000 aggregates (the 1,000,000 of the checklist is left to ``bench/``) each get a command over gRPC
through a real coordinator, SQLite file and handler process. Behaviour, not timing: the aggregate
cache never holds more than its configured byte bound, and no container reachable from the coordinator
(cache, locks, routes, channels, the store's own structures) grows with the number of aggregates.
"""

from __future__ import annotations

import asyncio
import threading
import types
import uuid
from collections import deque
from collections.abc import Mapping

import grpc
import pytest
from coord_support import (
    CLIENT_OPTIONS,
    CoordinatorHarness,
    aggregate_query,
    bank_topology,
    command,
    start_bank_service,
)
from google.protobuf.message import Message

from angzarr_client.proto.angzarr import command_handler_pb2_grpc
from angzarr_coordinator.topology import Limits

CACHE_BYTES = 256 * 1024  # small enough that 20,000 one-event aggregates overflow it many times
WARM_UP, TOTAL, IN_FLIGHT = 2_000, 20_000, 64

_LEAVES = (
    str, bytes, bytearray, int, float, bool, complex, type(None), type, types.ModuleType, types.FunctionType,
    types.BuiltinFunctionType, types.MethodType, types.CodeType, Message, asyncio.AbstractEventLoop,
    threading.Thread,
)


def container_sizes(root: object, *, max_depth: int = 10, sample: int = 32) -> dict[str, int]:
    """``len`` of every container reachable from ``root`` by attributes (and a sample of container
    items), keyed by the attribute path that reached it."""
    sizes: dict[str, int] = {}
    seen: set[int] = set()

    def visit(obj: object, path: str, depth: int) -> None:
        if depth > max_depth or isinstance(obj, _LEAVES) or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, Mapping):
            sizes[path] = len(obj)
            for i, (key, value) in enumerate(list(obj.items())[:sample]):
                label = repr(key) if isinstance(key, str | int) else f"#{i}"
                visit(value, f"{path}[{label}]", depth + 1)
            return
        if isinstance(obj, list | tuple | set | frozenset | deque):
            sizes[path] = len(obj)
            for i, item in enumerate(list(obj)[:sample]):
                visit(item, f"{path}[{i}]", depth + 1)
            return
        names = list(getattr(obj, "__dict__", {}))
        for cls in type(obj).__mro__:
            names.extend(s for s in getattr(cls, "__slots__", ()) if isinstance(s, str))
        for name in dict.fromkeys(names):
            try:
                value = getattr(obj, name)
            except AttributeError:
                continue
            visit(value, f"{path}.{name}", depth + 1)

    visit(root, "coordinator", 0)
    return sizes


async def _touch(target: str, roots: list[uuid.UUID]) -> None:
    gate = asyncio.Semaphore(IN_FLIGHT)
    async with grpc.aio.insecure_channel(target, options=CLIENT_OPTIONS) as channel:
        stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)

        async def one(root: uuid.UUID) -> None:
            async with gate:
                response = await stub.HandleCommand(command("deposit", root=root, amount=1), timeout=60)
                assert [p.header.sequence for p in response.events.pages] == [0]

        await asyncio.gather(*(one(root) for root in roots))


def _cache_state(harness: CoordinatorHarness) -> tuple[int, int]:
    async def read() -> tuple[int, int]:  # on the coordinator's loop: a consistent view
        cache = harness.coordinator.cache
        return cache.bytes, len(cache)

    return harness.run(read())


def _sizes(harness: CoordinatorHarness) -> dict[str, int]:
    async def read() -> dict[str, int]:
        return container_sizes(harness.coordinator)

    return harness.run(read())


@pytest.mark.slow  # about a minute: 20,000 commands through a real handler process
async def test_cache_and_coordinator_structures_stay_bounded_over_20000_aggregates(tmp_path):
    # A handler process of its own: its call log would otherwise grow by 20,000 lines for every later test
    # that reads the shared one.
    bank_service = start_bank_service(tmp_path)
    limits = Limits(handler_timeout=10.0, cache_bytes=CACHE_BYTES)
    harness = CoordinatorHarness(
        tmp_path / "events.db", bank_topology(str(bank_service.socket)), tmp_path / "m.sock", limits=limits
    )
    try:
        target = f"unix:{harness.socket}"
        roots = [uuid.uuid4() for _ in range(TOTAL)]
        await _touch(target, roots[:WARM_UP])
        warm_bytes, warm_entries = _cache_state(harness)
        assert 0 < warm_bytes <= CACHE_BYTES
        before = _sizes(harness)

        peak_bytes, peak_entries = warm_bytes, warm_entries
        for start in range(WARM_UP, TOTAL, 2_000):
            await _touch(target, roots[start:start + 2_000])
            cache_bytes, entries = _cache_state(harness)
            assert cache_bytes <= CACHE_BYTES, cache_bytes
            peak_bytes, peak_entries = max(peak_bytes, cache_bytes), max(peak_entries, entries)
        after = _sizes(harness)

        # The cache was full (it evicted) and kept far fewer aggregates than were touched.
        assert peak_bytes > CACHE_BYTES // 2
        assert peak_entries < TOTAL // 4
        # Nothing else the coordinator holds grows with the aggregates: 18,000 new ones since `before`.
        grown = {path: (before[path], n) for path, n in after.items() if path in before and n - before[path] > 500}
        assert grown == {}, grown
        assert len(before) > 20  # the walk reached the coordinator's parts, not just its top object

        # Every aggregate is still there and correct, evicted or not.
        assert harness.event_count() == TOTAL
        for root in (roots[0], roots[TOTAL // 2], roots[-1]):
            book = harness.queries.GetEventBook(aggregate_query("bank", root))
            assert [p.header.sequence for p in book.pages] == [0]
        evicted_again = harness.commands.HandleCommand(command("deposit", root=roots[0], sequence=1, amount=1))
        assert evicted_again.events.pages[0].header.sequence == 1
    finally:
        harness.close()
        bank_service.process.terminate()
        bank_service.process.wait(10)
