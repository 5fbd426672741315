"""Contract: reaction records and the outbox (spec §4.1): recorded once, ordered, leased claims."""

from __future__ import annotations

import asyncio

import pytest

from angzarr_coordinator.store.base import (
    DuplicateCommit,
    NewReaction,
    OutboxEntry,
    OutboxEntryNotFound,
    Progress,
    SequenceConflict,
)


def _entries(*names: str) -> list[OutboxEntry]:
    return [OutboxEntry("command", "table", f"saga:s;player;{n}", n.encode(), "00-trace-01") for n in names]


def _names(records) -> list[str]:
    return [r.entry.request.decode() for r in records]


async def test_a_reaction_is_recorded_once(store, make):
    trigger = make.key("player")
    first = await store.record_reaction(NewReaction(
        "saga:s", trigger, 3, _entries("a", "b"),
        progress=(Progress("saga:s", trigger, 3),), checkpoint=("saga:s", 40),
    ))
    assert first.fresh and _names(first.entries) == ["a", "b"] and first.commit is None
    assert [r.index for r in first.entries] == [0, 1] and {r.status for r in first.entries} == {"pending"}
    assert first.entries[0].entry == _entries("a")[0] and first.entries[0].trigger == trigger
    assert (first.entries[0].reactor, first.entries[0].trigger_sequence, first.entries[0].attempts) == ("saga:s", 3, 0)

    again = await store.record_reaction(NewReaction(
        "saga:s", trigger, 3, _entries("c"), progress=(Progress("saga:s", trigger, 9),), checkpoint=("saga:s", 90),
    ))
    assert not again.fresh and [r.id for r in again.entries] == [r.id for r in first.entries]
    assert await store.get_progress("saga:s", trigger) == 3
    assert await store.get_checkpoint("saga:s") == 40

    found = await store.find_reaction("saga:s", trigger, 3)
    assert not found.fresh and _names(found.entries) == ["a", "b"]
    assert await store.find_reaction("saga:s", trigger, 4) is None
    assert await store.find_reaction("saga:other", trigger, 3) is None
    assert (await store.record_reaction(NewReaction("saga:other", trigger, 3))).fresh  # key includes the reactor


async def test_a_process_manager_commit_records_its_reaction_atomically(store, make):
    trigger, state = make.key("hand"), make.key("hand-flow")
    reaction = NewReaction("pm:hand-flow", trigger, 5, _entries("x"), checkpoint=("pm:hand-flow", 12))
    record = await store.append(make.commit(state, 0, 2, correlation_id="g", reaction=reaction))
    found = await store.find_reaction("pm:hand-flow", trigger, 5)
    assert _names(found.entries) == ["x"]
    assert (found.commit.key, found.commit.first_position, found.commit.last_position) == (
        state, record.first_position, record.last_position
    )
    assert await store.get_checkpoint("pm:hand-flow") == 12

    # A redelivered trigger: whatever sequence it expects, the first result comes back.
    for expected in (0, 2):
        with pytest.raises(DuplicateCommit) as raised:
            await store.append(make.commit(state, expected, 1, reaction=NewReaction("pm:hand-flow", trigger, 5)))
        assert raised.value.kind == "reaction" and raised.value.existing.last_position == record.last_position
    assert (await store.load(state)).next_sequence == 2
    assert _names((await store.find_reaction("pm:hand-flow", trigger, 5)).entries) == ["x"]


async def test_a_failed_commit_records_no_reaction(store, make):
    trigger, state = make.key("hand"), make.key("hand-flow")
    with pytest.raises(SequenceConflict):
        await store.append(make.commit(state, 3, 1, reaction=NewReaction("pm:p", trigger, 1, _entries("x"))))
    assert await store.find_reaction("pm:p", trigger, 1) is None
    assert await store.pending_outbox() == 0


