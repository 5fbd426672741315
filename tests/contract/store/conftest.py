"""Fixtures of the EventStore contract suite (spec/coordinator.md §9.4).

Every test that takes ``store`` or ``backend`` runs once per backend in ``BACKENDS``. A backend is
described by a small adapter class: how to create a store on fresh storage, how to start a writer
subprocess on the same storage (crash tests), how to hold the database's write lock from outside
(group-commit tests) and how to inject a failure into one table's inserts. The ``postgres`` adapter
is built on the repo-root ``postgres_dsn`` fixture: one throwaway database per session, one schema
per test (skipped without a server, failing instead under ``CI``/``ANGZARR_REQUIRE_POSTGRES``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
import threading
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import AggregateKey, EventStore, NewCommit, NewReaction, Progress
from angzarr_coordinator.store.postgres import PostgresEventStore
from angzarr_coordinator.store.sqlite import SqliteEventStore

HERE = Path(__file__).parent
BACKENDS = ["sqlite", "postgres"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class SqliteBackend:
    """A fresh SQLite file in the test's temporary directory."""

    name = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.path = directory / "events.db"

    def create(self, **options: object) -> EventStore:
        return SqliteEventStore(self.path, **options)  # type: ignore[arg-type]

    def writer_command(self, *args: str) -> list[str]:
        """Command line of the crash-test writer subprocess on this storage."""
        return [sys.executable, str(HERE / "store_crash_writer.py"), "sqlite", str(self.path), *args]

    @contextlib.contextmanager
    def writes_blocked(self) -> Iterator[None]:
        """Hold the database write lock from another connection; the store's writer waits for it."""
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()

    def fail_inserts(self, table: str, column: str, value: str) -> None:
        """Make every insert into ``table`` whose ``column`` equals ``value`` fail inside the database."""
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute(
            f"CREATE TRIGGER injected_{table}_failure BEFORE INSERT ON {table} "
            f"WHEN NEW.{column} = '{value}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )
        conn.close()


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> SqliteBackend:
    return SqliteBackend(tmp_path)


def run_beside(make: Callable[[], Awaitable[object]]) -> object:
    """Run a coroutine to completion on a private event loop in another thread and return its result.

    The adapters' helpers are synchronous (they are called inside running tests) while asyncpg is
    asynchronous; a thread of its own keeps the test's loop out of it.
    """
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = asyncio.run(make())  # type: ignore[arg-type]
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="store-test-admin")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("result")


def with_query(dsn: str, **params: str) -> str:
    """``dsn`` with query parameters added (asyncpg sends unknown ones as server settings)."""
    parts = urllib.parse.urlsplit(dsn)
    query = urllib.parse.parse_qsl(parts.query) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def with_database(dsn: str, database: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(dsn)._replace(path="/" + database))


