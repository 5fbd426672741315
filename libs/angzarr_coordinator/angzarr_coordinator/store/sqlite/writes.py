"""Write-side SQL of the SQLite store: jobs the writer thread runs, each inside its own SAVEPOINT.

A job raises to fail only itself: the writer rolls back to the job's savepoint, so nothing of a failed
job is written while the other jobs of the same group commit stand.
"""

from __future__ import annotations

import sqlite3
import time
import uuid

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import (
    DEAD_LETTER_STATUSES,
    CommitRecord,
    DeadLetterNotFound,
    DuplicateCommit,
    NewReaction,
    OutboxRecord,
    RecordedReaction,
    SequenceConflict,
)
from angzarr_coordinator.store.sqlite import reads
from angzarr_coordinator.store.sqlite.codec import PreparedCommit, key_params

_KEY = "domain = ? AND root = ? AND edition = ?"

INSERT_EVENT = (
    "INSERT INTO events (domain, edition, root, sequence, commit_first, commit_last, correlation_id, "
    "type_name, created_at, page) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_PROGRESS = (
    "INSERT INTO progress (subscriber, domain, root, edition, sequence, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (subscriber, domain, root, edition) DO UPDATE SET "
    "sequence = excluded.sequence, updated_at = excluded.updated_at WHERE excluded.sequence > progress.sequence"
)
_UPSERT_CHECKPOINT = (
    "INSERT INTO checkpoints (subscriber, position, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT (subscriber) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at "
    "WHERE excluded.position > checkpoints.position"
)
_PERSIST = types_pb2.RETENTION_PERSIST


def append(conn: sqlite3.Connection, prepared: PreparedCommit) -> CommitRecord:
    """Write one commit: events, provenance, fact key, snapshot (with pruning) and progress.

    Raises ``DuplicateCommit`` (checked first, so a redelivery gets the first result even after the
    aggregate moved on) or ``SequenceConflict``.
    """
    commit = prepared.commit
    key = commit.key
    if commit.provenance is not None:
        existing = reads.find_keyed(conn, "provenance", "reaction_key", key, commit.provenance)
        if existing is not None:
            raise DuplicateCommit("provenance", existing)
    if commit.external_id is not None:
        existing = reads.find_keyed(conn, "facts", "external_id", key, commit.external_id)
        if existing is not None:
            raise DuplicateCommit("external id", existing)
    reaction = commit.reaction
    if reaction is not None:
        recorded = reads.find_reaction(conn, reaction.reactor, reaction.trigger, reaction.trigger_sequence)
        if recorded is not None:
            raise DuplicateCommit("reaction", recorded.commit or CommitRecord(key, commit.correlation_id, [], 0, 0))
    actual = reads.next_sequence(conn, key)
    if actual != commit.expected_next_sequence:
        raise SequenceConflict(key, commit.expected_next_sequence, actual)
    now = time.time_ns()
    first = last = None
    if prepared.rows:
        conn.executemany(INSERT_EVENT, prepared.rows)
        # One writer and AUTOINCREMENT: the commit's rows got consecutive positions ending here.
        last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
        first = last - len(prepared.rows) + 1
    params = prepared.key
    if commit.provenance is not None:
        conn.execute(
            "INSERT INTO provenance (domain, root, edition, reaction_key, correlation_id, first_position, "
            "last_position, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*params, commit.provenance, commit.correlation_id, first, last, now),
        )
    if commit.external_id is not None:
        conn.execute(
            "INSERT INTO facts (domain, root, edition, external_id, correlation_id, first_position, "
            "last_position, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*params, commit.external_id, commit.correlation_id, first, last, now),
        )
    if prepared.snapshot is not None:
        _store_snapshot(conn, params, prepared, now)
    for row in prepared.progress:
        conn.execute(_UPSERT_PROGRESS, (*row, now))
    if reaction is not None:
        insert_reaction(conn, reaction, commit.correlation_id, first, last, now)
    return CommitRecord(
        key, commit.correlation_id, list(commit.pages), first or 0, last or 0, prepared.snapshot
    )


def _store_snapshot(conn: sqlite3.Connection, params: tuple, prepared: PreparedCommit, now: int) -> None:
    assert prepared.snapshot is not None
    conn.execute(
        "INSERT OR REPLACE INTO snapshots (domain, root, edition, sequence, retention, snapshot, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (*params, prepared.snapshot_sequence, prepared.snapshot.retention, prepared.snapshot_bytes, now),
    )
    # DEFAULT and TRANSIENT snapshots are superseded by any newer one; PERSIST ones stay (§7).
    conn.execute(
        f"DELETE FROM snapshots WHERE {_KEY} AND sequence < ? AND retention != ?",
        (*params, prepared.snapshot_sequence, _PERSIST),
    )


