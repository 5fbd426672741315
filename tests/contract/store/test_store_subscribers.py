"""Contract: subscriber checkpoints and progress (monotonic, durable) and dead letters."""

from __future__ import annotations

import asyncio

import pytest

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import DeadLetterNotFound, Progress


async def test_checkpoints_only_move_forward(store):
    assert await store.get_checkpoint("hand-log") == 0
    await store.set_checkpoint("hand-log", 10)
    await store.set_checkpoint("hand-log", 4)
    assert await store.get_checkpoint("hand-log") == 10
    await store.set_checkpoint("hand-log", 10)
    await store.set_checkpoint("hand-log", 25)
    assert await store.get_checkpoint("hand-log") == 25
    await store.set_checkpoint("table-saga", 3)
    assert (await store.get_checkpoint("hand-log"), await store.get_checkpoint("table-saga")) == (25, 3)


async def test_checkpoints_and_progress_survive_reopening(backend, make):
    key = make.key()
    first = backend.create()
    await first.open()
    await first.set_checkpoint("s", 42)
    await first.set_progress(Progress("s", key, 7))
    await first.close()
    second = backend.create()
    await second.open()
    try:
        assert await second.get_checkpoint("s") == 42
        assert await second.get_progress("s", key) == 7
    finally:
        await second.close()


async def test_progress_is_per_subscriber_and_aggregate_and_monotonic(store, make):
    a, b = make.key(), make.key()
    assert await store.get_progress("pm", a) is None
    await store.set_progress(Progress("pm", a, 0))
    assert await store.get_progress("pm", a) == 0
    await store.set_progress(Progress("pm", a, 5))
    await store.set_progress(Progress("pm", a, 2))
    await store.set_progress(Progress("pm", b, 1))
    assert (await store.get_progress("pm", a), await store.get_progress("pm", b)) == (5, 1)
    assert await store.get_progress("other", a) is None
    with pytest.raises(ValueError):
        await store.set_progress(Progress("pm", a, -1))


async def test_progress_rows_commit_with_the_events(store, make):
    trigger, state = make.key("hand"), make.key("hand-flow")
    await store.set_progress(Progress("pm:hand-flow", trigger, 9))
    await store.append(make.commit(state, 0, 1, progress=(
        Progress("pm:hand-flow", trigger, 4),  # behind the stored 9: ignored
        Progress("projector:log", trigger, 4),
    )))
    assert await store.get_progress("pm:hand-flow", trigger) == 9
    assert await store.get_progress("projector:log", trigger) == 4


def _letter(domain: str, reason: str) -> types_pb2.AngzarrDeadLetter:
    letter = types_pb2.AngzarrDeadLetter(
        rejection_reason=reason, source_component="table-saga", source_component_type="saga",
    )
    letter.cover.domain = domain
    letter.cover.root.value = bytes(range(16))
    letter.cover.correlation_id = "game-1"
    letter.occurred_at.FromSeconds(1_700_000_000)
    letter.metadata["reactor"] = "saga:table-saga"
    letter.sequence_mismatch.expected_sequence = 3
    letter.sequence_mismatch.actual_sequence = 5
    return letter


async def test_dead_letters_round_trip_and_list_by_status(store):
    first = _letter("table", "Sequence mismatch")
    second = _letter("hand", "INTERNAL: boom")
    first_id = await store.add_dead_letter(first)
    second_id = await store.add_dead_letter(second, subscriber="projector:hand-log")
    assert second_id > first_id

    record = await store.get_dead_letter(first_id)
    assert record.letter == first and record.letter.SerializeToString() == first.SerializeToString()
    assert (record.status, record.attempts, record.last_error, record.subscriber) == ("open", 0, "", None)
    assert record.created_at.tzinfo is not None and record.updated_at >= record.created_at
    assert (await store.get_dead_letter(second_id)).subscriber == "projector:hand-log"
    assert await store.get_dead_letter(second_id + 100) is None

    assert [r.id for r in await store.list_dead_letters()] == [first_id, second_id]
    await store.update_dead_letter(first_id, status="replay_requested")
    assert [r.id for r in await store.list_dead_letters("open")] == [second_id]
    assert [r.id for r in await store.list_dead_letters("replay_requested")] == [first_id]
    assert await store.list_dead_letters("replayed") == []


async def test_dead_letter_updates_count_attempts_and_keep_the_last_error(store):
    letter_id = await store.add_dead_letter(_letter("table", "x"))
    await store.update_dead_letter(letter_id, status="open", last_error="UNAVAILABLE: down", attempted=True)
    await store.update_dead_letter(letter_id, status="replay_requested")
    record = await store.get_dead_letter(letter_id)
    assert (record.status, record.attempts, record.last_error) == ("replay_requested", 1, "UNAVAILABLE: down")
    await store.update_dead_letter(letter_id, status="replayed", last_error="", attempted=True)
    record = await store.get_dead_letter(letter_id)
    assert (record.status, record.attempts, record.last_error) == ("replayed", 2, "")
    await store.update_dead_letter(letter_id, status="discarded")
    assert (await store.get_dead_letter(letter_id)).status == "discarded"


async def test_dead_letter_updates_reject_unknown_ids_and_statuses(store):
    letter_id = await store.add_dead_letter(_letter("table", "x"))
    with pytest.raises(DeadLetterNotFound) as raised:
        await store.update_dead_letter(letter_id + 1, status="replayed")
    assert raised.value.letter_id == letter_id + 1
    with pytest.raises(ValueError):
        await store.update_dead_letter(letter_id, status="deleted")
    assert (await store.get_dead_letter(letter_id)).status == "open"


async def test_close_finishes_queued_writes(backend, make):
    store = backend.create()
    await store.open()
    keys = [make.key() for _ in range(20)]
    with backend.writes_blocked():
        appends = [asyncio.ensure_future(store.append(make.commit(k, 0, 2))) for k in keys]
        await asyncio.sleep(0.05)  # all queued behind the held lock
        closing = asyncio.ensure_future(store.close())
        await asyncio.sleep(0.05)
        assert not closing.done()
    await asyncio.wait_for(closing, 30)
    records = await asyncio.gather(*appends)
    reopened = backend.create()
    await reopened.open()
    try:
        for key, record in zip(keys, records):
            loaded = await reopened.load(key)
            assert [p.SerializeToString() for p in loaded.pages] == [p.SerializeToString() for p in record.pages]
    finally:
        await reopened.close()
