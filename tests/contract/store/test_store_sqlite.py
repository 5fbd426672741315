"""SQLite-specific behaviour (spec/coordinator.md §9.2): locking, files, WAL, group commit, schema."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from angzarr_coordinator.store.base import SchemaError, StoreLocked, StoreUnavailable
from angzarr_coordinator.store.migrations import load_migrations
from angzarr_coordinator.store.sqlite import SqliteEventStore


@pytest.fixture
async def sqlite_store(tmp_path: Path):
    store = SqliteEventStore(tmp_path / "events.db")
    await store.open()
    yield store
    await store.close()


def _side(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


async def test_second_open_of_the_same_file_is_refused(sqlite_store, tmp_path):
    with pytest.raises(StoreLocked) as raised:
        await SqliteEventStore(tmp_path / "events.db").open()
    assert "in use by process" in str(raised.value) and str(os.getpid()) in str(raised.value)


async def test_second_process_is_refused_with_a_clear_error(sqlite_store, tmp_path):
    script = (
        "import asyncio, sys\n"
        "from angzarr_coordinator.store.sqlite import SqliteEventStore\n"
        "from angzarr_coordinator.store.base import StoreLocked\n"
        "try:\n"
        f"    asyncio.run(SqliteEventStore({str(tmp_path / 'events.db')!r}).open())\n"
        "except StoreLocked as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "is in use by process" in result.stdout and "events.db.lock" in result.stdout


async def test_close_releases_the_lock_and_checkpoints_the_wal(tmp_path, make):
    path = tmp_path / "events.db"
    store = SqliteEventStore(path)
    await store.open()
    key = make.key()
    await store.append(make.commit(key, 0, 50))
    assert (tmp_path / "events.db-wal").stat().st_size > 0
    await store.close()
    await store.close()  # idempotent
    wal = tmp_path / "events.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert not (tmp_path / "events.db.lock").exists()
    reopened = SqliteEventStore(path)
    await reopened.open()
    assert (await reopened.load(key)).next_sequence == 50
    await reopened.close()


async def test_files_are_private_and_journaled_in_wal_mode(sqlite_store, tmp_path, make):
    await sqlite_store.append(make.commit(make.key(), 0, 1))
    for name in ("events.db", "events.db-wal", "events.db-shm", "events.db.lock"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    conn = _side(tmp_path / "events.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_closed_store_refuses_work(tmp_path, make):
    store = SqliteEventStore(tmp_path / "events.db")
    with pytest.raises(StoreUnavailable):
        await store.load(make.key())
    await store.open()
    await store.close()
    for call in (store.append(make.commit(make.key(), 0, 1)), store.load(make.key()), store.watermark()):
        with pytest.raises(StoreUnavailable):
            await call
    with pytest.raises(StoreUnavailable, match="closed"):
        await store.open()


def test_bad_options_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="synchronous"):
        SqliteEventStore(tmp_path / "x.db", synchronous="off")
    with pytest.raises(ValueError, match="readers"):
        SqliteEventStore(tmp_path / "x.db", readers=0)


async def test_a_file_that_is_not_a_database_fails_clearly(tmp_path):
    path = tmp_path / "events.db"
    path.write_bytes(b"this is not a database" * 100)
    store = SqliteEventStore(path)
    with pytest.raises(StoreUnavailable, match="not a database"):
        await store.open()
    assert not (tmp_path / "events.db.lock").exists()


async def test_appends_queued_during_a_transaction_share_the_next_one(sqlite_store, make, tmp_path):
    keys = [make.key() for _ in range(20)]
    before = sqlite_store.transactions
    conn = _side(tmp_path / "events.db")
    conn.execute("BEGIN IMMEDIATE")
    tasks = [asyncio.ensure_future(sqlite_store.append(make.commit(k, 0, 1))) for k in keys]
    await asyncio.sleep(0.1)
    assert not any(t.done() for t in tasks)  # nobody is answered before their COMMIT
    conn.execute("ROLLBACK")
    conn.close()
    await asyncio.gather(*tasks)
    # The first append may have started its own transaction; every later one joined the next.
    assert sqlite_store.transactions - before <= 2


async def test_rows_committed_behind_the_writer_stay_beyond_the_watermark(sqlite_store, make, tmp_path):
    record = await sqlite_store.append(make.commit(make.key(), 0, 1))
    conn = _side(tmp_path / "events.db")
    conn.execute(
        "INSERT INTO events (domain, edition, root, sequence, commit_first, commit_last, correlation_id, "
        "type_name, created_at, page) VALUES ('x', 'angzarr', ?, 0, 1, 1, 'c', 't', 0, x'')",
        (bytes(16),),
    )
    conn.close()
    assert await sqlite_store.watermark() == record.last_position
    assert [c.last_position for c in await sqlite_store.read_log(0)] == [record.last_position]


async def test_schema_migrations_are_recorded(sqlite_store, tmp_path):
    conn = _side(tmp_path / "events.db")
    rows = conn.execute("SELECT version, name, checksum, applied_at FROM schema_migrations").fetchall()
    conn.close()
    shipped = load_migrations("sqlite")
    assert [(v, n, c) for v, n, c, _ in rows] == [(m.version, m.name, m.checksum) for m in shipped]
    assert all(applied for *_, applied in rows)


async def _reopen_fails(path: Path) -> str:
    store = SqliteEventStore(path)
    with pytest.raises(SchemaError) as raised:
        await store.open()
    assert not path.with_name(path.name + ".lock").exists()
    return str(raised.value)


async def test_a_changed_migration_stops_the_store(tmp_path):
    path = tmp_path / "events.db"
    store = SqliteEventStore(path)
    await store.open()
    await store.close()
    conn = _side(path)
    conn.execute("UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1")
    conn.close()
    assert "forward-only" in await _reopen_fails(path)


async def test_a_newer_schema_stops_the_store(tmp_path):
    path = tmp_path / "events.db"
    store = SqliteEventStore(path)
    await store.open()
    await store.close()
    conn = _side(path)
    conn.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'x', '2030-01-01')")
    conn.close()
    message = await _reopen_fails(path)
    assert "version 9999" in message and "upgrade angzarr" in message


async def test_stored_page_bytes_are_the_stamped_serialization(sqlite_store, make, tmp_path):
    key = make.key()
    commit = make.commit(key, 0, 3, correlation_id="c")
    record = await sqlite_store.append(commit)
    conn = _side(tmp_path / "events.db")
    rows = conn.execute(
        "SELECT position, sequence, commit_first, commit_last, correlation_id, type_name, created_at, page "
        "FROM events ORDER BY position"
    ).fetchall()
    conn.close()
    assert [r[0] for r in rows] == list(range(record.first_position, record.last_position + 1))
    assert [r[7] for r in rows] == [p.SerializeToString() for p in commit.pages]
    assert [(r[1], r[2], r[3]) for r in rows] == [(0, 1, 0), (1, 0, 0), (2, 0, 1)]
    assert {r[4] for r in rows} == {"c"} and {r[5] for r in rows} == {"examples.TestEvent"}
    assert rows[1][6] == commit.pages[1].created_at.ToNanoseconds()


async def test_a_missing_directory_fails_clearly(tmp_path):
    with pytest.raises(StoreUnavailable, match="directory exists"):
        await SqliteEventStore(tmp_path / "nowhere" / "events.db").open()


async def test_opening_releases_the_outbox_leases_of_a_dead_process(tmp_path, make):
    """A lease is a claim by a running dispatcher; whoever takes the process lock knows every lease in
    the file belongs to a process that is gone, so its entries are claimable at once."""
    from angzarr_coordinator.store.base import NewReaction, OutboxEntry

    path = tmp_path / "events.db"
    store = SqliteEventStore(path)
    await store.open()
    trigger, other = make.key("player"), make.key("player")
    entry = OutboxEntry("command", "table", "saga:s;player;a0", b"a0", "")
    await store.record_reaction(NewReaction("saga:s", trigger, 0, [entry], lease_seconds=600))  # inline dispatch
    await store.record_reaction(NewReaction("saga:s", other, 0, [OutboxEntry("command", "table", "saga:s;b0", b"b0", "")]))
    claimed = await store.claim_outbox("saga:s", lease_seconds=600)
    assert [r.entry.request for r in claimed] == [b"b0"]
    assert await store.claim_outbox("saga:s", lease_seconds=600) == []  # both leased for 10 minutes
    await store.close()  # (a killed process leaves the same rows behind; the lock goes with it)

    reopened = SqliteEventStore(path)
    await reopened.open()
    try:
        again = await reopened.claim_outbox("saga:s", lease_seconds=600)
        assert sorted(r.entry.request for r in again) == [b"a0", b"b0"]
        assert all(r.status == "pending" for r in again)
        assert await reopened.claim_outbox("saga:s", lease_seconds=600) == []  # the new claims hold
    finally:
        await reopened.close()