def set_checkpoint(conn: sqlite3.Connection, subscriber: str, position: int) -> None:
    conn.execute(_UPSERT_CHECKPOINT, (subscriber, position, time.time_ns()))


def set_progress(conn: sqlite3.Connection, row: tuple[str, str, bytes, str, int]) -> None:
    conn.execute(_UPSERT_PROGRESS, (*row, time.time_ns()))


def drop_snapshots(conn: sqlite3.Connection, domain: str, root: uuid.UUID | None) -> int:
    if root is None:
        cursor = conn.execute("DELETE FROM snapshots WHERE domain = ?", (domain,))
    else:
        cursor = conn.execute("DELETE FROM snapshots WHERE domain = ? AND root = ?", (domain, root.bytes))
    return cursor.rowcount


def add_dead_letter(conn: sqlite3.Connection, letter: types_pb2.AngzarrDeadLetter, subscriber: str | None) -> int:
    now = time.time_ns()
    cover = letter.cover
    root = cover.root.value if cover.HasField("root") and cover.root.value else None
    cursor = conn.execute(
        "INSERT INTO dead_letters (letter, domain, root, source_component, source_component_type, status, "
        "attempts, last_error, subscriber, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, 'open', 0, '', ?, ?, ?)",
        (letter.SerializeToString(), cover.domain, root, letter.source_component,
         letter.source_component_type, subscriber, now, now),
    )
    return cursor.lastrowid


def update_dead_letter(
    conn: sqlite3.Connection, letter_id: int, status: str, last_error: str | None, attempted: bool
) -> None:
    """Raises ``ValueError`` for an unknown status and ``DeadLetterNotFound`` for an unknown id."""
    if status not in DEAD_LETTER_STATUSES:
        raise ValueError(f"dead letter status must be one of {', '.join(DEAD_LETTER_STATUSES)}; got {status!r}")
    cursor = conn.execute(
        "UPDATE dead_letters SET status = ?, last_error = COALESCE(?, last_error), "
        "attempts = attempts + ?, updated_at = ? WHERE id = ?",
        (status, last_error, int(attempted), time.time_ns(), letter_id),
    )
    if cursor.rowcount == 0:
        raise DeadLetterNotFound(letter_id)


def insert_reaction(
    conn: sqlite3.Connection, reaction: NewReaction, correlation_id: str, first: int | None, last: int | None,
    now: int,
) -> list[OutboxRecord]:
    """Write a reaction row, its ordered outbox entries, progress and checkpoint (caller checked the
    key is new)."""
    params = (reaction.reactor, *key_params(reaction.trigger), reaction.trigger_sequence)
    conn.execute(
        "INSERT INTO reactions (reactor, domain, root, edition, trigger_sequence, created_at, correlation_id, "
        "first_position, last_position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*params, now, correlation_id, first, last),
    )
    lease_until = now + int(reaction.lease_seconds * 1e9) if reaction.lease_seconds > 0 else 0
    conn.executemany(
        "INSERT INTO outbox (reactor, domain, root, edition, trigger_sequence, entry_index, kind, target_domain, "
        "reaction_id, request, traceparent, status, attempts, lease_until, last_error, result, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', NULL, ?, ?)",
        [(*params, index, e.kind, e.target_domain, e.reaction_id, e.request, e.traceparent, lease_until, now, now)
         for index, e in enumerate(reaction.entries)],
    )
    for row in reaction.progress:
        if row.sequence < 0:
            raise ValueError(f"progress sequence must be >= 0, got {row.sequence}")
        conn.execute(_UPSERT_PROGRESS, (row.subscriber, *key_params(row.key), row.sequence, now))
    if reaction.checkpoint is not None:
        conn.execute(_UPSERT_CHECKPOINT, (*reaction.checkpoint, now))
    return [
        reads.outbox_record(r)
        for r in conn.execute(
            f"SELECT {reads.OUTBOX_COLUMNS} FROM outbox WHERE {reads.REACTION_KEY} ORDER BY entry_index", params
        )
    ]


def record_reaction(conn: sqlite3.Connection, reaction: NewReaction) -> RecordedReaction:
    """Record a reaction without events; an existing one is returned as is (``fresh=False``)."""
    recorded = reads.find_reaction(conn, reaction.reactor, reaction.trigger, reaction.trigger_sequence)
    if recorded is not None:
        return recorded
    return RecordedReaction(True, insert_reaction(conn, reaction, "", None, None, time.time_ns()))
