"""PostgreSQL: schema, migrations (spec §9.3), connection errors, the store factory, cancellation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from angzarr_coordinator.store import open_store, store_for
from angzarr_coordinator.store.base import SchemaError, StoreUnavailable
from angzarr_coordinator.store.migrations import Migration, load_migrations
from angzarr_coordinator.store.postgres import PostgresEventStore, schema
from angzarr_coordinator.store.sqlite import SqliteEventStore


def test_postgres_migrations_are_numbered_from_one_without_gaps():
    shipped = load_migrations("postgres")
    assert [m.version for m in shipped] == list(range(1, len(shipped) + 1))
    assert shipped[0].name == "initial" and "CREATE TABLE events" in shipped[0].sql


async def test_open_migrates_a_fresh_schema_once(pg_backend):
    store = await open_store(pg_backend.dsn)
    await store.close()
    reopened = await open_store(pg_backend.dsn)  # nothing left to apply: a no-op
    await reopened.close()
    rows = pg_backend.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    assert [(r["version"], r["name"], r["checksum"]) for r in rows] == [
        (m.version, m.name, m.checksum) for m in load_migrations("postgres")
    ]


async def test_the_events_table_has_the_watermark_columns(pg_backend, make):
    store = await open_store(pg_backend.dsn)
    try:
        first = await store.append(make.commit(make.key(), 0, 3))
        second = await store.append(make.commit(make.key(), 0, 2))
    finally:
        await store.close()
    cache = pg_backend.fetch(
        "SELECT seqcache FROM pg_sequence WHERE seqrelid = pg_get_serial_sequence('events', 'position')::regclass"
    )
    assert cache[0]["seqcache"] == 1  # positions are handed out in time order (§6.2)
    types = pg_backend.fetch(
        "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
        "WHERE attrelid = 'events'::regclass AND attname IN ('tx_id', 'root', 'created_at', 'page')"
    )
    assert {r["attname"]: r["type"] for r in types} == {
        "tx_id": "xid8", "root": "uuid", "created_at": "timestamp with time zone", "page": "bytea"
    }
    rows = pg_backend.fetch("SELECT position, tx_id::text AS tx FROM events ORDER BY position")
    by_commit = [
        {r["tx"] for r in rows if first.first_position <= r["position"] <= first.last_position},
        {r["tx"] for r in rows if second.first_position <= r["position"] <= second.last_position},
    ]
    # One transaction id per commit, taken by the append's own transaction.
    assert [len(ids) for ids in by_commit] == [1, 1] and by_commit[0] != by_commit[1]


async def test_a_changed_migration_stops_the_store(pg_backend):
    await (await open_store(pg_backend.dsn)).close()
    pg_backend.execute("UPDATE schema_migrations SET checksum = 'f00d' WHERE version = 1")
    with pytest.raises(SchemaError, match="0001_initial.*forward-only"):
        await open_store(pg_backend.dsn)


async def test_a_newer_schema_stops_the_store(pg_backend):
    await (await open_store(pg_backend.dsn)).close()
    pg_backend.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'future', 'x')")
    with pytest.raises(SchemaError, match="version 999.*upgrade angzarr"):
        await open_store(pg_backend.dsn)


async def test_without_migrate_an_old_schema_is_refused_until_migrated(pg_backend):
    with pytest.raises(SchemaError, match="angzarr db migrate"):
        await open_store(pg_backend.dsn, migrate=False)
    assert pg_backend.fetch("SELECT to_regclass('events') AS t")[0]["t"] is None
    await (await open_store(pg_backend.dsn)).close()
    await (await open_store(pg_backend.dsn, migrate=False)).close()


async def test_stores_opening_a_fresh_schema_together_apply_each_migration_once(pg_backend):
    stores = [store_for(pg_backend.dsn) for _ in range(5)]
    await asyncio.gather(*(s.open() for s in stores))
    await asyncio.gather(*(s.close() for s in stores))
    rows = pg_backend.fetch("SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in rows] == [m.version for m in load_migrations("postgres")]


async def test_a_failing_migration_applies_nothing_of_itself(pg_backend, monkeypatch):
    shipped = load_migrations("postgres")
    broken = Migration(len(shipped) + 1, "broken", "CREATE TABLE half_done (x int); SELECT no_such_function();")
    monkeypatch.setattr(schema, "load_migrations", lambda backend: [*shipped, broken])
    with pytest.raises(SchemaError, match=rf"(?s){broken.version:04d}_broken failed.*nothing of it was applied"):
        await open_store(pg_backend.dsn)
    versions = [r["version"] for r in pg_backend.fetch("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [m.version for m in shipped]
    assert pg_backend.fetch("SELECT to_regclass('half_done') AS t")[0]["t"] is None


async def test_an_unreachable_server_is_unavailable_and_the_password_stays_secret(make):
    store = PostgresEventStore("postgresql://angzarr:s3cret@127.0.0.1:1/events")
    with pytest.raises(StoreUnavailable) as raised:
        await store.open()
    assert "127.0.0.1:1" in str(raised.value) and "s3cret" not in str(raised.value)
    with pytest.raises(StoreUnavailable):
        await store.load(make.key())


async def test_a_missing_database_is_unavailable(postgres_test_database):
    from urllib.parse import urlsplit

    missing = urlsplit(postgres_test_database)._replace(path="/angzarr_no_such_database").geturl()
    with pytest.raises(StoreUnavailable, match="angzarr_no_such_database"):
        await open_store(missing)


def test_store_for_picks_the_backend_by_target(tmp_path: Path):
    assert isinstance(store_for("postgres://db.example/events"), PostgresEventStore)
    assert isinstance(store_for("postgresql://u@db.example:5433/events?search_path=x"), PostgresEventStore)
    assert isinstance(store_for(tmp_path / "events.db"), SqliteEventStore)
    assert isinstance(store_for(str(tmp_path / "events.db"), synchronous="normal"), SqliteEventStore)
    with pytest.raises(ValueError, match="mysql"):
        store_for("mysql://db.example/events")
    with pytest.raises(ValueError):
        PostgresEventStore(str(tmp_path / "events.db"))
    with pytest.raises(ValueError):
        PostgresEventStore("postgresql://db.example/events", pool_size=0)


async def test_a_cancelled_append_still_stands(pg_backend, make):
    """As on SQLite (spec §3.4): cancelling the caller does not undo or half-write the commit."""
    store = await open_store(pg_backend.dsn)
    key = make.key()
    appending = asyncio.ensure_future(store.append(make.commit(key, 0, 3)))
    await asyncio.sleep(0)
    appending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await appending
    await store.close()  # waits for the write the cancelled caller started
    reopened = await open_store(pg_backend.dsn)
    try:
        assert make.sequences((await reopened.load(key)).pages) == [0, 1, 2]
    finally:
        await reopened.close()


async def test_a_closed_store_refuses_work(pg_backend, make):
    store = await open_store(pg_backend.dsn)
    await store.close()
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.load(make.key())
    with pytest.raises(StoreUnavailable):
        await store.watermark()
    with pytest.raises(StoreUnavailable, match="closed"):
        await store.open()


async def test_the_store_recovers_when_its_connections_are_killed(pg_backend, make):
    store = await open_store(pg_backend.dsn)
    try:
        key = make.key()
        await store.append(make.commit(key, 0, 1))
        killed = pg_backend.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'angzarr' AND datname = current_database()"
        )
        assert len(killed) >= 3  # the pool, the reader's pool and the LISTEN connection
        # Each operation either fails as unavailable or, on a fresh connection, succeeds.
        failures: list[BaseException] = []
        for _ in range(20):
            try:
                record = await store.append(make.commit(key, 1, 1))
                break
            except StoreUnavailable as exc:
                failures.append(exc)
                await asyncio.sleep(0.05)
        else:
            pytest.fail(f"the store never recovered: {failures[-1]}")
        assert await store.wait_for_commit(record.first_position - 1, timeout=60) >= record.last_position
        assert make.sequences((await store.load(key)).pages) == [0, 1]
    finally:
        await store.close()
