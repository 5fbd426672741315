"""Read-side SQL of the PostgreSQL store. Each function takes the connection it runs on.

Functions that read more than one statement run in a REPEATABLE READ read-only transaction, so their
result is one consistent snapshot of the database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import (
    AggregateKey,
    CommitRecord,
    DeadLetterRecord,
    DomainInfo,
    Loaded,
    OutboxEntry,
    OutboxRecord,
    RecordedReaction,
    RootInfo,
)

KEY = "domain = $1 AND root = $2 AND edition = $3"
_BIGGEST = 2**63 - 1


def key_args(key: AggregateKey) -> tuple[str, uuid.UUID, str]:
    """(domain, root, edition): the order every aggregate-keyed statement binds them in."""
    return key.domain, key.root, key.edition


def parse_page(data: bytes) -> types_pb2.EventPage:
    page = types_pb2.EventPage()
    page.ParseFromString(data)
    return page


def parse_snapshot(data: bytes) -> types_pb2.Snapshot:
    snapshot = types_pb2.Snapshot()
    snapshot.ParseFromString(data)
    return snapshot


@asynccontextmanager
async def snapshot_read(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """A consistent snapshot for several statements; inside a transaction, join it."""
    if conn.is_in_transaction():
        yield
        return
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        yield


async def next_sequence(conn: asyncpg.Connection, key: AggregateKey) -> int:
    """Last page + 1, else snapshot + 1, else 0 (spec §1), in one statement."""
    return await conn.fetchval(
        f"SELECT COALESCE((SELECT MAX(sequence) FROM events WHERE {KEY}), "
        f"(SELECT MAX(sequence) FROM snapshots WHERE {KEY}), -1) + 1",
        *key_args(key),
    )


async def load(
    conn: asyncpg.Connection,
    key: AggregateKey,
    use_snapshot: bool,
    from_sequence: int,
    to_sequence: int | None,
    as_of_time: datetime | None,
    sequences: Collection[int] | None,
    limit: int | None,
) -> Loaded:
    """One consistent read; see ``EventStore.load``. A snapshot seeds only plain and sequence-bounded
    reads (a snapshot's validity at a time or for a sparse set is unknown)."""
    args: list[object] = [*key_args(key)]
    async with snapshot_read(conn):
        nxt = await next_sequence(conn, key)
        snapshot = None
        lower = from_sequence
        if use_snapshot and as_of_time is None and sequences is None:
            row = await conn.fetchrow(
                f"SELECT sequence, snapshot FROM snapshots WHERE {KEY} AND sequence <= $4 "
                "ORDER BY sequence DESC LIMIT 1",
                *args, _BIGGEST if to_sequence is None else to_sequence,
            )
            if row is not None:
                snapshot = parse_snapshot(row["snapshot"])
                lower = max(lower, row["sequence"] + 1)
        sql = f"SELECT page FROM events WHERE {KEY} AND sequence >= $4"
        args.append(lower)
        if to_sequence is not None:
            args.append(to_sequence)
            sql += f" AND sequence <= ${len(args)}"
        if as_of_time is not None:
            args.append(as_of_time if as_of_time.tzinfo else as_of_time.replace(tzinfo=UTC))
            sql += f" AND created_at <= ${len(args)}"
        if sequences is not None:
            args.append(sorted({int(s) for s in sequences}))
            sql += f" AND sequence = ANY(${len(args)}::bigint[])"
        sql += " ORDER BY sequence"
        if limit is not None:
            args.append(limit)
            sql += f" LIMIT ${len(args)}"
        pages = [parse_page(r["page"]) for r in await conn.fetch(sql, *args)]
    return Loaded(key, snapshot, pages, nxt)


async def commit_at(
    conn: asyncpg.Connection, key: AggregateKey, correlation_id: str, first: int | None, last: int | None
) -> CommitRecord:
    """The commit stored at positions ``first..last`` (both ``None`` for a commit without events)."""
    if first is None or last is None:
        return CommitRecord(key, correlation_id, [], 0, 0)
    rows = await conn.fetch(
        "SELECT page FROM events WHERE position BETWEEN $1 AND $2 ORDER BY position", first, last
    )
    pages = [parse_page(r["page"]) for r in rows]
    snapshot = None
    if pages:
        data = await conn.fetchval(
            f"SELECT snapshot FROM snapshots WHERE {KEY} AND sequence = $4",
            *key_args(key), pages[-1].header.sequence,
        )
        snapshot = parse_snapshot(data) if data is not None else None
    return CommitRecord(key, correlation_id, pages, first, last, snapshot)


async def find_keyed(
    conn: asyncpg.Connection, table: str, column: str, key: AggregateKey, value: str
) -> CommitRecord | None:
    """The commit recorded under a provenance (``provenance.reaction_key``) or fact key
    (``facts.external_id``); ``table`` and ``column`` are fixed by the callers, never user input."""
    async with snapshot_read(conn):
        row = await conn.fetchrow(
            f"SELECT correlation_id, first_position, last_position FROM {table} WHERE {KEY} AND {column} = $4",
            *key_args(key), value,
        )
        if row is None:
            return None
        return await commit_at(conn, key, row[0], row[1], row[2])


async def by_correlation(
    conn: asyncpg.Connection, correlation_id: str, domain: str | None, root: uuid.UUID | None
) -> list[tuple[AggregateKey, list[types_pb2.EventPage]]]:
    rows = await conn.fetch(
        "SELECT domain, root, edition, page FROM events WHERE correlation_id = $1 "
        "AND ($2::text IS NULL OR domain = $2) AND ($3::uuid IS NULL OR root = $3) ORDER BY position",
        correlation_id, domain, root,
    )
    books: dict[AggregateKey, list[types_pb2.EventPage]] = {}
    for d, r, e, page in rows:
        books.setdefault(AggregateKey(d, r, e), []).append(parse_page(page))
    return list(books.items())


async def aggregate_roots(conn: asyncpg.Connection) -> list[AggregateKey]:
    rows = await conn.fetch(
        "SELECT domain, root, edition, MIN(position) AS first FROM events "
        "GROUP BY domain, root, edition ORDER BY domain, first"
    )
    return [AggregateKey(d, r, e) for d, r, e, _ in rows]


async def domains(conn: asyncpg.Connection) -> list[DomainInfo]:
    rows = await conn.fetch(
        "SELECT domain, COUNT(*), SUM(n), MAX(head) FROM ("
        "  SELECT domain, COUNT(*) AS n, MAX(position) AS head FROM events GROUP BY domain, root, edition"
        ") AS per_root GROUP BY domain ORDER BY domain"
    )
    return [DomainInfo(d, aggregates, int(events), head) for d, aggregates, events, head in rows]


async def roots(conn: asyncpg.Connection, domain: str) -> list[RootInfo]:
    rows = await conn.fetch(
        "SELECT root, edition, COUNT(*), MAX(sequence), MAX(created_at), MIN(position) AS first "
        "FROM events WHERE domain = $1 GROUP BY root, edition ORDER BY first",
        domain,
    )
    return [RootInfo(AggregateKey(domain, r, e), n, last, written) for r, e, n, last, written, _ in rows]


# Rows fetched per statement by read_log: a few per wanted commit at first, doubling while more are
# needed, up to this many.
_LOG_CHUNK = 4096


async def read_log(
    conn: asyncpg.Connection,
    after_position: int,
    watermark: int,
    domains_filter: Collection[str] | None,
    correlation_id: str | None,
    limit: int,
) -> list[CommitRecord]:
    """Whole commits with ``after_position < position <= watermark``, in order, at most ``limit``.

    A commit's rows have consecutive positions (appends insert under the positions lock), so a
    commit is the run between its ``commit_first`` and ``commit_last`` rows. A run cut by
    ``after_position`` is skipped: callers pass commit boundaries, and half a commit must never be
    delivered. Filters keep or drop whole commits (a commit is one aggregate and one correlation id).
    """
    if limit <= 0 or watermark <= after_position:
        return []
    wanted = None if domains_filter is None else sorted(set(domains_filter))
    if wanted == []:
        return []
    sql = (
        "SELECT position, domain, root, edition, commit_first, commit_last, correlation_id, page "
        "FROM events WHERE position > $1 AND position <= $2 "
        "AND ($3::text[] IS NULL OR domain = ANY($3::text[])) AND ($4::text IS NULL OR correlation_id = $4) "
        "ORDER BY position LIMIT $5"
    )
    commits: list[CommitRecord] = []
    current: CommitRecord | None = None
    lower = after_position
    chunk = min(_LOG_CHUNK, 4 * limit + 12)
    async with snapshot_read(conn):
        while len(commits) < limit:
            rows = await conn.fetch(sql, lower, watermark, wanted, correlation_id, chunk)
            for position, d, r, e, first, last, corr, page in rows:
                if first:
                    current = CommitRecord(AggregateKey(d, r, e), corr, [], position, position)
                if current is None:
                    continue
                current.pages.append(parse_page(page))
                current.last_position = position
                if last:
                    commits.append(current)
                    current = None
                    if len(commits) >= limit:
                        break
            if len(rows) < chunk:
                break
            lower = rows[-1][0]
            chunk = min(_LOG_CHUNK, chunk * 2)
    return commits


async def get_checkpoint(conn: asyncpg.Connection, subscriber: str) -> int:
    position = await conn.fetchval("SELECT position FROM checkpoints WHERE subscriber = $1", subscriber)
    return 0 if position is None else position


async def get_progress(conn: asyncpg.Connection, subscriber: str, key: AggregateKey) -> int | None:
    return await conn.fetchval(
        "SELECT sequence FROM progress WHERE subscriber = $4 AND " + KEY, *key_args(key), subscriber
    )


_DEAD_LETTER_COLUMNS = "id, letter, status, attempts, last_error, subscriber, created_at, updated_at"


def _dead_letter(row: asyncpg.Record) -> DeadLetterRecord:
    letter_id, data, status, attempts, last_error, subscriber, created, updated = row
    letter = types_pb2.AngzarrDeadLetter()
    letter.ParseFromString(data)
    return DeadLetterRecord(letter_id, letter, status, attempts, last_error, subscriber, created, updated)


async def list_dead_letters(conn: asyncpg.Connection, status: str | None) -> list[DeadLetterRecord]:
    rows = await conn.fetch(
        f"SELECT {_DEAD_LETTER_COLUMNS} FROM dead_letters WHERE ($1::text IS NULL OR status = $1) ORDER BY id",
        status,
    )
    return [_dead_letter(r) for r in rows]


async def get_dead_letter(conn: asyncpg.Connection, letter_id: int) -> DeadLetterRecord | None:
    row = await conn.fetchrow(f"SELECT {_DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = $1", letter_id)
    return None if row is None else _dead_letter(row)


# -- reactions and the outbox ------------------------------------------------------------------------
OUTBOX_COLUMNS = (
    "id, reactor, domain, root, edition, trigger_sequence, entry_index, kind, target_domain, reaction_id, "
    "request, traceparent, status, attempts, last_error, result"
)
REACTION_KEY = "reactor = $1 AND domain = $2 AND root = $3 AND edition = $4 AND trigger_sequence = $5"


def reaction_args(reactor: str, trigger: AggregateKey, trigger_sequence: int) -> tuple:
    return (reactor, *key_args(trigger), trigger_sequence)


def outbox_record(row: asyncpg.Record) -> OutboxRecord:
    (entry_id, reactor, d, r, e, trigger_sequence, index, kind, target, reaction_id, request, traceparent,
     status, attempts, last_error, result) = row
    return OutboxRecord(
        entry_id, reactor, AggregateKey(d, r, e), trigger_sequence, index,
        OutboxEntry(kind, target, reaction_id, bytes(request), traceparent),
        status, attempts, last_error, None if result is None else bytes(result),
    )


async def reaction_entries(conn: asyncpg.Connection, args: tuple) -> list[OutboxRecord]:
    rows = await conn.fetch(f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE {REACTION_KEY} ORDER BY entry_index", *args)
    return [outbox_record(r) for r in rows]


async def find_reaction(
    conn: asyncpg.Connection, reactor: str, trigger: AggregateKey, trigger_sequence: int
) -> RecordedReaction | None:
    args = reaction_args(reactor, trigger, trigger_sequence)
    async with snapshot_read(conn):
        row = await conn.fetchrow(
            f"SELECT correlation_id, first_position, last_position FROM reactions WHERE {REACTION_KEY}", *args
        )
        if row is None:
            return None
        entries = await reaction_entries(conn, args)
        commit = None
        if row[1] is not None:
            head = await conn.fetchrow("SELECT domain, root, edition FROM events WHERE position = $1", row[1])
            commit = await commit_at(conn, AggregateKey(*head), row[0], row[1], row[2])
    return RecordedReaction(False, entries, commit)


async def pending_outbox(conn: asyncpg.Connection, reactor: str | None) -> int:
    return await conn.fetchval(
        "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND ($1::text IS NULL OR reactor = $1)", reactor
    )
