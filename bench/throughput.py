"""Command throughput and latency in standalone mode, and the same workload against a peer.

A real ``angzarr standalone`` process runs the counter service on SQLite (``synchronous: full``); a lean
load generator (``loadgen.py``: ``grpc.aio`` clients, closed loop) sends ``Add`` commands
(``MERGE_COMMUTATIVE``, ``SYNC_MODE_ASYNC``) from ``--clients`` clients over ``--aggregates`` aggregates
for ``--seconds`` seconds after a warm-up, over the coordinator's Unix socket. Then the same workload
runs against the ``eventsourcing`` library in process (``peer_eventsourcing.py``). Peak RSS of the
coordinator and the service are read from ``/proc``. ``--profile`` records a py-spy flame graph of the
coordinator (pyinstrument, whole run).

    uv run python bench/throughput.py [--seconds 30] [--clients 16] [--aggregates 1000] [--processes 1]

Writes ``bench/results/throughput.json`` (or ``--out DIR``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import loadgen
import peer_eventsourcing
from report import machine_busy_seconds, percentile, print_table, write_result
from system import counter_system, loop_thread_cpu_seconds, system_cpu_seconds, system_peak_rss


def _own_cpu() -> float:
    """CPU seconds of this process plus its finished load-generator children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure_standalone(args: argparse.Namespace, run_dir: Path) -> dict[str, object]:
    profile = Path(args.profile).absolute() if args.profile else None
    system = counter_system(run_dir, ("counter",), log_level=args.log_level, profile=profile)
    system.start()
    try:
        socket = str(system.client_socket("counter"))
        cpu_before = system_cpu_seconds(system)
        loop_before = loop_thread_cpu_seconds(system.process.pid) or 0.0
        own_before = _own_cpu()
        busy_before, wall_before = machine_busy_seconds(), time.monotonic()
        result = loadgen.run_load(socket, aggregates=args.aggregates, clients=args.clients, seconds=args.seconds,
                                  warmup=args.warmup, processes=args.processes)
        cpu = {k: v - (cpu_before.get(k) or 0.0) for k, v in system_cpu_seconds(system).items() if v is not None}
        loop_cpu = (loop_thread_cpu_seconds(system.process.pid) or 0.0) - loop_before
        cpu["load_generator"] = _own_cpu() - own_before
        busy, wall = machine_busy_seconds() - busy_before, time.monotonic() - wall_before
        # What the rest of the machine (other users' processes) took from the 2 cores meanwhile.
        cpu["everything_else_on_the_machine"] = max(0.0, busy - sum(cpu.values()))
        machine_cores_busy = round(busy / wall, 2)
        rss = system_peak_rss(system)
    finally:
        system.stop()
    lat_ms = [x * 1000 for x in result.latencies]
    return {
        "commands": len(lat_ms),
        "commands_per_second": round(len(lat_ms) / result.measured_seconds, 1),
        "p50_ms": round(percentile(lat_ms, 50), 2),
        "p95_ms": round(percentile(lat_ms, 95), 2),
        "p99_ms": round(percentile(lat_ms, 99), 2),
        "max_ms": round(max(lat_ms, default=0.0), 2),
        "errors": dict(result.errors),
        # CPU time per committed command (warm-up included in the CPU, not in the count: an upper bound).
        "cpu_ms_per_command": {k: round(v * 1000 / max(1, len(lat_ms)), 3) for k, v in cpu.items()
                               if k != "everything_else_on_the_machine"},
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "machine_cores_busy": machine_cores_busy,
        # The coordinator's main thread, where its one event loop runs: the share of one core it kept
        # busy over the run (warm-up included), and its part of the coordinator's CPU per command.
        "coordinator_loop_thread_busy": round(loop_cpu / wall, 2),
        "coordinator_loop_thread_cpu_ms_per_command": round(loop_cpu * 1000 / max(1, len(lat_ms)), 3),
        "coordinator_peak_rss_mb": rss.get("coordinator"),
        "service_peak_rss_mb": {k: v for k, v in rss.items() if k != "coordinator"},
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--aggregates", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=1, help="load generator processes (default 1)")
    parser.add_argument("--log-level", default="info", help="coordinator and service log level (default info)")
    parser.add_argument("--profile", default="", help="write a pyinstrument profile of the coordinator here")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        started = time.monotonic()
        metrics = measure_standalone(args, Path(tmp) / "standalone")
        peer = None
        if not args.skip_peer:
            peer = peer_eventsourcing.run(Path(tmp) / "peer.db", clients=args.clients, aggregates=args.aggregates,
                                          seconds=args.seconds, warmup=args.warmup)
    metrics["peer"] = peer or {"skipped": True}
    metrics["peer_commands_per_second"] = peer["commands_per_second"] if peer else None
    if peer and peer["commands_per_second"]:
        metrics["ratio_to_peer"] = round(metrics["commands_per_second"] / peer["commands_per_second"], 3)
    metrics["workload"] = {
        "clients": args.clients, "aggregates": args.aggregates, "seconds": args.seconds, "warmup": args.warmup,
        "merge_strategy": "MERGE_COMMUTATIVE", "sync_mode": "SYNC_MODE_ASYNC", "storage": "sqlite synchronous=full",
        "load_generator": f"grpc.aio, one channel per client, {args.processes} process(es), on the same machine",
        "log_level": args.log_level,
    }
    metrics["targets"] = {"commands_per_second": 1000, "p99_ms": 25}
    metrics["elapsed_s"] = round(time.monotonic() - started, 1)
    print_table("throughput (standalone, SQLite)", metrics)
    print(f"wrote {write_result('throughput', metrics, args.out)}")
    return metrics


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
