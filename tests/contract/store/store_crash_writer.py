"""Crash-test writer (run as a subprocess by test_store_crash.py; not a test module).

Usage: ``store_crash_writer.py BACKEND TARGET SYNCHRONOUS RUN``. Eight tasks append commits of one to
three pages to four shared aggregates, retrying sequence conflicts, forever. After each append
returns (the commit is acknowledged as durable) one JSON line describing it is printed and flushed.
Each page's payload is ``<commit tag>:<index>/<page count>`` so a reader can tell whole commits from
partial ones.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import AggregateKey, EventStore, NewCommit, SequenceConflict

WRITERS = 8
KEYS = [AggregateKey("crash", uuid.UUID(int=n + 1)) for n in range(4)]


def open_store(backend: str, target: str, synchronous: str) -> EventStore:
    if backend == "sqlite":
        from angzarr_coordinator.store.sqlite import SqliteEventStore

        return SqliteEventStore(target, synchronous=synchronous)
    if backend == "postgres":
        # Every PostgreSQL commit is flushed before COMMIT returns; SYNCHRONOUS applies to SQLite only.
        from angzarr_coordinator.store.postgres import PostgresEventStore

        return PostgresEventStore(target)
    raise SystemExit(f"unknown backend {backend!r}")


def page(sequence: int, payload: str) -> types_pb2.EventPage:
    built = types_pb2.EventPage()
    built.header.sequence = sequence
    built.event.type_url = "type.googleapis.com/examples.CrashTest"
    built.event.value = payload.encode()
    built.created_at.GetCurrentTime()
    return built


async def writer(store: EventStore, run: str, name: str) -> None:
    n = 0
    while True:
        key = KEYS[(n + int(name[1:])) % len(KEYS)]
        size = n % 3 + 1
        tag = f"{run}{name}.{n}"
        while True:
            expected = await store.next_sequence(key)
            pages = [page(expected + i, f"{tag}:{i}/{size}") for i in range(size)]
            try:
                record = await store.append(NewCommit(key, expected, pages, "crash", provenance=tag))
                break
            except SequenceConflict:
                continue
        line = {
            "tag": tag, "root": str(key.root), "first_sequence": expected, "size": size,
            "first_position": record.first_position, "last_position": record.last_position,
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        n += 1


async def main() -> None:
    backend, target, synchronous, run = sys.argv[1:5]
    store = open_store(backend, target, synchronous)
    await store.open()
    await asyncio.gather(*(writer(store, run, f"w{i}") for i in range(WRITERS)))


if __name__ == "__main__":
    asyncio.run(main())
