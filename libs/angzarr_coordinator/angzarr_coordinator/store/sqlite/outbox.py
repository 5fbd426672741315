"""Outbox dispatch bookkeeping (spec §4.1): claims with leases, settling, retries. Writer jobs."""

from __future__ import annotations

import sqlite3
import time

from angzarr_coordinator.store.base import SETTLED_OUTBOX_STATUSES, OutboxEntryNotFound, OutboxRecord
from angzarr_coordinator.store.sqlite import reads

# The first pending entry of each (reactor, trigger aggregate) is the only one that may be sent:
# everything before it has settled.
_CLAIMABLE = (
    f"SELECT {reads.OUTBOX_COLUMNS} FROM outbox AS o WHERE o.reactor = ? AND o.status = 'pending' "
    "AND o.lease_until <= ? AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.reactor = o.reactor "
    "AND e.domain = o.domain AND e.root = o.root AND e.edition = o.edition AND e.status = 'pending' "
    "AND e.id < o.id) ORDER BY o.id LIMIT ?"
)


def claim(conn: sqlite3.Connection, reactor: str, lease_seconds: float, limit: int) -> list[OutboxRecord]:
    now = time.time_ns()
    records = [reads.outbox_record(r) for r in conn.execute(_CLAIMABLE, (reactor, now, limit))]
    until = now + int(max(0.0, lease_seconds) * 1e9)
    conn.executemany(
        "UPDATE outbox SET lease_until = ?, updated_at = ? WHERE id = ?", [(until, now, r.id) for r in records]
    )
    return records


def release_leases(conn: sqlite3.Connection) -> int:
    """Make every pending entry claimable now; the number of entries whose lease or retry delay ended.

    Only for the process that has just taken the store's process lock: no other process can be
    dispatching, so every lease in the file was taken by one that is gone (killed mid-dispatch).
    """
    cursor = conn.execute(
        "UPDATE outbox SET lease_until = 0 WHERE status = 'pending' AND lease_until > ?", (time.time_ns(),)
    )
    return cursor.rowcount


def settle(
    conn: sqlite3.Connection, entry_id: int, status: str, result: bytes | None, error: str, cancel_rest: bool
) -> None:
    """Raises ``ValueError`` for a status that does not settle, ``OutboxEntryNotFound``."""
    if status not in SETTLED_OUTBOX_STATUSES:
        raise ValueError(f"an outbox entry settles as one of {', '.join(SETTLED_OUTBOX_STATUSES)}; got {status!r}")
    row = conn.execute(
        "SELECT reactor, domain, root, edition, trigger_sequence, entry_index FROM outbox WHERE id = ?", (entry_id,)
    ).fetchone()
    if row is None:
        raise OutboxEntryNotFound(entry_id)
    now = time.time_ns()
    conn.execute(
        "UPDATE outbox SET status = ?, result = ?, last_error = ?, lease_until = 0, updated_at = ? WHERE id = ?",
        (status, result, error, now, entry_id),
    )
    if cancel_rest:
        conn.execute(
            f"UPDATE outbox SET status = 'cancelled', updated_at = ? WHERE {reads.REACTION_KEY} "
            "AND entry_index > ? AND status = 'pending'",
            (now, *row),
        )


def retry(conn: sqlite3.Connection, entry_id: int, error: str, delay_seconds: float) -> None:
    """Raises ``OutboxEntryNotFound``; an entry settled meanwhile is left as it is."""
    now = time.time_ns()
    cursor = conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, lease_until = ?, updated_at = ? "
        "WHERE id = ? AND status = 'pending'",
        (error, now + int(max(0.0, delay_seconds) * 1e9), now, entry_id),
    )
    if cursor.rowcount == 0 and conn.execute("SELECT 1 FROM outbox WHERE id = ?", (entry_id,)).fetchone() is None:
        raise OutboxEntryNotFound(entry_id)
