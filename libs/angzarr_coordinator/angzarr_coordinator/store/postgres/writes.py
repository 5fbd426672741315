"""Write-side SQL of the PostgreSQL store. Each function runs one transaction on the given connection.

An append (spec §6.2, §9.3):

1. ``SELECT pg_current_xact_id()``: the transaction owns its id before it takes a position, which the
   gap-aware watermark relies on;
2. a transaction-scoped advisory lock on the aggregate, so the uniqueness and sequence checks see
   every earlier commit of it (READ COMMITTED re-reads per statement);
3. the checks, then the events INSERT under the session-scoped positions lock (held for that one
   statement only, so a commit's rows get consecutive positions while other transactions go on);
4. ``NOTIFY angzarr_log`` (with the lock release); keys, snapshot, progress, reaction; COMMIT.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import (
    DEAD_LETTER_STATUSES,
    MAX_SEQUENCE,
    CommitRecord,
    DeadLetterNotFound,
    DuplicateCommit,
    NewCommit,
    NewReaction,
    OutboxRecord,
    Progress,
    RecordedReaction,
    SequenceConflict,
    StoreError,
)
from angzarr_coordinator.store.postgres import reads
from angzarr_coordinator.store.postgres.locks import AGGREGATE_CLASS, POSITIONS, aggregate_lock_id
from angzarr_coordinator.store.postgres.reads import KEY, key_args

NOTIFY_CHANNEL = "angzarr_log"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PERSIST = types_pb2.RETENTION_PERSIST

_INSERT_EVENTS = (
    "INSERT INTO events (tx_id, domain, root, edition, sequence, commit_first, commit_last, correlation_id, "
    "type_name, created_at, page) "
    "SELECT pg_current_xact_id(), $1, $2, $3, e.sequence, e.sequence = $4, e.sequence = $5, $6, e.type_name, "
    "e.created_at, e.page "
    "FROM unnest($7::bigint[], $8::text[], $9::timestamptz[], $10::bytea[]) "
    "AS e(sequence, type_name, created_at, page) ORDER BY e.sequence "
    "RETURNING position, sequence"
)
_UPSERT_PROGRESS = (
    "INSERT INTO progress (subscriber, domain, root, edition, sequence) VALUES ($1, $2, $3, $4, $5) "
    "ON CONFLICT (subscriber, domain, root, edition) DO UPDATE SET "
    "sequence = excluded.sequence, updated_at = now() WHERE excluded.sequence > progress.sequence"
)
_UPSERT_CHECKPOINT = (
    "INSERT INTO checkpoints (subscriber, position) VALUES ($1, $2) "
    "ON CONFLICT (subscriber) DO UPDATE SET position = excluded.position, updated_at = now() "
    "WHERE excluded.position > checkpoints.position"
)


@dataclass(slots=True)
class PreparedCommit:
    """A ``NewCommit`` checked and converted to the arrays the events INSERT binds."""

    commit: NewCommit
    sequences: list[int]
    type_names: list[str]
    created: list[datetime]
    pages: list[bytes]
    snapshot: types_pb2.Snapshot | None
    snapshot_sequence: int | None


def prepare_commit(commit: NewCommit) -> PreparedCommit:
    """Validate a commit's shape and serialise its pages.

    Raises ``ValueError`` if the pages are not numbered ``expected_next_sequence, +1, ...`` with
    explicit sequences, a sequence is beyond 2³²−1, or a progress row is negative.
    """
    expected = commit.expected_next_sequence
    if expected < 0:
        raise ValueError(f"expected_next_sequence must be >= 0, got {expected}")
    prepared = PreparedCommit(commit, [], [], [], [], None, None)
    for index, page in enumerate(commit.pages):
        want = expected + index
        if page.header.WhichOneof("sequence_type") != "sequence" or page.header.sequence != want:
            raise ValueError(f"page {index} must be stamped with sequence {want} before append")
        if want > MAX_SEQUENCE:
            raise ValueError(f"sequence {want} is beyond {MAX_SEQUENCE}")
        prepared.sequences.append(want)
        prepared.type_names.append(page.event.type_url.rsplit("/", 1)[-1] if page.HasField("event") else "")
        created = page.created_at
        prepared.created.append(_EPOCH + timedelta(seconds=created.seconds, microseconds=created.nanos // 1000))
        prepared.pages.append(page.SerializeToString())
    if commit.snapshot is not None and commit.pages:
        # A snapshot describes the state after the commit's last page (§7).
        prepared.snapshot_sequence = prepared.sequences[-1]
        prepared.snapshot = types_pb2.Snapshot()
        prepared.snapshot.CopyFrom(commit.snapshot)
        prepared.snapshot.sequence = prepared.snapshot_sequence
    for row in commit.progress:
        if row.sequence < 0:
            raise ValueError(f"progress sequence must be >= 0, got {row.sequence}")
    return prepared


@dataclass(slots=True)
class _AppendProgress:
    positions_locked: bool = False
    taken: list[int] = field(default_factory=list)  # positions the events INSERT took
    commit_sent: bool = False


async def append(
    conn: asyncpg.Connection, prepared: PreparedCommit, abandoned: Callable[[list[int]], None] | None = None
) -> CommitRecord:
    """Write one commit in one transaction: events, provenance, fact key, snapshot (with pruning),
    progress and reaction.

    Raises ``DuplicateCommit`` (checked first, so a redelivery gets the first result even after the
    aggregate moved on) or ``SequenceConflict``; nothing is written then. If the transaction fails
    after taking positions but before COMMIT was sent, ``abandoned`` hears those positions: they can
    never be filled (the watermark may pass them at once).
    """
    progress = _AppendProgress()
    try:
        async with conn.transaction():
            record = await _append_in_transaction(conn, prepared, progress)
            progress.commit_sent = True  # from here on a failure may come from COMMIT: outcome unknown
        return record
    except BaseException:
        if progress.taken and not progress.commit_sent and abandoned is not None:
            abandoned(progress.taken)
        raise
    finally:
        if progress.positions_locked:
            # The INSERT failed and the transaction rolled back; the session lock outlives it.
            with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                await conn.execute("SELECT pg_advisory_unlock($1, $2)", *POSITIONS)


async def _append_in_transaction(
    conn: asyncpg.Connection, prepared: PreparedCommit, progress: _AppendProgress
) -> CommitRecord:
    commit = prepared.commit
    key = commit.key
    args = key_args(key)
    # The transaction id first, before any position is taken (§6.2); then the aggregate's lock.
    await conn.execute(
        "SELECT pg_current_xact_id(), pg_advisory_xact_lock($1, $2)", AGGREGATE_CLASS, aggregate_lock_id(key)
    )
    if commit.provenance is not None:
        existing = await reads.find_keyed(conn, "provenance", "reaction_key", key, commit.provenance)
        if existing is not None:
            raise DuplicateCommit("provenance", existing)
    if commit.external_id is not None:
        existing = await reads.find_keyed(conn, "facts", "external_id", key, commit.external_id)
        if existing is not None:
            raise DuplicateCommit("external id", existing)
    reaction = commit.reaction
    if reaction is not None:
        await _raise_if_reaction_recorded(conn, reaction, commit)
    actual = await reads.next_sequence(conn, key)
    if actual != commit.expected_next_sequence:
        raise SequenceConflict(key, commit.expected_next_sequence, actual)
    first = last = None
    if prepared.pages:
        first, last = await _insert_events(conn, prepared, progress)
    if commit.provenance is not None:
        await conn.execute(
            "INSERT INTO provenance (domain, root, edition, reaction_key, correlation_id, first_position, "
            "last_position) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            *args, commit.provenance, commit.correlation_id, first, last,
        )
    if commit.external_id is not None:
        await conn.execute(
            "INSERT INTO facts (domain, root, edition, external_id, correlation_id, first_position, "
            "last_position) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            *args, commit.external_id, commit.correlation_id, first, last,
        )
    if prepared.snapshot is not None:
        await _store_snapshot(conn, args, prepared)
    await _upsert_progress(conn, commit.progress)
    # A reaction key recorded by a commit on another aggregate in the meantime (the aggregate
    # lock does not cover reaction keys): roll back and report the first result.
    if reaction is not None and await insert_reaction(conn, reaction, commit.correlation_id, first, last) is None:
        raise _ReactionRaced()
    return CommitRecord(key, commit.correlation_id, list(commit.pages), first or 0, last or 0, prepared.snapshot)


class _ReactionRaced(StoreError):
    """Internal: the reaction key was recorded concurrently; the caller looks up the first result."""


async def append_reporting_races(
    conn: asyncpg.Connection, prepared: PreparedCommit, abandoned: Callable[[list[int]], None] | None = None
) -> CommitRecord:
    """``append``, turning a lost race on the reaction key into ``DuplicateCommit``."""
    try:
        return await append(conn, prepared, abandoned)
    except _ReactionRaced:
        reaction = prepared.commit.reaction
        assert reaction is not None
        await _raise_if_reaction_recorded(conn, reaction, prepared.commit)
        raise StoreError("the reaction key was taken and released concurrently; retry") from None


async def _raise_if_reaction_recorded(conn: asyncpg.Connection, reaction: NewReaction, commit: NewCommit) -> None:
    recorded = await reads.find_reaction(conn, reaction.reactor, reaction.trigger, reaction.trigger_sequence)
    if recorded is not None:
        raise DuplicateCommit("reaction", recorded.commit or CommitRecord(commit.key, commit.correlation_id, [], 0, 0))


async def _insert_events(conn: asyncpg.Connection, prepared: PreparedCommit, progress: _AppendProgress) -> tuple[int, int]:
    """INSERT the commit's rows under the positions lock, released together with the NOTIFY (which
    PostgreSQL delivers at COMMIT). If the INSERT fails, ``append`` releases it after the rollback."""
    commit = prepared.commit
    await conn.execute("SELECT pg_advisory_lock($1, $2)", *POSITIONS)
    progress.positions_locked = True
    rows = await conn.fetch(
        _INSERT_EVENTS, *key_args(commit.key), prepared.sequences[0], prepared.sequences[-1],
        commit.correlation_id, prepared.sequences, prepared.type_names, prepared.created, prepared.pages,
    )
    progress.taken = [r["position"] for r in rows]
    await conn.execute("SELECT pg_advisory_unlock($1, $2), pg_notify($3, '')", *POSITIONS, NOTIFY_CHANNEL)
    progress.positions_locked = False
    positions = [r["position"] for r in sorted(rows, key=lambda r: r["sequence"])]
    first, last = positions[0], positions[-1]
    if positions != list(range(first, last + 1)):
        raise StoreError(f"the commit's positions are not consecutive ({positions}); the positions lock failed")
    return first, last


async def _store_snapshot(conn: asyncpg.Connection, args: tuple, prepared: PreparedCommit) -> None:
    assert prepared.snapshot is not None
    await conn.execute(
        "INSERT INTO snapshots (domain, root, edition, sequence, retention, snapshot) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (domain, root, edition, sequence) DO UPDATE SET "
        "retention = excluded.retention, snapshot = excluded.snapshot, created_at = now()",
        *args, prepared.snapshot_sequence, prepared.snapshot.retention, prepared.snapshot.SerializeToString(),
    )
    # DEFAULT and TRANSIENT snapshots are superseded by any newer one; PERSIST ones stay (§7).
    await conn.execute(
        f"DELETE FROM snapshots WHERE {KEY} AND sequence < $4 AND retention != $5",
        *args, prepared.snapshot_sequence, _PERSIST,
    )


async def _upsert_progress(conn: asyncpg.Connection, rows: Iterable[Progress]) -> None:
    batch = []
    for row in rows:
        if row.sequence < 0:
            raise ValueError(f"progress sequence must be >= 0, got {row.sequence}")
        batch.append((row.subscriber, *key_args(row.key), row.sequence))
    if batch:
        await conn.executemany(_UPSERT_PROGRESS, batch)


async def set_checkpoint(conn: asyncpg.Connection, subscriber: str, position: int) -> None:
    await conn.execute(_UPSERT_CHECKPOINT, subscriber, position)


async def set_progress(conn: asyncpg.Connection, progress: Progress) -> None:
    await _upsert_progress(conn, (progress,))


async def drop_snapshots(conn: asyncpg.Connection, domain: str, root: uuid.UUID | None) -> int:
    status = await conn.execute(
        "DELETE FROM snapshots WHERE domain = $1 AND ($2::uuid IS NULL OR root = $2)", domain, root
    )
    return int(status.split()[-1])


async def add_dead_letter(
    conn: asyncpg.Connection, letter: types_pb2.AngzarrDeadLetter, subscriber: str | None
) -> int:
    cover = letter.cover
    root = cover.root.value if cover.HasField("root") and cover.root.value else None
    return await conn.fetchval(
        "INSERT INTO dead_letters (letter, domain, root, source_component, source_component_type, subscriber) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        letter.SerializeToString(), cover.domain, root, letter.source_component, letter.source_component_type,
        subscriber,
    )


async def update_dead_letter(
    conn: asyncpg.Connection, letter_id: int, status: str, last_error: str | None, attempted: bool
) -> None:
    """Raises ``ValueError`` for an unknown status and ``DeadLetterNotFound`` for an unknown id."""
    if status not in DEAD_LETTER_STATUSES:
        raise ValueError(f"dead letter status must be one of {', '.join(DEAD_LETTER_STATUSES)}; got {status!r}")
    updated = await conn.execute(
        "UPDATE dead_letters SET status = $1, last_error = COALESCE($2, last_error), "
        "attempts = attempts + $3, updated_at = clock_timestamp() WHERE id = $4",
        status, last_error, int(attempted), letter_id,
    )
    if updated.split()[-1] == "0":
        raise DeadLetterNotFound(letter_id)


async def insert_reaction(
    conn: asyncpg.Connection, reaction: NewReaction, correlation_id: str, first: int | None, last: int | None
) -> list[OutboxRecord] | None:
    """Write a reaction row, its ordered outbox entries, progress and checkpoint; ``None`` (nothing
    written) if the reaction key is already recorded. Runs inside the caller's transaction."""
    args = reads.reaction_args(reaction.reactor, reaction.trigger, reaction.trigger_sequence)
    inserted = await conn.fetchval(
        "INSERT INTO reactions (reactor, domain, root, edition, trigger_sequence, correlation_id, first_position, "
        "last_position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING 1",
        *args, correlation_id, first, last,
    )
    if inserted is None:
        return None
    lease = max(0.0, reaction.lease_seconds)
    if reaction.entries:
        await conn.executemany(
            "INSERT INTO outbox (reactor, domain, root, edition, trigger_sequence, entry_index, kind, target_domain, "
            "reaction_id, request, traceparent, lease_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
            "CASE WHEN $12::float8 > 0 THEN clock_timestamp() + make_interval(secs => $12::float8) "
            "ELSE '-infinity'::timestamptz END)",
            [(*args, index, e.kind, e.target_domain, e.reaction_id, e.request, e.traceparent, lease)
             for index, e in enumerate(reaction.entries)],
        )
    await _upsert_progress(conn, reaction.progress)
    if reaction.checkpoint is not None:
        await conn.execute(_UPSERT_CHECKPOINT, *reaction.checkpoint)
    return await reads.reaction_entries(conn, args)


async def record_reaction(conn: asyncpg.Connection, reaction: NewReaction) -> RecordedReaction:
    """Record a reaction without events; an existing one is returned as is (``fresh=False``)."""
    for row in reaction.progress:
        if row.sequence < 0:
            raise ValueError(f"progress sequence must be >= 0, got {row.sequence}")
    async with conn.transaction():
        entries = await insert_reaction(conn, reaction, "", None, None)
    if entries is not None:
        return RecordedReaction(True, entries)
    # ON CONFLICT DO NOTHING waited for a concurrent recorder to commit: its result is visible now.
    recorded = await reads.find_reaction(conn, reaction.reactor, reaction.trigger, reaction.trigger_sequence)
    if recorded is None:
        raise StoreError("the reaction key was taken and released concurrently; retry")
    return recorded
