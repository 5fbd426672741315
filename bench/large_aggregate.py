"""Commands on a 100,000-event aggregate, with and without a snapshot.

The store is populated directly through the store API (``SqliteEventStore.append``, in chunks) before
``angzarr standalone`` starts on it: domain ``counter`` (the handler snapshots every 100 events) gets an
aggregate of ``--events`` events plus a snapshot at its last event; domain ``plain`` (no snapshots) gets
the same history without one. Then commands go through gRPC over the coordinator's Unix socket, one at a
time: ``--commands`` on the snapshotted aggregate (p50/p95; the first, cold, is reported apart), as many
on a new small aggregate of the same domain (the baseline: what any command costs on this machine) and
``--plain-commands`` on the other (each is a full replay of the history by the handler; its context
message is several MiB, under the 64 MiB limit).

    uv run python bench/large_aggregate.py [--events 100000] [--commands 200] [--plain-commands 5]

Writes ``bench/results/large_aggregate.json`` (or ``--out DIR``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc
import loadgen
from google.protobuf import any_pb2, timestamp_pb2, wrappers_pb2
from report import percentile, print_table, write_result
from system import counter_system

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, types_pb2
from angzarr_coordinator.store.base import AggregateKey, NewCommit
from angzarr_coordinator.store.sqlite import SqliteEventStore

CHUNK = 10_000


def _pages(start: int, count: int, created: timestamp_pb2.Timestamp) -> list[types_pb2.EventPage]:
    pages = []
    for seq in range(start, start + count):
        page = types_pb2.EventPage(created_at=created)
        page.header.sequence = seq
        page.event.Pack(wrappers_pb2.UInt64Value(value=seq + 1))
        pages.append(page)
    return pages


async def populate(db: Path, events: int, snapshotted: bytes, plain: bytes) -> float:
    """Append ``events`` events to both aggregates (and a snapshot to the first); return the seconds taken."""
    started = time.perf_counter()
    db.parent.mkdir(parents=True, exist_ok=True)
    store = SqliteEventStore(db, synchronous="normal")  # loading only; the benchmark itself runs with full
    await store.open()
    try:
        created = timestamp_pb2.Timestamp()
        created.GetCurrentTime()
        for domain, root in (("counter", snapshotted), ("plain", plain)):
            key = AggregateKey(domain, uuid.UUID(bytes=root))
            for start in range(0, events, CHUNK):
                count = min(CHUNK, events - start)
                snapshot = None
                if domain == "counter" and start + count == events:
                    state = any_pb2.Any()
                    state.Pack(wrappers_pb2.UInt64Value(value=events))
                    snapshot = types_pb2.Snapshot(sequence=events - 1, state=state)
                await store.append(NewCommit(key, start, _pages(start, count, created), "bench-populate",
                                             snapshot=snapshot))
    finally:
        await store.close()
    return time.perf_counter() - started


def _timed_commands(socket: str, domain: str, root: bytes, count: int) -> list[float]:
    """Send ``count`` Add commands one after another; return each one's latency in ms.

    Raises:
        grpc.RpcError: a command failed (e.g. a message-size failure), which the benchmark reports.
    """
    latencies = []
    with grpc.insecure_channel(f"unix:{socket}", options=loadgen.CHANNEL_OPTIONS) as channel:
        stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
        expected = 0
        for _ in range(count):
            request = loadgen.add_request(domain, root, expected)
            t0 = time.perf_counter()
            response = stub.HandleCommand(request, timeout=120)
            latencies.append((time.perf_counter() - t0) * 1000)
            expected = response.events.next_sequence
    return latencies


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--plain-commands", type=int, default=5)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    snapshotted = loadgen.aggregate_root(0, "large-snapshotted")
    plain = loadgen.aggregate_root(0, "large-plain")
    with tempfile.TemporaryDirectory(prefix="bench-large-") as tmp:
        run_dir = Path(tmp)
        populate_s = asyncio.run(populate(run_dir / "data" / "angzarr.db", args.events, snapshotted, plain))
        system = counter_system(run_dir, ("counter", "plain"), log_level=args.log_level)
        system.start()
        try:
            counter_socket = str(system.client_socket("counter"))
            snap = _timed_commands(counter_socket, "counter", snapshotted, args.commands)
            # The same commands on a new, small aggregate: what a command costs here regardless of size.
            small = _timed_commands(counter_socket, "counter", loadgen.aggregate_root(1, "large-small"),
                                    args.commands)
            no_snap: list[float] = []
            failure = ""
            try:
                no_snap = _timed_commands(str(system.client_socket("plain")), "plain", plain, args.plain_commands)
            except grpc.RpcError as e:
                failure = f"{e.code().name}: {e.details()}"
        finally:
            system.stop()
    warm = snap[1:] or snap
    metrics: dict[str, object] = {
        "events": args.events,
        "populate_seconds": round(populate_s, 1),
        "snapshot_first_ms": round(snap[0], 2),
        "snapshot_p50_ms": round(percentile(warm, 50), 2),
        "snapshot_p95_ms": round(percentile(warm, 95), 2),
        "snapshot_commands": len(snap),
        "small_aggregate_p50_ms": round(percentile(small[1:] or small, 50), 2),
        "no_snapshot_ms": round(no_snap[0], 1) if no_snap else None,
        "no_snapshot_all_ms": [round(x, 1) for x in no_snap],
        "no_snapshot_failure": failure or None,
        "targets": {"snapshot_p50_ms": 10, "no_snapshot": "works (no message-size failure)"},
    }
    print_table(f"large aggregate ({args.events:,} events)", metrics)
    print(f"wrote {write_result('large_aggregate', metrics, args.out)}")
    return metrics


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
