"""Reactions in a real ``angzarr standalone`` process with supervised shop services (§10.1, §10.2).

CASCADE through ``ch-order.sock``, a projector and saga fed by tailers, the per-service reaction
endpoint, ``angzarr lag`` and a restart resuming at the stored checkpoints.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from coord_support import CLIENT_OPTIONS, aggregate_query, struct_of
from react_support import order, reserve, wait_until
from runtime.runtime_harness import cleanup_standalone, make_standalone

from angzarr_client.proto.angzarr import (
    command_handler_pb2_grpc,
    query_pb2_grpc,
    saga_pb2,
    saga_pb2_grpc,
    types_pb2,
)

SHOP = Path(__file__).parent / "reactors" / "shop_service.py"
ANGZARR = Path(sys.executable).with_name("angzarr")


def shop_service(sa, name: str, *args: str, hosts: dict) -> dict:
    socket = sa.uds_base / f"business-{name}.sock"
    calls = sa.root / f"{name}-calls.jsonl"
    return {"name": name, "command": [sys.executable, str(SHOP), "--socket", str(socket), "--calls", str(calls), *args],
            "hosts": hosts}


@pytest.fixture
def sa():
    sa = make_standalone()
    sa.write_config([
        shop_service(sa, "order", "--domain", "order", "--saga", "--projector-db", str(sa.root / "view.db"),
                     "--projector-name", "order-view", hosts={
                         "command_handler": {"domain": "order"},
                         "saga": {"name": "order-saga", "listen": ["order"], "emits": ["stock", "order"]},
                         "projector": {"name": "order-view", "listen": ["order", "stock"]}}),
        shop_service(sa, "stock", "--domain", "stock", hosts={"command_handler": {"domain": "stock"}}),
    ])
    try:
        yield sa
    finally:
        cleanup_standalone(sa)


def calls(sa, name: str, role: str, root: uuid.UUID) -> list[dict]:
    path = sa.root / f"{name}-calls.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines() if line] if path.exists() else []
    return [c for c in lines if c["role"] == role and c["root"] == root.hex]


def kinds(channel, domain, root):
    book = query_pb2_grpc.EventQueryServiceStub(channel).GetEventBook(aggregate_query(domain, root))
    return [struct_of(p.event)["kind"] for p in book.pages]


def lag(sa) -> dict:
    result = subprocess.run([str(ANGZARR), "lag", "-c", str(sa.config_path), "--json"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return {row["subscriber"]: row for row in json.loads(result.stdout)}


def test_standalone_runs_cascades_tailers_and_resumes_after_a_restart(sa):
    sa.start()
    sa.wait_ready("order")
    sa.wait_ready("stock")
    with grpc.insecure_channel(sa.target("order"), options=CLIENT_OPTIONS) as ch:
        commands = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(ch)
        origin, stock = uuid.uuid4(), uuid.uuid4()
        response = commands.HandleCommand(order("place", root=origin, sync_mode=types_pb2.SYNC_MODE_CASCADE,
                                                saga=[reserve(stock, 1)]))
        assert [b.cover.domain for b in response.cascade_books] == ["stock"]
        assert sorted(p.cover.domain for p in response.projections) == ["order", "stock"]
        # ASYNC: the tailers deliver
        later = uuid.uuid4()
        commands.HandleCommand(order("place", root=later, saga=[reserve(stock, 2)]))
        wait_until(lambda: kinds(ch, "stock", stock) == ["reserve", "reserve"], message="the tailer's reaction")
        wait_until(lambda: calls(sa, "order", "projector", later), message="the projector's delivery")
        rows = wait_until(lambda: (r := lag(sa)) and r["order-view"]["lag_events"] == 0 and r, message="no lag")
        assert {"order-saga", "order-view"} <= set(rows)
        assert rows["order-saga"]["kind"] == "saga" and rows["order-view"]["checkpoint"] > 0
        # the ch-stock.sock listener addresses the stock service's components: it hosts no saga
        stub = saga_pb2_grpc.SagaCoordinatorServiceStub(grpc.insecure_channel(sa.target("stock")))
        with pytest.raises(grpc.RpcError) as err:
            stub.Execute(saga_pb2.SagaHandleRequest(source=response.events))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    sa.terminate()
    assert sa.wait_exit() == 0

    # commands while it is down cannot happen; after a restart the tailers resume at their checkpoints
    projector_calls = len(calls(sa, "order", "projector", later))
    sa.start()
    sa.wait_ready("order")
    with grpc.insecure_channel(sa.target("order"), options=CLIENT_OPTIONS) as ch:
        commands = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(ch)
        commands.HandleCommand(order("note", root=later))
        wait_until(lambda: len(calls(sa, "order", "projector", later)) == projector_calls + 1,
                   message="the projector after the restart")
        assert calls(sa, "order", "projector", later)[-1]["seqs"] == [1]  # nothing delivered twice
    sa.terminate()
    assert sa.wait_exit() == 0
