"""The peer: the same counter workload on the ``eventsourcing`` library (PyPI) with its SQLite
persistence, in process (no RPC), for comparison with the coordinator.

Same aggregate logic (a positive amount is added; the event carries the new total), same durability
(SQLite WAL; the ``synchronous`` setting in force is read back and reported), same load shape:
``clients`` threads in a closed loop over ``aggregates`` aggregates. A save that loses an optimistic
concurrency race is retried on fresh state (up to 5 decisions), as ``MERGE_COMMUTATIVE`` does.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError
from report import percentile

NAMESPACE = uuid.UUID("0f3a5f0e-5d0b-4d7b-8f8e-3a0c1a2b3c4d")
MAX_ATTEMPTS = 5


class PeerCounter(Aggregate):
    """The counter aggregate in the peer's terms."""

    @event("Created")
    def __init__(self, key: int) -> None:
        self.key = key
        self.total = 0

    @staticmethod
    def create_id(key: int) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"counter-{key}")

    def add(self, amount: int) -> None:
        if amount <= 0:
            raise ValueError(f"amount must be positive, got {amount}")
        self._added(self.total + amount)

    @event("Added")
    def _added(self, total: int) -> None:
        self.total = total


class Counters(Application):
    """The peer application: create counters and add to them."""

    def add(self, counter_id: uuid.UUID, amount: int) -> None:
        counter: PeerCounter = self.repository.get(counter_id)
        counter.add(amount)
        self.save(counter)


def run(db_path: Path, *, clients: int = 16, aggregates: int = 1000, seconds: float = 30.0,
        warmup: float = 3.0) -> dict[str, object]:
    """Run the workload against a new database at ``db_path`` and return its metrics."""
    app = Counters(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db_path),
                        "SQLITE_LOCK_TIMEOUT": "30"})
    ids = []
    for key in range(aggregates):
        counter = PeerCounter(key)
        app.save(counter)
        ids.append(counter.id)
    start = time.perf_counter() + warmup
    deadline = start + seconds
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        while (now := time.perf_counter()) < deadline:
            counter_id = rng.choice(ids)
            t0 = time.perf_counter()
            for _attempt in range(MAX_ATTEMPTS):
                try:
                    app.add(counter_id, 1)
                    break
                except IntegrityError:
                    continue
            else:
                with lock:
                    errors["conflict"] = errors.get("conflict", 0) + 1
                continue
            if now >= start:
                mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    app.close()
    with sqlite3.connect(db_path) as conn:  # what a connection of the peer runs with
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = {0: "off", 1: "normal", 2: "full", 3: "extra"}[conn.execute("PRAGMA synchronous").fetchone()[0]]
    lat_ms = [x * 1000 for x in latencies]
    return {
        "library": "eventsourcing " + _version(),
        "storage": f"sqlite journal_mode={journal} synchronous={synchronous}",
        "in_process": True,
        "commands": len(lat_ms),
        "commands_per_second": round(len(lat_ms) / seconds, 1),
        "p50_ms": round(percentile(lat_ms, 50), 2),
        "p95_ms": round(percentile(lat_ms, 95), 2),
        "p99_ms": round(percentile(lat_ms, 99), 2),
        "errors": errors,
        "process_peak_rss_mb": _own_peak_rss(),
    }


def _version() -> str:
    from importlib.metadata import version

    return version("eventsourcing")


def _own_peak_rss() -> float | None:
    try:
        for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None