async def test_claims_follow_entry_order_per_trigger_aggregate(store, make):
    a, b = make.key("player"), make.key("player")
    await store.record_reaction(NewReaction("saga:s", a, 0, _entries("a0", "a1")))
    await store.record_reaction(NewReaction("saga:s", b, 0, _entries("b0")))
    await store.record_reaction(NewReaction("saga:s", a, 2, _entries("a2")))
    await store.record_reaction(NewReaction("saga:t", a, 0, _entries("t0")))
    assert await store.pending_outbox() == 5 and await store.pending_outbox("saga:s") == 4

    claimed = await store.claim_outbox("saga:s", lease_seconds=60, limit=10)
    assert _names(claimed) == ["a0", "b0"]  # at most one per trigger aggregate, in id order
    assert await store.claim_outbox("saga:s", lease_seconds=60) == []  # leased
    await store.settle_outbox(claimed[0].id, "done", result=b"commit")
    assert _names(await store.claim_outbox("saga:s", lease_seconds=60)) == ["a1"]
    await store.settle_outbox(claimed[1].id, "dead_lettered", error="UNIMPLEMENTED: no")
    # a1 is leased and unsettled: a2 (a later reaction on the same aggregate) must wait for it.
    assert await store.claim_outbox("saga:s", lease_seconds=60) == []
    assert _names(await store.claim_outbox("saga:t", lease_seconds=60)) == ["t0"]
    assert await store.pending_outbox("saga:s") == 2

    done = await store.find_reaction("saga:s", a, 0)
    assert [(r.status, r.result) for r in done.entries] == [("done", b"commit"), ("pending", None)]
    assert (await store.find_reaction("saga:s", b, 0)).entries[0].last_error == "UNIMPLEMENTED: no"


async def test_a_rejection_cancels_the_rest_of_its_reaction_only(store, make):
    a = make.key("player")
    await store.record_reaction(NewReaction("saga:s", a, 0, _entries("a0", "a1", "a2")))
    await store.record_reaction(NewReaction("saga:s", a, 1, _entries("b0")))
    first = await store.claim_outbox("saga:s", lease_seconds=60)
    await store.settle_outbox(first[0].id, "rejected", error="FAILED_PRECONDITION: no funds", cancel_rest=True)
    statuses = [r.status for r in (await store.find_reaction("saga:s", a, 0)).entries]
    assert statuses == ["rejected", "cancelled", "cancelled"]
    assert _names(await store.claim_outbox("saga:s", lease_seconds=60)) == ["b0"]


async def test_expired_leases_and_retry_delays(store, make):
    a = make.key("player")
    await store.record_reaction(NewReaction("saga:s", a, 0, _entries("a0")))
    claimed = await store.claim_outbox("saga:s", lease_seconds=0)
    assert _names(await store.claim_outbox("saga:s", lease_seconds=60)) == ["a0"]  # the 0 s lease expired

    await store.retry_outbox(claimed[0].id, error="UNAVAILABLE: down", delay_seconds=60)
    assert await store.claim_outbox("saga:s", lease_seconds=60) == []
    await store.retry_outbox(claimed[0].id, error="UNAVAILABLE: still down", delay_seconds=0)
    again = await store.claim_outbox("saga:s", lease_seconds=60)
    assert (again[0].id, again[0].attempts, again[0].last_error) == (claimed[0].id, 2, "UNAVAILABLE: still down")

    await store.settle_outbox(again[0].id, "done")
    await store.retry_outbox(again[0].id, error="late", delay_seconds=0)  # settled stays settled
    assert (await store.find_reaction("saga:s", a, 0)).entries[0].status == "done"


async def test_inline_dispatch_holds_the_lease_from_the_start(store, make):
    a = make.key("player")
    recorded = await store.record_reaction(NewReaction("saga:s", a, 0, _entries("a0"), lease_seconds=60))
    assert await store.claim_outbox("saga:s", lease_seconds=60) == []
    await store.settle_outbox(recorded.entries[0].id, "done")
    assert await store.pending_outbox() == 0


async def test_concurrent_claims_are_exclusive(store, make):
    for _ in range(30):
        await store.record_reaction(NewReaction("saga:s", make.key("player"), 0, _entries("x")))
    batches = await asyncio.gather(*(store.claim_outbox("saga:s", lease_seconds=60, limit=4) for _ in range(10)))
    ids = [r.id for batch in batches for r in batch]
    assert len(ids) == 30 and len(set(ids)) == 30


async def test_outbox_updates_reject_bad_input(store, make):
    recorded = await store.record_reaction(NewReaction("saga:s", make.key("player"), 0, _entries("x")))
    entry_id = recorded.entries[0].id
    with pytest.raises(ValueError):
        await store.settle_outbox(entry_id, "pending")
    with pytest.raises(OutboxEntryNotFound):
        await store.settle_outbox(entry_id + 1, "done")
    with pytest.raises(OutboxEntryNotFound):
        await store.retry_outbox(entry_id + 1, error="x", delay_seconds=0)
    assert (await store.claim_outbox("saga:s", lease_seconds=1))[0].id == entry_id
