"""Support for reaction tests: the shop services (real processes) and a coordinator with delivery on.

Topology (``shop_topology``):

- service ``order``: aggregate ``order``, saga ``order-saga`` (listens ``order``, emits ``stock``,
  ``order``), projector ``order-view`` (listens ``order``, ``stock``);
- service ``stock``: aggregate ``stock``;
- service ``flow``: process manager ``fulfil`` (listens ``order``, emits ``stock``).

What a command does downstream is carried in its fields (see ``reactors/shop_service.py``): ``saga``
and ``pm`` lists of commands, ``project_fail``, ``saga_fail``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import grpc

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.topology import (
    CommandHandlerSpec,
    Limits,
    ProjectorSpec,
    ReactorSpec,
    ServiceSpec,
    Topology,
)

SHOP_SCRIPT = Path(__file__).parent / "reactors" / "shop_service.py"
# A generous handler timeout: fresh connections on a loaded machine can take seconds.
REACT_LIMITS = Limits(handler_timeout=5.0, delivery_max_attempts=3, dispatch_max_attempts=3)


class ShopProcess:
    def __init__(self, name: str, socket: Path, calls: Path, process: subprocess.Popen) -> None:
        self.name, self.socket, self.calls_path, self.process = name, socket, calls, process

    def calls(self, role: str | None = None, root: uuid.UUID | None = None) -> list[dict]:
        if not self.calls_path.exists():
            return []
        out = [json.loads(line) for line in self.calls_path.read_text().splitlines() if line]
        return [c for c in out if (role is None or c["role"] == role) and (root is None or c["root"] == root.hex)]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_shop_process(directory: Path, name: str, *args: str) -> ShopProcess:
    socket, calls = directory / f"{name}.sock", directory / f"{name}-calls.jsonl"
    process = subprocess.Popen(
        [sys.executable, str(SHOP_SCRIPT), "--socket", str(socket), "--calls", str(calls), *args],
        stdout=subprocess.PIPE, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    line = process.stdout.readline().decode().strip()
    if line != "READY":
        process.kill()
        raise RuntimeError(f"shop service {name} did not start (said {line!r})")
    with grpc.insecure_channel(f"unix:{socket}") as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
    return ShopProcess(name, socket, calls, process)


class Shop:
    """The three shop processes; ``view_db`` is the projector's read model."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.view_db = directory / "order-view.db"
        self.order = start_shop_process(directory, "order", "--domain", "order", "--saga",
                                        "--projector-db", str(self.view_db), "--projector-name", "order-view")
        self.stock = start_shop_process(directory, "stock", "--domain", "stock")
        self.flow = start_shop_process(directory, "flow", "--pm")

    def stop(self) -> None:
        for p in (self.order, self.stock, self.flow):
            p.stop()

    def view(self, domain: str, root: uuid.UUID) -> list[tuple[int, str]]:
        """The projector's rows for one aggregate: (sequence, kind), ascending."""
        conn = sqlite3.connect(self.view_db, timeout=10)
        try:
            return [tuple(r) for r in conn.execute(
                "SELECT seq, kind FROM seen WHERE domain = ? AND root = ? ORDER BY seq", (domain, root.hex))]
        finally:
            conn.close()


def shop_topology(shop: Shop) -> Topology:
    return Topology(services=(
        ServiceSpec(name="order", endpoint=str(shop.order.socket), command_handler=CommandHandlerSpec("order"),
                    saga=ReactorSpec("order-saga", ("order",), ("stock", "order")),
                    projector=ProjectorSpec("order-view", ("order", "stock"))),
        ServiceSpec(name="stock", endpoint=str(shop.stock.socket), command_handler=CommandHandlerSpec("stock")),
        ServiceSpec(name="flow", endpoint=str(shop.flow.socket),
                    process_manager=ReactorSpec("fulfil", ("order",), ("stock",))),
    ))


def order(op: str = "place", *, root: uuid.UUID, domain: str = "order", sync_mode: int = 0,
          cascade_error_mode: int = 0, correlation_id: str = "", **fields) -> types_pb2.CommandRequest:
    from coord_support import command

    request = command(op, domain=domain, root=root, sequence=None, correlation_id=correlation_id,
                      sync_mode=sync_mode, **fields)
    request.cascade_error_mode = cascade_error_mode
    return request


def reserve(root: uuid.UUID, qty: int, **extra) -> dict:
    return {"domain": "stock", "op": "reserve", "root": str(root), "qty": qty, **extra}


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)


def delivering_harness(directory: Path, shop: Shop, limits: Limits = REACT_LIMITS):
    """A ``CoordinatorHarness`` over ``shop_topology(shop)`` in ``directory``, with delivery started."""
    from coord_support import CoordinatorHarness

    harness = CoordinatorHarness(directory / "events.db", shop_topology(shop), directory / "c.sock", limits=limits)
    harness.run(harness.coordinator.start_delivery())
    return harness


def event_kinds(harness, domain: str, root: uuid.UUID) -> list[str]:
    """The ``kind`` of each stored event of one aggregate, in order."""
    return [e["kind"] for e in events_of(harness, domain, root)]


def events_of(harness, domain: str, root: uuid.UUID) -> list[dict]:
    """Stored events of one aggregate as dicts (Struct payloads), with ``seq``."""
    from coord_support import aggregate_query, struct_of

    book = harness.queries.GetEventBook(aggregate_query(domain, root))
    return [dict(struct_of(p.event), seq=p.header.sequence) for p in book.pages]