@pytest.fixture(scope="session")
def postgres_test_database(postgres_dsn: str) -> Iterator[str]:
    """A database of its own for this test session (other users of the server stay apart), dropped at
    the end. Yields its DSN."""
    import asyncpg

    name = f"angzarr_store_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(postgres_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run_beside(lambda: admin(f"CREATE DATABASE {name}"))
    try:
        yield with_database(postgres_dsn, name)
    finally:
        run_beside(lambda: admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


class PostgresBackend:
    """A fresh schema in the session's throwaway database, selected with ``search_path``."""

    name = "postgres"

    def __init__(self, database_dsn: str) -> None:
        self.schema = f"t_{uuid.uuid4().hex[:16]}"
        self.database_dsn = database_dsn
        self.dsn = with_query(database_dsn, search_path=self.schema)
        self.execute(f"CREATE SCHEMA {self.schema}")

    def create(self, **options: object) -> EventStore:
        return PostgresEventStore(self.dsn, **options)  # type: ignore[arg-type]

    def writer_command(self, *args: str) -> list[str]:
        """Command line of the crash-test writer subprocess on this schema."""
        return [sys.executable, str(HERE / "store_crash_writer.py"), "postgres", self.dsn, *args]

    def execute(self, sql: str, *args: object) -> None:
        """Run one statement in this schema, outside the store."""
        import asyncpg

        async def run() -> None:
            conn = await asyncpg.connect(self.dsn)
            try:
                await conn.execute(sql, *args)
            finally:
                await conn.close()

        run_beside(run)

    def fetch(self, sql: str, *args: object) -> list:
        import asyncpg

        async def run() -> list:
            conn = await asyncpg.connect(self.dsn)
            try:
                return await conn.fetch(sql, *args)
            finally:
                await conn.close()

        return run_beside(run)  # type: ignore[return-value]

    @contextlib.contextmanager
    def writes_blocked(self) -> Iterator[None]:
        """Hold a lock on the events table that lets reads through and makes every INSERT wait."""
        import asyncpg

        locked, release = threading.Event(), threading.Event()
        failure: list[BaseException] = []

        async def hold() -> None:
            conn = await asyncpg.connect(self.dsn)
            try:
                async with conn.transaction():
                    await conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
                    locked.set()
                    while not release.is_set():
                        await asyncio.sleep(0.005)
            finally:
                await conn.close()

        def run() -> None:
            try:
                asyncio.run(hold())
            except BaseException as exc:
                failure.append(exc)
                locked.set()

        thread = threading.Thread(target=run, name="store-test-lock")
        thread.start()
        locked.wait()
        if failure:
            raise failure[0]
        try:
            yield
        finally:
            release.set()
            thread.join()

    def fail_inserts(self, table: str, column: str, value: str) -> None:
        """Make every insert into ``table`` whose ``column`` equals ``value`` fail inside the database."""
        self.execute(
            f"CREATE FUNCTION injected_{table}_failure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.{column}::text = '{value}' THEN RAISE EXCEPTION 'injected failure'; END IF; "
            "RETURN NEW; END $$"
        )
        self.execute(
            f"CREATE TRIGGER injected_{table}_failure BEFORE INSERT ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION injected_{table}_failure()"
        )

    def drop(self) -> None:
        self.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> PostgresBackend:
    adapter = PostgresBackend(request.getfixturevalue("postgres_test_database"))
    request.addfinalizer(adapter.drop)
    return adapter


# Backend name -> adapter factory.
ADAPTERS = {"sqlite": _sqlite, "postgres": _postgres}


@pytest.fixture
def pg_backend(request: pytest.FixtureRequest, tmp_path: Path) -> PostgresBackend:
    """The PostgreSQL adapter alone, for the PostgreSQL-specific tests (``test_store_pg_*``)."""
    return _postgres(request, tmp_path)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> SqliteBackend | PostgresBackend:
    return ADAPTERS[request.param](request, tmp_path)


@pytest.fixture
async def store(backend: SqliteBackend | PostgresBackend) -> AsyncIterator[EventStore]:
    opened = backend.create()
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


class Factory:
    """Builds keys, stamped pages and commits the way the command pipeline does.

    Page ``n`` is created at ``t0 + n`` seconds unless told otherwise.
    """

    t0 = T0

    def key(self, domain: str = "player") -> AggregateKey:
        return AggregateKey(domain, uuid.uuid4())

    def page(self, sequence: int, *, tag: str = "", at: datetime | None = None) -> types_pb2.EventPage:
        page = types_pb2.EventPage()
        page.header.sequence = sequence
        page.event.type_url = "type.googleapis.com/examples.TestEvent"
        page.event.value = f"{tag}#{sequence}".encode()
        page.created_at.FromDatetime(at or T0 + timedelta(seconds=sequence))
        return page

    def pages(self, start: int, count: int, *, tag: str = "") -> list[types_pb2.EventPage]:
        return [self.page(start + i, tag=tag) for i in range(count)]

    @staticmethod
    def sequences(pages: list[types_pb2.EventPage]) -> list[int]:
        return [p.header.sequence for p in pages]

    @staticmethod
    def wire(pages: list[types_pb2.EventPage]) -> list[bytes]:
        return [p.SerializeToString() for p in pages]

    def snapshot(self, retention: int = types_pb2.RETENTION_DEFAULT, state: bytes = b"state") -> types_pb2.Snapshot:
        snapshot = types_pb2.Snapshot(retention=retention)
        snapshot.state.type_url = "type.googleapis.com/examples.TestState"
        snapshot.state.value = state
        return snapshot

    def commit(
        self,
        key: AggregateKey,
        start: int,
        count: int = 1,
        *,
        correlation_id: str = "corr",
        tag: str = "",
        provenance: str | None = None,
        external_id: str | None = None,
        snapshot: types_pb2.Snapshot | None = None,
        progress: tuple[Progress, ...] = (),
        reaction: NewReaction | None = None,
    ) -> NewCommit:
        return NewCommit(
            key, start, self.pages(start, count, tag=tag), correlation_id, provenance=provenance,
            external_id=external_id, snapshot=snapshot, progress=progress, reaction=reaction,
        )


@pytest.fixture
def make() -> Factory:
    return Factory()
