"""Contract: load selections, snapshots and their retention."""

from __future__ import annotations

from datetime import timedelta

import pytest

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import AggregateKey

DEFAULT, PERSIST, TRANSIENT = (
    types_pb2.RETENTION_DEFAULT, types_pb2.RETENTION_PERSIST, types_pb2.RETENTION_TRANSIENT,
)


@pytest.fixture
async def ten(store, make) -> AggregateKey:
    """An aggregate with pages 0–9 (created at t0 + n seconds), written as commits 0–3, 4–6, 7–9."""
    key = make.key()
    await store.append(make.commit(key, 0, 4))
    await store.append(make.commit(key, 4, 3))
    await store.append(make.commit(key, 7, 3))
    return key


async def test_ranges_are_inclusive_on_both_ends(store, make, ten):
    for lower in range(12):
        for upper in [*range(lower, 12), None]:
            loaded = await store.load(ten, use_snapshot=False, from_sequence=lower, to_sequence=upper)
            top = 9 if upper is None else min(upper, 9)
            assert make.sequences(loaded.pages) == list(range(lower, top + 1)), (lower, upper)
            assert loaded.next_sequence == 10


async def test_sequence_sets_return_present_pages_ascending(store, make, ten):
    loaded = await store.load(ten, use_snapshot=False, sequences=[7, 1, 42, 3, 3])
    assert make.sequences(loaded.pages) == [1, 3, 7] and loaded.next_sequence == 10
    assert (await store.load(ten, use_snapshot=False, sequences=[])).pages == []
    many = await store.load(ten, use_snapshot=False, sequences=range(0, 10_000, 2))
    assert make.sequences(many.pages) == [0, 2, 4, 6, 8]


async def test_as_of_time_keeps_pages_created_at_or_before(store, make, ten):
    for seconds in range(-1, 11):
        loaded = await store.load(ten, use_snapshot=False, as_of_time=make.t0 + timedelta(seconds=seconds))
        assert make.sequences(loaded.pages) == list(range(min(seconds, 9) + 1)), seconds
        assert loaded.next_sequence == 10
    just_before = await store.load(ten, as_of_time=make.t0 + timedelta(seconds=3, microseconds=-1))
    assert make.sequences(just_before.pages) == [0, 1, 2]
    naive_utc = await store.load(ten, as_of_time=(make.t0 + timedelta(seconds=2)).replace(tzinfo=None))
    assert make.sequences(naive_utc.pages) == [0, 1, 2]


async def test_limit_caps_the_pages(store, make, ten):
    loaded = await store.load(ten, use_snapshot=False, from_sequence=2, limit=3)
    assert make.sequences(loaded.pages) == [2, 3, 4] and loaded.next_sequence == 10


async def test_snapshot_seeds_loads_with_only_later_pages(store, make):
    key = make.key()
    await store.append(make.commit(key, 0, 3))
    record = await store.append(make.commit(key, 3, 2, snapshot=make.snapshot(state=b"at-4")))
    await store.append(make.commit(key, 5, 5))
    # The snapshot takes the commit's last sequence, whatever the handler put in it.
    assert record.snapshot is not None and record.snapshot.sequence == 4

    current = await store.load(key)
    assert current.snapshot.sequence == 4 and current.snapshot.state.value == b"at-4"
    assert make.sequences(current.pages) == [5, 6, 7, 8, 9] and current.next_sequence == 10

    as_of_7 = await store.load(key, to_sequence=7)
    assert as_of_7.snapshot.sequence == 4 and make.sequences(as_of_7.pages) == [5, 6, 7]
    as_of_4 = await store.load(key, to_sequence=4)
    assert as_of_4.snapshot.sequence == 4 and as_of_4.pages == []
    as_of_3 = await store.load(key, to_sequence=3)
    assert as_of_3.snapshot is None and make.sequences(as_of_3.pages) == [0, 1, 2, 3]

    full = await store.load(key, use_snapshot=False)
    assert full.snapshot is None and make.sequences(full.pages) == list(range(10))
    assert await store.next_sequence(key) == 10
    # Time-bounded and sparse reads replay pages: a snapshot's validity there is unknown.
    timed = await store.load(key, as_of_time=make.t0 + timedelta(seconds=6))
    assert timed.snapshot is None and make.sequences(timed.pages) == list(range(7))
    sparse = await store.load(key, sequences=[1, 8])
    assert sparse.snapshot is None and make.sequences(sparse.pages) == [1, 8]


async def _snapshot_sequences(store, key, upto: int) -> list[int]:
    """Which snapshots exist, probed by loading as of every sequence."""
    found = set()
    for bound in range(upto + 1):
        loaded = await store.load(key, to_sequence=bound)
        if loaded.snapshot is not None:
            found.add(loaded.snapshot.sequence)
    return sorted(found)


async def test_snapshot_retention(store, make):
    key = make.key()
    await store.append(make.commit(key, 0, 2, snapshot=make.snapshot(DEFAULT)))  # @1
    await store.append(make.commit(key, 2, 2, snapshot=make.snapshot(PERSIST)))  # @3
    assert await _snapshot_sequences(store, key, 10) == [3]  # DEFAULT@1 pruned by a newer one

    await store.append(make.commit(key, 4, 2, snapshot=make.snapshot(TRANSIENT)))  # @5
    await store.append(make.commit(key, 6, 2, snapshot=make.snapshot(PERSIST)))  # @7
    assert await _snapshot_sequences(store, key, 10) == [3, 7]  # TRANSIENT@5 replaced; PERSIST stays

    await store.append(make.commit(key, 8, 1, snapshot=make.snapshot(TRANSIENT)))  # @8
    await store.append(make.commit(key, 9, 1, snapshot=make.snapshot(DEFAULT)))  # @9
    assert await _snapshot_sequences(store, key, 10) == [3, 7, 9]
    newest = await store.load(key)
    assert newest.snapshot.retention == DEFAULT and newest.pages == [] and newest.next_sequence == 10


async def test_snapshot_retention_is_per_aggregate(store, make):
    a, b = make.key(), make.key()
    await store.append(make.commit(a, 0, 1, snapshot=make.snapshot()))
    await store.append(make.commit(b, 0, 3, snapshot=make.snapshot()))
    assert (await store.load(a)).snapshot.sequence == 0
    assert (await store.load(b)).snapshot.sequence == 2


async def test_drop_snapshots_forces_full_replay(store, make):
    a, b, other = make.key("table"), make.key("table"), make.key("hand")
    for key in (a, b, other):
        await store.append(make.commit(key, 0, 2, snapshot=make.snapshot(PERSIST)))
    assert await store.drop_snapshots("table", a.root) == 1
    assert (await store.load(a)).snapshot is None
    assert (await store.load(b)).snapshot is not None
    assert await store.drop_snapshots("table") == 1
    assert await store.drop_snapshots("table") == 0
    loaded = await store.load(b)
    assert loaded.snapshot is None and make.sequences(loaded.pages) == [0, 1] and loaded.next_sequence == 2
    assert (await store.load(other)).snapshot is not None


async def test_recorded_commit_carries_its_snapshot(store, make):
    key = make.key()
    await store.append(make.commit(key, 0, 2, provenance="r1", snapshot=make.snapshot(PERSIST, b"s")))
    found = await store.find_provenance(key, "r1")
    assert found.snapshot is not None and found.snapshot.state.value == b"s" and found.snapshot.sequence == 1
