"""The floor under the throughput benchmark: what Python gRPC alone costs on this machine.

The same load generator and workload as ``throughput.py`` against two stand-ins for the coordinator,
each a ``grpc.aio`` server process on a Unix socket serving ``HandleCommand``:

- ``echo``: answers at once with an empty ``CommandResponse`` (one RPC per command, no work);
- ``echo-sync``: the same from a synchronous ``grpc.server`` with a thread pool, the kind of server the
  client library's ``run_server`` gives business services (the coordinator's server is ``grpc.aio``);
- ``relay``: forwards each command to the real counter service's ``CommandHandlerService.Handle``
  (an empty history) and answers with its events: the coordinator's two RPC hops, no store, no logic.

The coordinator's own work (validation, cache, store, stamping, snapshots) is what ``throughput.py``
adds on top of ``relay``.

    uv run python bench/grpc_floor.py [--seconds 10]          # writes bench/results/grpc_floor.json
    python grpc_floor.py --serve echo|echo-sync|relay --socket PATH [--handler-socket PATH]   # one stand-in
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc
import loadgen
from report import percentile, print_table, write_result
from system import SERVICE_SCRIPT, cpu_seconds

from angzarr_client.proto.angzarr import command_handler_pb2, command_handler_pb2_grpc, types_pb2

BENCH = Path(__file__).resolve().parent


class _Echo(command_handler_pb2_grpc.CommandHandlerCoordinatorServiceServicer):
    async def HandleCommand(self, request, context):
        return command_handler_pb2.CommandResponse()


class _Relay(command_handler_pb2_grpc.CommandHandlerCoordinatorServiceServicer):
    def __init__(self, handler_socket: str) -> None:
        self.channel = grpc.aio.insecure_channel(f"unix:{handler_socket}", options=loadgen.CHANNEL_OPTIONS)
        self.stub = command_handler_pb2_grpc.CommandHandlerServiceStub(self.channel)

    async def HandleCommand(self, request, context):
        contextual = types_pb2.ContextualCommand(command=request.command)
        contextual.events.cover.CopyFrom(request.command.cover)
        reply = await self.stub.Handle(contextual, timeout=30)
        return command_handler_pb2.CommandResponse(events=reply.events)


class _SyncEcho(command_handler_pb2_grpc.CommandHandlerCoordinatorServiceServicer):
    def HandleCommand(self, request, context):
        return command_handler_pb2.CommandResponse()


def _serve_sync(socket: str) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10), options=loadgen.CHANNEL_OPTIONS)
    command_handler_pb2_grpc.add_CommandHandlerCoordinatorServiceServicer_to_server(_SyncEcho(), server)
    server.add_insecure_port(f"unix:{socket}")
    server.start()
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    print("READY", flush=True)
    stopped.wait()
    server.stop(1)


async def _serve(kind: str, socket: str, handler_socket: str) -> None:
    server = grpc.aio.server(options=loadgen.CHANNEL_OPTIONS)
    servicer = _Echo() if kind == "echo" else _Relay(handler_socket)
    command_handler_pb2_grpc.add_CommandHandlerCoordinatorServiceServicer_to_server(servicer, server)
    server.add_insecure_port(f"unix:{socket}")
    await server.start()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print("READY", flush=True)
    await stop.wait()
    await server.stop(1)


def _wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} did not appear")
        time.sleep(0.05)


def measure(kind: str, args: argparse.Namespace, run_dir: Path) -> dict[str, object]:
    env = dict(os.environ, TRANSPORT_TYPE="uds", UDS_BASE_PATH=str(run_dir), SERVICE_NAME="business",
               DOMAIN="counter", LOG_LEVEL="info")
    procs: list[subprocess.Popen] = []
    try:
        handler_socket = run_dir / "business-counter.sock"
        if kind == "relay":
            procs.append(subprocess.Popen([sys.executable, str(SERVICE_SCRIPT), "counter"], env=env))
            _wait_for(handler_socket)
        socket = run_dir / f"{kind}.sock"
        server = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--socket", str(socket),
                                   "--handler-socket", str(handler_socket)], env=env, stdout=subprocess.PIPE)
        procs.append(server)
        if server.stdout.readline().strip() != b"READY":
            raise RuntimeError(f"the {kind} server did not start")
        before = cpu_seconds(server.pid) or 0.0
        result = loadgen.run_load(str(socket), aggregates=args.aggregates, clients=args.clients,
                                  seconds=args.seconds, warmup=args.warmup)
        server_cpu = (cpu_seconds(server.pid) or 0.0) - before
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(30)
    lat_ms = [x * 1000 for x in result.latencies]
    return {
        "commands_per_second": round(len(lat_ms) / result.measured_seconds, 1),
        "p50_ms": round(percentile(lat_ms, 50), 2),
        "p99_ms": round(percentile(lat_ms, 99), 2),
        "errors": dict(result.errors),
        "server_cpu_ms_per_command": round(server_cpu * 1000 / max(1, len(lat_ms)), 3),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", choices=["echo", "echo-sync", "relay"])
    parser.add_argument("--socket")
    parser.add_argument("--handler-socket", default="")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--aggregates", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.serve == "echo-sync":
        _serve_sync(args.socket)
        return {"served": args.serve}
    if args.serve:
        asyncio.run(_serve(args.serve, args.socket, args.handler_socket))
        return {"served": args.serve}
    metrics: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="azfl-", dir="/tmp") as tmp:
        for kind in ("echo", "echo-sync", "relay"):
            metrics[kind] = measure(kind, args, Path(tmp))
    metrics["workload"] = {"clients": args.clients, "aggregates": args.aggregates, "seconds": args.seconds,
                           "load_generator": "grpc.aio, one channel per client, 1 process (as throughput.py)"}
    print_table("gRPC floor (no coordinator)", metrics)
    print(f"wrote {write_result('grpc_floor', metrics, args.out)}")
    return metrics


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
