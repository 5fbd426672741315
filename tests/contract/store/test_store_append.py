"""Contract: append, sequence conflicts, uniqueness keys, atomicity, concurrency."""

from __future__ import annotations

import asyncio

import pytest

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import (
    AggregateKey,
    DuplicateCommit,
    NewCommit,
    Progress,
    SequenceConflict,
    StoreError,
)


async def test_append_then_load_returns_the_stamped_bytes(store, make):
    key = make.key()
    commit = make.commit(key, 0, 3, correlation_id="c-1", tag="a")
    record = await store.append(commit)

    assert record.key == key and record.correlation_id == "c-1"
    assert record.last_position - record.first_position == 2
    assert (record.first_sequence, record.last_sequence) == (0, 2)
    loaded = await store.load(key)
    assert make.wire(loaded.pages) == make.wire(commit.pages)
    assert loaded.next_sequence == 3 and loaded.snapshot is None

    second = await store.append(make.commit(key, 3, 2, tag="b"))
    assert second.first_position == record.last_position + 1
    assert make.sequences((await store.load(key)).pages) == [0, 1, 2, 3, 4]
    assert await store.next_sequence(key) == 5


async def test_unknown_aggregate_loads_empty_at_sequence_zero(store, make):
    loaded = await store.load(make.key())
    assert loaded.pages == [] and loaded.snapshot is None and loaded.next_sequence == 0


@pytest.mark.parametrize("expected", [1, 5])
async def test_new_aggregate_must_start_at_zero(store, make, expected):
    key = make.key()
    commit = NewCommit(key, expected, make.pages(expected, 1), "corr")
    with pytest.raises(SequenceConflict) as raised:
        await store.append(commit)
    assert (raised.value.expected, raised.value.actual) == (expected, 0)
    assert (await store.load(key)).pages == []


async def test_stale_expected_sequence_conflicts_and_writes_nothing(store, make):
    key = make.key()
    await store.append(make.commit(key, 0, 2))
    head = await store.watermark()
    for stale in (0, 1, 3):
        with pytest.raises(SequenceConflict) as raised:
            await store.append(make.commit(key, stale, 1, tag="late", provenance=f"p{stale}"))
        assert raised.value.actual == 2 and raised.value.key == key
        assert await store.find_provenance(key, f"p{stale}") is None
    assert make.sequences((await store.load(key)).pages) == [0, 1]
    assert await store.watermark() == head


async def test_aggregates_are_keyed_by_domain_root_and_edition(store, make):
    key = make.key("table")
    same_root_other_domain = AggregateKey("hand", key.root)
    other_edition = AggregateKey("table", key.root, "what-if")
    for k in (key, same_root_other_domain, other_edition):
        await store.append(make.commit(k, 0, 1, tag=k.domain + k.edition))
    for k in (key, same_root_other_domain, other_edition):
        loaded = await store.load(k)
        assert make.sequences(loaded.pages) == [0]
        assert loaded.pages[0].event.value == f"{k.domain}{k.edition}#0".encode()


async def test_duplicate_provenance_returns_the_first_commit(store, make):
    key = make.key()
    first = await store.append(make.commit(key, 0, 2, provenance="saga:s;player;ab;3;0", correlation_id="c9"))
    await store.append(make.commit(key, 2, 1))

    # Whatever sequence the redelivery expects, the recorded result wins over a conflict.
    for expected in (0, 3):
        with pytest.raises(DuplicateCommit) as raised:
            await store.append(make.commit(key, expected, 1, provenance="saga:s;player;ab;3;0", tag="again"))
        existing = raised.value.existing
        assert raised.value.kind == "provenance"
        assert (existing.first_position, existing.last_position) == (first.first_position, first.last_position)
        assert make.wire(existing.pages) == make.wire(first.pages) and existing.correlation_id == "c9"
    assert make.sequences((await store.load(key)).pages) == [0, 1, 2]

    found = await store.find_provenance(key, "saga:s;player;ab;3;0")
    assert found is not None and make.wire(found.pages) == make.wire(first.pages)
    assert await store.find_provenance(key, "other") is None
    # Unique per aggregate only: another aggregate may record the same key.
    other = make.key()
    await store.append(make.commit(other, 0, 1, provenance="saga:s;player;ab;3;0"))
    assert (await store.find_provenance(other, "saga:s;player;ab;3;0")).first_position > first.last_position


async def test_duplicate_external_id_returns_the_first_commit(store, make):
    key = make.key()
    first = await store.append(make.commit(key, 0, 1, external_id="payment-17"))
    with pytest.raises(DuplicateCommit) as raised:
        await store.append(make.commit(key, 1, 2, external_id="payment-17"))
    assert raised.value.kind == "external id"
    assert make.wire(raised.value.existing.pages) == make.wire(first.pages)
    assert (await store.load(key)).next_sequence == 1
    assert (await store.find_external(key, "payment-17")).first_position == first.first_position
    assert await store.find_external(key, "payment-18") is None
    # Provenance and external ids are separate key spaces.
    await store.append(make.commit(key, 1, 1, provenance="payment-17"))


