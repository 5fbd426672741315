"""Outbox dispatch bookkeeping (spec §4.1) on PostgreSQL: claims with leases, settling, retries.

Leases are compared with the database clock, so every process agrees on when one expires.
"""

from __future__ import annotations

import asyncpg

from angzarr_coordinator.store.base import SETTLED_OUTBOX_STATUSES, OutboxEntryNotFound, OutboxRecord
from angzarr_coordinator.store.postgres import reads

# The first pending entry of each (reactor, trigger aggregate) is the only one that may be sent:
# everything before it has settled. SKIP LOCKED lets concurrent claimers pass each other's rows; a
# row a concurrent claimer committed is re-checked against its new lease (READ COMMITTED).
_CLAIM = (
    "UPDATE outbox SET lease_until = clock_timestamp() + make_interval(secs => $3::float8), "
    "updated_at = clock_timestamp() WHERE id IN ("
    "  SELECT o.id FROM outbox AS o WHERE o.reactor = $1 AND o.status = 'pending' "
    "  AND o.lease_until <= clock_timestamp() AND NOT EXISTS (SELECT 1 FROM outbox AS e "
    "    WHERE e.reactor = o.reactor AND e.domain = o.domain AND e.root = o.root AND e.edition = o.edition "
    "    AND e.status = 'pending' AND e.id < o.id) "
    "  ORDER BY o.id LIMIT $2 FOR UPDATE SKIP LOCKED"
    f") AND status = 'pending' AND lease_until <= clock_timestamp() RETURNING {reads.OUTBOX_COLUMNS}"
)


async def claim(conn: asyncpg.Connection, reactor: str, lease_seconds: float, limit: int) -> list[OutboxRecord]:
    rows = await conn.fetch(_CLAIM, reactor, max(0, limit), max(0.0, lease_seconds))
    return sorted((reads.outbox_record(r) for r in rows), key=lambda r: r.id)


async def settle(
    conn: asyncpg.Connection, entry_id: int, status: str, result: bytes | None, error: str, cancel_rest: bool
) -> None:
    """Raises ``ValueError`` for a status that does not settle, ``OutboxEntryNotFound``."""
    if status not in SETTLED_OUTBOX_STATUSES:
        raise ValueError(f"an outbox entry settles as one of {', '.join(SETTLED_OUTBOX_STATUSES)}; got {status!r}")
    async with conn.transaction():
        row = await conn.fetchrow(
            "UPDATE outbox SET status = $1, result = $2, last_error = $3, lease_until = '-infinity', "
            "updated_at = clock_timestamp() WHERE id = $4 "
            "RETURNING reactor, domain, root, edition, trigger_sequence, entry_index",
            status, result, error, entry_id,
        )
        if row is None:
            raise OutboxEntryNotFound(entry_id)
        if cancel_rest:
            await conn.execute(
                f"UPDATE outbox SET status = 'cancelled', updated_at = clock_timestamp() WHERE {reads.REACTION_KEY} "
                "AND entry_index > $6 AND status = 'pending'",
                *row,
            )


async def retry(conn: asyncpg.Connection, entry_id: int, error: str, delay_seconds: float) -> None:
    """Raises ``OutboxEntryNotFound``; an entry settled meanwhile is left as it is."""
    found = await conn.fetchval(
        "WITH updated AS (UPDATE outbox SET attempts = attempts + 1, last_error = $1, "
        "lease_until = clock_timestamp() + make_interval(secs => $2::float8), updated_at = clock_timestamp() "
        "WHERE id = $3 AND status = 'pending' RETURNING 1) "
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $3)",
        error, max(0.0, delay_seconds), entry_id,
    )
    if not found:
        raise OutboxEntryNotFound(entry_id)
