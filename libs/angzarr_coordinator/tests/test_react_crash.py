"""Exactly-once effects across a SIGKILL of the coordinator (issue 4 "Done when" 1).

A coordinator process (SQLite file, synchronous=full, delivery on) is killed with SIGKILL during a
burst of commands whose events trigger a saga (a command to a stock aggregate per order event) and a
projector (order and stock events). After a restart on the same file every reaction was applied
exactly once and the projector's read model equals a replay of the store from scratch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import grpc
import pytest
from coord_support import CLIENT_OPTIONS, aggregate_query, struct_of
from react_support import Shop, order, wait_until

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, query_pb2_grpc

SCRIPT = Path(__file__).parent / "reactors" / "run_shop_coordinator.py"


def start_coordinator(db: Path, socket: Path, shop: Shop) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--db", str(db), "--socket", str(socket), "--shop-dir", str(shop.directory)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    said = []
    while (line := process.stdout.readline().decode()) and line.strip() != "READY":
        said.append(line.strip())  # log lines before it, e.g. the leases a killed predecessor left
    if line.strip() != "READY":
        process.kill()
        raise RuntimeError(f"coordinator did not start (said {said!r})")
    return process


@pytest.fixture
def shop(tmp_path):
    (tmp_path / "shop").mkdir()
    shop = Shop(tmp_path / "shop")
    yield shop
    shop.stop()


@pytest.mark.slow
def test_sigkill_during_a_burst_loses_no_reaction_and_repeats_none(tmp_path, shop):
    db, socket = tmp_path / "events.db", tmp_path / "c.sock"
    process = start_coordinator(db, socket, shop)
    orders = [uuid.uuid4() for _ in range(4)]
    stock = uuid.uuid4()
    acknowledged: list[tuple[uuid.UUID, int]] = []
    stop = threading.Event()

    def burst(index: int, root: uuid.UUID) -> None:
        with grpc.insecure_channel(f"unix:{socket}", options=CLIENT_OPTIONS) as ch:
            stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(ch)
            i = 0
            while not stop.is_set():
                tag = f"{root.hex}:{i}"
                try:
                    stub.HandleCommand(order("place", root=root, tag=tag, saga=[
                        {"domain": "stock", "op": "add", "root": str(stock), "src": tag}]), timeout=5)
                except grpc.RpcError:
                    return  # the coordinator died under us
                acknowledged.append((root, i))
                i += 1

    threads = [threading.Thread(target=burst, args=(n, r)) for n, r in enumerate(orders)]
    for t in threads:
        t.start()
    wait_until(lambda: len(acknowledged) >= 60, timeout=60, message="a burst under way")
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    stop.set()
    for t in threads:
        t.join(10)
    killed_at = len(acknowledged)
    assert killed_at >= 60

    process = start_coordinator(db, socket, shop)
    try:
        with grpc.insecure_channel(f"unix:{socket}", options=CLIENT_OPTIONS) as ch:
            queries = query_pb2_grpc.EventQueryServiceStub(ch)

            def events(domain, root):
                book = queries.GetEventBook(aggregate_query(domain, root))
                return [(p.header.sequence, struct_of(p.event)) for p in book.pages]

            def order_tags():
                return sorted(e["tag"] for r in orders for _, e in events("order", r))

            # every acknowledged command is stored (and maybe a few whose answer the kill swallowed)
            stored = order_tags()
            assert {f"{r.hex}:{i}" for r, i in acknowledged} <= set(stored)

            def stock_sources():
                return sorted(e["src"] for _, e in events("stock", stock))

            wait_until(lambda: stock_sources() == stored, timeout=90, interval=0.2,
                       message="every saga reaction applied")
            assert stock_sources() == stored  # exactly once: no source twice

            def read_model_matches():
                for domain, root in [("stock", stock), *[("order", r) for r in orders]]:
                    expected = [(seq, e["kind"]) for seq, e in events(domain, root)]
                    if shop.view(domain, root) != expected:
                        return False
                return True

            wait_until(read_model_matches, timeout=90, interval=0.2, message="the projector caught up")
            time.sleep(0.5)  # a redelivery after catching up would show now
            assert read_model_matches()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
