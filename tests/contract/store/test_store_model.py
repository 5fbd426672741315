"""Contract, property-based: random append histories checked against a small in-memory model.

Each example writes a fresh aggregate (one database per test, one aggregate per example) with a
random mix of commits, stale or early expectations and snapshots of every retention, then compares
every load selection with what the model says the store must hold.
"""

from __future__ import annotations

import asyncio
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import AggregateKey, NewCommit, SequenceConflict

RETENTIONS = [None, types_pb2.RETENTION_DEFAULT, types_pb2.RETENTION_PERSIST, types_pb2.RETENTION_TRANSIENT]

step = st.tuples(
    st.integers(min_value=1, max_value=4),  # pages in the commit
    st.sampled_from([0, 0, 0, -1, 1]),  # offset of the expected sequence from the true one
    st.sampled_from(RETENTIONS),  # snapshot to store with it
)


class Model:
    def __init__(self) -> None:
        self.next = 0
        self.snapshots: dict[int, int] = {}  # sequence -> retention

    def append(self, count: int, retention: int | None) -> None:
        self.next += count
        if retention is not None:
            last = self.next - 1
            self.snapshots = {s: r for s, r in self.snapshots.items()
                              if s >= last or r == types_pb2.RETENTION_PERSIST}
            self.snapshots[last] = retention

    def newest_snapshot(self, upto: int) -> int | None:
        return max((s for s in self.snapshots if s <= upto), default=None)


async def _scenario(backend, make, steps, probe) -> None:
    store = backend.create()
    await store.open()
    try:
        key = AggregateKey("model", uuid.uuid4())
        model = Model()
        for count, offset, retention in steps:
            expected = model.next + offset
            snapshot = None if retention is None else make.snapshot(retention, b"s%d" % (model.next + count - 1))
            if expected < 0:
                continue
            commit = NewCommit(key, expected, make.pages(expected, count), "m", snapshot=snapshot)
            if offset:
                try:
                    await store.append(commit)
                except SequenceConflict as conflict:
                    assert conflict.actual == model.next
                else:
                    raise AssertionError("an append at the wrong sequence succeeded")
                continue
            record = await store.append(commit)
            assert make.sequences(record.pages) == list(range(expected, expected + count))
            model.append(count, retention)

        head = model.next - 1
        assert await store.next_sequence(key) == model.next
        for bound in [*range(-1, model.next + 1), None]:
            upto = head if bound is None else bound
            loaded = await store.load(key, to_sequence=bound)
            seed = model.newest_snapshot(upto)
            if seed is None:
                assert loaded.snapshot is None
                start = 0
            else:
                assert loaded.snapshot.sequence == seed and loaded.snapshot.state.value == b"s%d" % seed
                assert loaded.snapshot.retention == model.snapshots[seed]
                start = seed + 1
            assert make.sequences(loaded.pages) == list(range(start, min(upto, head) + 1))
            assert loaded.next_sequence == model.next
        wanted = {s for s in probe if s < model.next + 3}
        sparse = await store.load(key, sequences=wanted)
        assert make.sequences(sparse.pages) == sorted(s for s in wanted if s < model.next)
    finally:
        await store.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, max_size=25), probe=st.sets(st.integers(min_value=0, max_value=120), max_size=30))
def test_random_histories_match_the_model(backend, make, steps, probe):
    asyncio.run(_scenario(backend, make, steps, probe))
