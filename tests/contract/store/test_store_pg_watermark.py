"""PostgreSQL delivery from the global log (spec §6.2, §6.7): the gap-aware watermark on a real server.

Transactions are held open or rolled back on purpose by running the store's own append code inside
an outer transaction on a separate connection (``HeldAppend``): the commit takes its transaction id
and positions exactly as a real append does, and ends only when the test says so.
"""

from __future__ import annotations

import asyncio
import random
from types import SimpleNamespace

import asyncpg
import pytest

from angzarr_coordinator.store.base import CommitRecord, NewCommit, Progress, StoreError
from angzarr_coordinator.store.postgres import PostgresEventStore, writes
from angzarr_coordinator.store.postgres import watermark as watermark_module

# Generous bounds for things that must happen (never timing assertions): a loaded machine is slow.
PATIENCE = 60


class HeldAppend:
    """An append whose transaction stays open until ``commit`` or ``rollback``."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: asyncpg.Connection | None = None
        self.transaction = None
        self.record: CommitRecord | None = None

    async def start(self, commit: NewCommit) -> CommitRecord:
        self.conn = await asyncpg.connect(self.dsn)
        self.transaction = self.conn.transaction()
        await self.transaction.start()
        self.record = await writes.append(self.conn, writes.prepare_commit(commit))
        return self.record

    async def commit(self) -> None:
        await self.transaction.commit()
        await self.conn.close()

    async def rollback(self) -> None:
        await self.transaction.rollback()
        await self.conn.close()


@pytest.fixture
async def hold(pg_backend):
    """Makes ``HeldAppend``s; any still open at the end are closed (rolled back), so a failing test
    does not leave a transaction that blocks dropping the schema."""
    made: list[HeldAppend] = []

    def make_one() -> HeldAppend:
        made.append(HeldAppend(pg_backend.dsn))
        return made[-1]

    yield make_one
    for held in made:
        if held.conn is not None and not held.conn.is_closed():
            await held.conn.close()


@pytest.fixture
async def pg_store(pg_backend):
    store = pg_backend.create()
    await store.open()
    yield store
    await store.close()


async def _eventually(predicate, what: str) -> None:
    async def poll() -> None:
        while not await predicate():
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(poll(), PATIENCE)
    except TimeoutError:
        pytest.fail(f"{what} did not happen within {PATIENCE} s")


class _Histogram:
    def __init__(self) -> None:
        self.values: list[float] = []

    def record(self, value: float) -> None:
        self.values.append(value)


async def test_a_held_lower_position_holds_the_watermark_until_it_commits(pg_store, hold, make, monkeypatch):
    gap_wait = _Histogram()
    monkeypatch.setattr(watermark_module, "metrics", SimpleNamespace(log_gap_wait=gap_wait))
    before = await pg_store.append(make.commit(make.key(), 0, 1, tag="before"))
    held = hold()
    low = await held.start(make.commit(make.key(), 0, 2, tag="held"))
    high = await pg_store.append(make.commit(make.key(), 0, 1, tag="high"))
    assert before.last_position < low.first_position <= low.last_position < high.first_position

    # The higher commit is durable and acknowledged, but nothing past the open transaction is readable.
    assert await pg_store.watermark() == before.last_position
    assert await pg_store.read_log(before.last_position) == []
    await pg_store.reader.refresh()
    assert pg_store.reader.gap_pending and pg_store.reader.gap_wait > 0
    assert await pg_store.wait_for_commit(before.last_position, timeout=0.05) == before.last_position

    waiter = asyncio.ensure_future(pg_store.wait_for_commit(before.last_position, timeout=PATIENCE))
    await held.commit()
    assert await asyncio.wait_for(waiter, PATIENCE) >= high.last_position
    logged = await pg_store.read_log(before.last_position)
    assert [(c.first_position, c.last_position) for c in logged] == [
        (low.first_position, low.last_position), (high.first_position, high.last_position)
    ]
    assert [p.event.value for p in logged[0].pages] == [b"held#0", b"held#1"]
    assert not pg_store.reader.gap_pending and pg_store.reader.gap_wait == 0
    assert len(gap_wait.values) == 1 and gap_wait.values[0] > 0  # angzarr.log.gap_wait, in ms


async def test_a_rolled_back_hole_is_passed_once_its_transaction_ended(pg_store, hold, make):
    held = hold()
    hole = await held.start(make.commit(make.key(), 0, 3, tag="rolled-back"))
    high = await pg_store.append(make.commit(make.key(), 0, 1, tag="high"))
    assert await pg_store.watermark() < hole.first_position
    await held.rollback()
    assert await pg_store.wait_for_commit(hole.first_position, timeout=PATIENCE) == high.last_position
    logged = await pg_store.read_log(0)
    assert [(c.first_position, [p.event.value for p in c.pages]) for c in logged] == [
        (high.first_position, [b"high#0"])
    ]


async def test_concurrent_writers_never_make_a_tailer_skip_a_late_lower_commit(pg_store, hold, make):
    """Checklist item 60: writers on separate connections commit in any order, some hold their
    transaction open while higher positions commit, some roll back; a tailer reading from its
    checkpoint receives every committed commit exactly once, in position order, and none rolled back."""
    rng = random.Random(60)
    committed: dict[str, CommitRecord] = {}
    rolled_back: list[CommitRecord] = []
    overtaken: list[str] = []  # held commits that committed after a higher position had
    highest_committed = 0
    writers_done = asyncio.Event()

    async def writer(name: str) -> None:
        nonlocal highest_committed
        for n in range(12):
            tag = f"{name}.{n}"
            held = hold()
            record = await held.start(make.commit(make.key("race"), 0, rng.randint(1, 3), tag=tag))
            fate = rng.random()
            if fate < 0.35:
                await asyncio.sleep(rng.uniform(0.01, 0.08))  # held open while others commit
            if fate < 0.15:
                await held.rollback()
                rolled_back.append(record)
                continue
            await held.commit()
            if highest_committed > record.last_position:
                overtaken.append(tag)
            highest_committed = max(highest_committed, record.last_position)
            committed[tag] = record

    async def tailer() -> list[CommitRecord]:
        seen: list[CommitRecord] = []
        checkpoint = 0
        while True:
            batch = await pg_store.read_log(checkpoint, limit=7)
            if batch:
                seen.extend(batch)
                checkpoint = batch[-1].last_position
                continue
            # Done once the writers are and the watermark covers the highest commit: all was read.
            if writers_done.is_set() and await pg_store.watermark() >= highest_committed:
                return seen
            await pg_store.wait_for_commit(checkpoint, timeout=0.2)

    reading = asyncio.ensure_future(tailer())
    await asyncio.gather(*(writer(f"w{i}") for i in range(6)))
    writers_done.set()
    seen = await asyncio.wait_for(reading, PATIENCE)

    tags = [c.pages[0].event.value.decode().split("#")[0] for c in seen]
    assert sorted(tags) == sorted(committed), "a committed commit was skipped or one rolled back was delivered"
    assert len(set(tags)) == len(tags)
    assert [c.first_position for c in seen] == sorted(c.first_position for c in seen)
    for commit in seen:
        tag = commit.pages[0].event.value.decode().split("#")[0]
        assert (commit.first_position, commit.last_position) == (
            committed[tag].first_position, committed[tag].last_position
        )
    # The history really had late lower commits and holes below committed positions.
    assert overtaken, "no commit landed below an already committed position; the test proved nothing"
    assert any(r.last_position < highest_committed for r in rolled_back)


async def test_another_process_commit_wakes_a_waiter_through_notify(pg_backend, make):
    writer = pg_backend.create()
    # Polls so rare that within the wait only NOTIFY can bring news of the other store's commit.
    reader = pg_backend.create(poll_interval=3600)
    await writer.open()
    await reader.open()
    try:
        await _eventually(_async(lambda: reader.reader.listening), "LISTEN")
        head = await reader.watermark()
        waiter = asyncio.ensure_future(reader.wait_for_commit(head, timeout=PATIENCE))
        record = await writer.append(make.commit(make.key(), 0, 2))
        assert await asyncio.wait_for(waiter, PATIENCE) >= record.last_position
        assert [c.last_position for c in await reader.read_log(head)] == [record.last_position]
    finally:
        await reader.close()
        await writer.close()


async def test_the_listener_reconnects_after_its_connection_is_killed(pg_backend, make):
    writer = pg_backend.create()
    reader = pg_backend.create(poll_interval=3600)
    await writer.open()
    await reader.open()
    try:
        await _eventually(_async(lambda: reader.reader.listening), "LISTEN")
        killed = reader.reader.listener_pid
        pg_backend.execute("SELECT pg_terminate_backend($1)", killed)
        await _eventually(
            _async(lambda: reader.reader.listener_connects >= 2 and reader.reader.listener_pid not in (None, killed)),
            "LISTEN reconnect",
        )
        head = await reader.watermark()
        waiter = asyncio.ensure_future(reader.wait_for_commit(head, timeout=PATIENCE))
        record = await writer.append(make.commit(make.key(), 0, 1))
        assert await asyncio.wait_for(waiter, PATIENCE) >= record.last_position
    finally:
        await reader.close()
        await writer.close()


async def test_without_listen_polling_still_delivers(pg_backend, make):
    writer = pg_backend.create()
    reader = pg_backend.create(listen=False, poll_interval=0.05)
    await writer.open()
    await reader.open()
    try:
        assert not reader.reader.listening
        head = await reader.watermark()
        record = await writer.append(make.commit(make.key(), 0, 1))
        assert await reader.wait_for_commit(head, timeout=PATIENCE) >= record.last_position
        assert reader.reader.listener_connects == 0
    finally:
        await reader.close()
        await writer.close()


async def test_open_catches_up_with_a_log_written_before(pg_backend, make):
    first = pg_backend.create()
    await first.open()
    records = [await first.append(make.commit(make.key(), 0, 2)) for _ in range(3)]
    await first.close()
    second = pg_backend.create()
    await second.open()
    try:
        assert await second.watermark() == records[-1].last_position
    finally:
        await second.close()


def _async(check):
    async def run() -> bool:
        return bool(check())

    return run


def test_reader_settings_are_checked():
    with pytest.raises(ValueError):
        PostgresEventStore("postgresql://localhost/x", poll_interval=0)
    with pytest.raises(ValueError):
        PostgresEventStore("postgresql://localhost/x", catch_up=-1)


async def test_own_failed_appends_do_not_hold_the_watermark_behind_a_long_transaction(
    pg_store, pg_backend, make
):
    """A hole left by this process's failed append is known to be permanent: it is passed even while
    an unrelated long transaction keeps the cluster's xmin back."""
    pg_backend.fail_inserts("progress", "subscriber", "boom")
    long_running = await asyncpg.connect(pg_backend.dsn)
    try:
        await long_running.execute("BEGIN; SELECT pg_current_xact_id()")
        first = await pg_store.append(make.commit(make.key(), 0, 1, tag="first"))
        failing = make.key()
        with pytest.raises(StoreError):
            await pg_store.append(make.commit(failing, 0, 2, progress=(Progress("boom", failing, 1),)))
        last = await pg_store.append(make.commit(make.key(), 0, 1, tag="last"))
        assert last.first_position > first.last_position + 1  # the failed append's positions lie between
        assert await pg_store.watermark() == last.last_position
        assert [c.pages[0].event.value for c in await pg_store.read_log(0)] == [b"first#0", b"last#0"]
    finally:
        await long_running.close()
