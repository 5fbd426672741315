"""Projection lag: from an event's commit to the projector handling it, at a steady event rate.

A real ``angzarr standalone`` runs the counter service with the ``counter-view`` projector. An open-loop
generator sends ``--rate`` Add commands per second (one event each, ``SYNC_MODE_ASYNC``) for
``--seconds`` seconds over ``--aggregates`` aggregates. The projector writes, per event, the page's
``created_at`` (stamped by the coordinator just before the commit) and the wall clock when it handles
the event; lag = the difference (same machine, same clock). It therefore includes the commit's own
fsync, delivery from the global log and the projector RPC: it is an upper bound of commit → projector
acknowledgement by the time the projector takes to reply. Events of the first ``--warmup`` seconds are
not counted.

    uv run python bench/projection_lag.py [--rate 500] [--seconds 20]

Writes ``bench/results/projection_lag.json`` (or ``--out DIR``; ``--name`` for another file name).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import grpc
import loadgen
from report import percentile, print_table, write_result
from system import counter_system

from angzarr_client.proto.angzarr import command_handler_pb2_grpc


async def drive(socket: str, rate: float, seconds: float, aggregates: int) -> tuple[int, dict[str, int], float]:
    """Send ``rate`` commands/s for ``seconds``; return (sent, failures by code, wall time of the first send)."""
    roots = [loadgen.aggregate_root(i, "lag") for i in range(aggregates)]
    rng = random.Random(7)
    failed: dict[str, int] = {}
    async with grpc.aio.insecure_channel(f"unix:{socket}", options=loadgen.CHANNEL_OPTIONS) as channel:
        stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)

        async def one(root: bytes) -> None:
            try:
                await stub.HandleCommand(loadgen.add_request("counter", root, 0), timeout=30)
            except grpc.aio.AioRpcError as e:
                failed[e.code().name] = failed.get(e.code().name, 0) + 1

        total = int(rate * seconds)
        began_wall = time.time()
        began = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(rng.choice(roots))))
        await asyncio.gather(*tasks)
    return total, failed, began_wall


def read_lags(path: Path, since_ns: int) -> list[float]:
    """Lags in ms of the events committed at or after ``since_ns`` (wall clock, ns)."""
    lags = []
    if not path.exists():
        return lags
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            created, projected = int(parts[0]), int(parts[1])
            if created >= since_ns:
                lags.append((projected - created) / 1e6)
    return lags


def delivery_rate(path: Path) -> float | None:
    """Events the projector handled per second, from its first to its last event."""
    if not path.exists():
        return None
    times = [int(line.split()[1]) for line in path.read_text().splitlines() if len(line.split()) == 2]
    if len(times) < 2 or max(times) == min(times):
        return None
    return round((len(times) - 1) / ((max(times) - min(times)) / 1e9), 1)


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--aggregates", type=int, default=1000)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--name", default="projection_lag", help="result name (default projection_lag)")
    parser.add_argument("--profile", default="", help="write a pyinstrument profile of the coordinator here")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-lag-") as tmp:
        run_dir = Path(tmp)
        profile = Path(args.profile).absolute() if args.profile else None
        system = counter_system(run_dir, ("counter",), projector=True, log_level=args.log_level, profile=profile)
        system.start()
        lag_file = run_dir / "lag.txt"
        try:
            sent, failed, began_wall = asyncio.run(
                drive(str(system.client_socket("counter")), args.rate, args.seconds, args.aggregates))
            # Let the projector catch up with every committed event (bounded).
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                done = sum(1 for _ in lag_file.open()) if lag_file.exists() else 0
                if done >= sent - sum(failed.values()):
                    break
                time.sleep(0.2)
        finally:
            system.stop()
        all_lags = read_lags(lag_file, 0)
        rate = delivery_rate(lag_file)
        lags = read_lags(lag_file, int((began_wall + args.warmup) * 1e9))
    metrics: dict[str, object] = {
        "events_per_second": args.rate,
        "events_sent": sent,
        "events_failed": sum(failed.values()),
        "failures": failed,
        "events_projected": len(all_lags),
        "events_measured": len(lags),
        "delivered_events_per_second": rate,
        "p50_ms": round(percentile(lags, 50), 2),
        "p95_ms": round(percentile(lags, 95), 2),
        "p99_ms": round(percentile(lags, 99), 2),
        "max_ms": round(max(lags, default=0.0), 2),
        "targets": {"p99_ms": 100},
    }
    print_table(f"projection lag at {args.rate:g} events/s", metrics)
    print(f"wrote {write_result(args.name, metrics, args.out)}")
    return metrics


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
