"""The throughput benchmark against PostgreSQL: the same load (``loadgen.py``) on a coordinator whose
event store is ``PostgresEventStore`` (``pg_coordinator.py``), with the same counter service.

The server is ``$ANGZARR_BENCH_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``); a
throwaway database is created for the run and dropped after. Without a reachable server the result
file says so (``"skipped"``) and the script exits 0.

    uv run python bench/throughput_postgres.py [--seconds 30] [--clients 16] [--aggregates 1000]

Writes ``bench/results/throughput_postgres.json`` (or ``--out DIR``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import asyncpg
import loadgen
from report import percentile, print_table, write_result
from system import SERVICE_SCRIPT, cpu_seconds, peak_rss_mb

BENCH = Path(__file__).resolve().parent
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _with_database(dsn: str, database: str) -> str:
    parts = urllib.parse.urlsplit(dsn)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{database}"))


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[1]} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} did not appear within {timeout:.0f} s")
        time.sleep(0.05)


def measure(args: argparse.Namespace, dsn: str, run_dir: Path) -> dict[str, object]:
    env = dict(os.environ, TRANSPORT_TYPE="uds", UDS_BASE_PATH=str(run_dir), SERVICE_NAME="business",
               DOMAIN="counter", LOG_LEVEL=args.log_level, ANGZARR_LOG_LEVEL=args.log_level,
               OTEL_SDK_DISABLED="true")
    handler_socket = run_dir / "business-counter.sock"
    socket = run_dir / "ch-counter.sock"
    log = (run_dir / "processes.log").open("ab")
    service = subprocess.Popen([sys.executable, str(SERVICE_SCRIPT), "counter"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    coordinator = None
    try:
        _wait_for(handler_socket, service, 30)
        coordinator = subprocess.Popen(
            [sys.executable, str(BENCH / "pg_coordinator.py"), "--dsn", dsn, "--socket", str(socket),
             "--handler-socket", str(handler_socket)], env=env, stdout=subprocess.PIPE, stderr=log)
        if coordinator.stdout.readline().strip() != b"READY":
            raise RuntimeError(f"pg_coordinator did not start; see {run_dir / 'processes.log'}")
        before = {"coordinator": cpu_seconds(coordinator.pid) or 0.0, "counter": cpu_seconds(service.pid) or 0.0}
        result = loadgen.run_load(str(socket), aggregates=args.aggregates, clients=args.clients,
                                  seconds=args.seconds, warmup=args.warmup, processes=args.processes)
        cpu = {"coordinator": (cpu_seconds(coordinator.pid) or 0.0) - before["coordinator"],
               "counter": (cpu_seconds(service.pid) or 0.0) - before["counter"]}
        rss = {"coordinator": peak_rss_mb(coordinator.pid), "counter": peak_rss_mb(service.pid)}
    finally:
        for proc in (coordinator, service):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
        log.close()
    lat_ms = [x * 1000 for x in result.latencies]
    return {
        "commands": len(lat_ms),
        "commands_per_second": round(len(lat_ms) / result.measured_seconds, 1),
        "p50_ms": round(percentile(lat_ms, 50), 2),
        "p95_ms": round(percentile(lat_ms, 95), 2),
        "p99_ms": round(percentile(lat_ms, 99), 2),
        "max_ms": round(max(lat_ms, default=0.0), 2),
        "errors": dict(result.errors),
        "cpu_ms_per_command": {k: round(v * 1000 / max(1, len(lat_ms)), 3) for k, v in cpu.items()},
        "coordinator_peak_rss_mb": rss["coordinator"],
        "service_peak_rss_mb": {"counter": rss["counter"]},
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--aggregates", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--skip-peer", action="store_true", help="accepted for symmetry; there is no peer here")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    server = os.environ.get("ANGZARR_BENCH_POSTGRES", DEFAULT_DSN)
    database = f"angzarr_bench_{os.getpid()}"
    workload = {"clients": args.clients, "aggregates": args.aggregates, "seconds": args.seconds,
                "merge_strategy": "MERGE_COMMUTATIVE", "sync_mode": "SYNC_MODE_ASYNC",
                "storage": "PostgreSQL (PostgresEventStore, pool 10) on 127.0.0.1, same machine",
                "load_generator": f"grpc.aio, one channel per client, {args.processes} process(es)"}
    try:
        asyncio.run(_admin(server, f'CREATE DATABASE "{database}"'))
    except (TimeoutError, OSError, asyncpg.PostgresError) as e:
        metrics: dict[str, object] = {"skipped": f"no usable PostgreSQL server at {server}: {e}",
                                      "workload": workload}
        print_table("throughput (PostgreSQL)", metrics)
        print(f"wrote {write_result('throughput_postgres', metrics, args.out)}")
        return metrics
    try:
        with tempfile.TemporaryDirectory(prefix="azpg-", dir="/tmp") as tmp:
            metrics = measure(args, _with_database(server, database), Path(tmp))
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    metrics["workload"] = workload
    metrics["targets"] = {"commands_per_second": 1000, "p99_ms": 25, "note": "the targets are for standalone"}
    print_table("throughput (PostgreSQL)", metrics)
    print(f"wrote {write_result('throughput_postgres', metrics, args.out)}")
    return metrics


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