async def test_commit_without_pages_records_its_keys(store, make):
    key = make.key()
    await store.append(make.commit(key, 0, 1))
    empty = await store.append(NewCommit(key, 1, [], "c", provenance="noop-reaction"))
    assert empty.pages == [] and empty.first_position == 0
    with pytest.raises(DuplicateCommit) as raised:
        await store.append(NewCommit(key, 1, [], "c", provenance="noop-reaction"))
    assert raised.value.existing.pages == []
    assert await store.next_sequence(key) == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda make, key: NewCommit(key, 0, [make.page(1)], "c"),  # does not start at expected
        lambda make, key: NewCommit(key, 0, [make.page(0), make.page(2)], "c"),  # gap
        lambda make, key: NewCommit(key, 0, [types_pb2.EventPage()], "c"),  # unstamped header
        lambda make, key: NewCommit(key, -1, [], "c"),
    ],
)
async def test_malformed_commits_are_rejected_before_writing(store, make, build):
    key = make.key()
    with pytest.raises(ValueError):
        await store.append(build(make, key))
    assert (await store.load(key)).pages == []


async def test_failures_in_a_group_commit_fail_only_their_own_commit(store, make, backend):
    """Commits queued together share a transaction; each failing one leaves no trace."""
    backend.fail_inserts("progress", "subscriber", "boom")
    keys = [make.key() for _ in range(5)]
    await store.append(make.commit(keys[3], 0, 1, provenance="taken"))
    with backend.writes_blocked():
        tasks = [
            asyncio.ensure_future(store.append(make.commit(keys[0], 0, 2, tag="ok0"))),
            asyncio.ensure_future(store.append(make.commit(keys[1], 0, 1, tag="ok1"))),
            asyncio.ensure_future(store.append(make.commit(keys[2], 4, 1, tag="conflict"))),
            asyncio.ensure_future(store.append(make.commit(keys[3], 1, 1, provenance="taken"))),
            asyncio.ensure_future(store.append(make.commit(
                keys[4], 0, 3, provenance="p4", external_id="x4", snapshot=make.snapshot(),
                progress=(Progress("boom", keys[4], 2),),
            ))),
            asyncio.ensure_future(store.append(make.commit(keys[1], 1, 1, tag="ok1b"))),
        ]
        await asyncio.sleep(0.05)  # let them queue behind the held lock
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert make.sequences(results[0].pages) == [0, 1]
    assert isinstance(results[2], SequenceConflict)
    assert isinstance(results[3], DuplicateCommit)
    assert isinstance(results[4], StoreError) and not isinstance(results[4], SequenceConflict)
    assert make.sequences((await store.load(keys[0])).pages) == [0, 1]
    assert [p.event.value for p in (await store.load(keys[1])).pages] == [b"ok1#0", b"ok1b#1"]
    assert (await store.load(keys[2])).pages == []
    assert make.sequences((await store.load(keys[3])).pages) == [0]
    failed = await store.load(keys[4])
    assert failed.pages == [] and failed.snapshot is None and failed.next_sequence == 0
    assert await store.find_provenance(keys[4], "p4") is None
    assert await store.find_external(keys[4], "x4") is None
    assert await store.get_progress("boom", keys[4]) is None
    logged = await store.read_log(0)
    assert {c.key for c in logged} == {keys[0], keys[1], keys[3]}


async def test_concurrent_appends_at_one_sequence_have_exactly_one_winner(store, make):
    key = make.key()
    results = await asyncio.gather(
        *(store.append(make.commit(key, 0, 1, tag=f"w{i}")) for i in range(24)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, SequenceConflict) and r.actual == 1 for r in losers)
    assert make.wire((await store.load(key)).pages) == make.wire(winners[0].pages)


async def test_racing_writers_that_retry_lose_no_update(store, make):
    key = make.key()
    writers, each = 12, 8

    async def writer(name: str) -> int:
        conflicts = 0
        for n in range(each):
            while True:
                expected = await store.next_sequence(key)
                try:
                    await store.append(NewCommit(key, expected, [make.page(expected, tag=f"{name}.{n}")], "c"))
                    break
                except SequenceConflict as conflict:
                    assert conflict.actual > expected
                    conflicts += 1
        return conflicts

    await asyncio.gather(*(writer(f"w{i}") for i in range(writers)))
    pages = (await store.load(key)).pages
    assert make.sequences(pages) == list(range(writers * each))
    tags = sorted(p.event.value.decode().split("#")[0] for p in pages)
    assert tags == sorted(f"w{i}.{n}" for i in range(writers) for n in range(each))
