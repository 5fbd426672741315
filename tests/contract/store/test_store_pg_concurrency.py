"""PostgreSQL: several store objects (processes, in deployment) on one database at once.

Checklist item 15 at store level: two stores racing appends to one aggregate never double-append and,
retrying on conflicts, lose no update. Also the other cross-process keys: provenance, reactions, outbox
claims.
"""

from __future__ import annotations

import asyncio

import pytest

from angzarr_coordinator.store.base import (
    DuplicateCommit,
    NewCommit,
    NewReaction,
    OutboxEntry,
    SequenceConflict,
    StoreError,
)


@pytest.fixture
async def two_stores(pg_backend):
    stores = [pg_backend.create(pool_size=4), pg_backend.create(pool_size=4)]
    for store in stores:
        await store.open()
    yield stores
    for store in stores:
        await store.close()


async def test_two_stores_racing_one_aggregate_never_double_append_and_lose_no_update(two_stores, make):
    key = make.key("table")
    each = 10
    conflicts: list[SequenceConflict] = []

    async def writer(store, name: str) -> None:
        for n in range(each):
            while True:
                expected = await store.next_sequence(key)
                try:
                    await store.append(NewCommit(key, expected, make.pages(expected, 1 + n % 2, tag=f"{name}.{n}"), "c"))
                    break
                except SequenceConflict as conflict:
                    assert conflict.actual > expected
                    conflicts.append(conflict)

    writers = [writer(store, f"s{s}w{w}") for s, store in enumerate(two_stores) for w in range(4)]
    await asyncio.gather(*writers)

    for store in two_stores:
        pages = (await store.load(key)).pages
        assert make.sequences(pages) == list(range(len(pages)))
        tags = [p.event.value.decode().split("#")[0] for p in pages]
        # Every update is there exactly once, as one whole commit (its pages are adjacent).
        expected_tags = {f"s{s}w{w}.{n}": 1 + n % 2 for s in range(2) for w in range(4) for n in range(each)}
        assert {t: tags.count(t) for t in set(tags)} == expected_tags
        for tag, size in expected_tags.items():
            first = tags.index(tag)
            assert tags[first:first + size] == [tag] * size
    assert conflicts, "the writers never collided; the race was not exercised"


async def test_one_expected_sequence_has_one_winner_across_stores(two_stores, make):
    key = make.key()
    results = await asyncio.gather(
        *(two_stores[i % 2].append(make.commit(key, 0, 2, tag=f"w{i}")) for i in range(16)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, SequenceConflict) and r.actual == 2 for r in results if r not in winners)


async def test_a_provenance_key_is_recorded_once_across_stores(two_stores, make):
    key = make.key()
    await two_stores[0].append(make.commit(key, 0, 1))
    results = await asyncio.gather(
        *(two_stores[i % 2].append(make.commit(key, 1, 1, provenance="saga:s;x;1", tag=f"w{i}")) for i in range(10)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    for loser in (r for r in results if r not in winners):
        # Each redelivery hears the first result, or that it lost the sequence race to it.
        assert isinstance(loser, (DuplicateCommit, SequenceConflict))
        if isinstance(loser, DuplicateCommit):
            assert loser.existing.first_position == winners[0].first_position
    assert make.sequences((await two_stores[1].load(key)).pages) == [0, 1]


async def test_a_reaction_is_recorded_once_across_stores(two_stores, make):
    trigger = make.key("player")
    entries = [OutboxEntry("command", "table", "saga:s;r", b"x")]
    results = await asyncio.gather(
        *(two_stores[i % 2].record_reaction(NewReaction("saga:s", trigger, 4, entries)) for i in range(10))
    )
    assert sum(r.fresh for r in results) == 1
    assert len({tuple(e.id for e in r.entries) for r in results}) == 1
    assert await two_stores[0].pending_outbox("saga:s") == 1


async def test_a_process_manager_reaction_commits_once_across_aggregates(two_stores, make):
    """The reaction key is not covered by the aggregate lock: two state aggregates race for it."""
    trigger = make.key("hand")
    states = [make.key("hand-flow"), make.key("hand-flow")]
    results = await asyncio.gather(*(
        two_stores[i].append(make.commit(states[i], 0, 1, reaction=NewReaction("pm:flow", trigger, 2)))
        for i in range(2)
    ), return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    loser = next(r for r in results if isinstance(r, BaseException))
    assert isinstance(loser, DuplicateCommit) and loser.existing.last_position == winners[0].last_position
    assert sorted([(await two_stores[0].load(k)).next_sequence for k in states]) == [0, 1]


async def test_outbox_claims_are_exclusive_across_stores(two_stores, make):
    for _ in range(24):
        await two_stores[0].record_reaction(
            NewReaction("saga:s", make.key("player"), 0, [OutboxEntry("command", "t", "r", b"x")])
        )
    batches = await asyncio.gather(
        *(two_stores[i % 2].claim_outbox("saga:s", lease_seconds=60, limit=3) for i in range(12))
    )
    ids = [r.id for batch in batches for r in batch]
    assert len(ids) == 24 and len(set(ids)) == 24


async def test_a_failed_events_insert_leaves_no_trace_and_blocks_no_other_store(two_stores, pg_backend, make):
    pg_backend.fail_inserts("events", "domain", "doomed")
    with pytest.raises(StoreError) as raised:
        await two_stores[0].append(make.commit(make.key("doomed"), 0, 2))
    assert "injected failure" in str(raised.value)
    # The positions lock taken for that INSERT is free again: both stores go on appending.
    for store in (two_stores[1], two_stores[0]):
        record = await asyncio.wait_for(store.append(make.commit(make.key("fine"), 0, 1)), 60)
        assert record.first_position == record.last_position
    assert {d.domain for d in await two_stores[1].domains()} == {"fine"}


async def test_a_process_manager_commit_without_outbox_entries_records_its_reaction(two_stores, make):
    trigger, state = make.key("hand"), make.key("hand-flow")
    record = await two_stores[0].append(make.commit(state, 0, 1, reaction=NewReaction("pm:flow", trigger, 3)))
    found = await two_stores[1].find_reaction("pm:flow", trigger, 3)
    assert found.entries == [] and found.commit.last_position == record.last_position
    with pytest.raises(DuplicateCommit):
        await two_stores[1].append(make.commit(state, 1, 1, reaction=NewReaction("pm:flow", trigger, 3)))
