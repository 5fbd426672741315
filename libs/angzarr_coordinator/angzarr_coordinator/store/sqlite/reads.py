"""Read-side SQL of the SQLite store. Each function takes the connection it runs on.

Functions that read more than one statement open a read transaction so the result is one consistent
snapshot of the database (WAL readers see the state as of their BEGIN).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime

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
from angzarr_coordinator.store.sqlite.codec import (
    datetime_of_ns,
    key_of,
    key_params,
    ns_of_datetime,
    parse_page,
    parse_snapshot,
)

_KEY = "domain = ? AND root = ? AND edition = ?"


@contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """A consistent snapshot for several statements; nested use joins the outer transaction."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def next_sequence(conn: sqlite3.Connection, key: AggregateKey) -> int:
    """Last page + 1, else snapshot + 1, else 0 (spec §1)."""
    params = key_params(key)
    last = conn.execute(f"SELECT MAX(sequence) FROM events WHERE {_KEY}", params).fetchone()[0]
    if last is not None:
        return last + 1
    snap = conn.execute(f"SELECT MAX(sequence) FROM snapshots WHERE {_KEY}", params).fetchone()[0]
    return 0 if snap is None else snap + 1


def load(
    conn: sqlite3.Connection,
    key: AggregateKey,
    use_snapshot: bool,
    from_sequence: int,
    to_sequence: int | None,
    as_of_time: datetime | None,
    sequences: Collection[int] | None,
    limit: int | None,
) -> Loaded:
    """One consistent read; see ``EventStore.load``.

    A snapshot seeds the result only for plain and sequence-bounded reads: a time-bounded read or a
    sequence set replays pages, since a snapshot's validity at a time or for a sparse set is unknown.
    """
    params = key_params(key)
    with read_transaction(conn):
        nxt = next_sequence(conn, key)
        snapshot = None
        lower = from_sequence
        if use_snapshot and as_of_time is None and sequences is None:
            row = conn.execute(
                f"SELECT sequence, snapshot FROM snapshots WHERE {_KEY} AND sequence <= ? "
                "ORDER BY sequence DESC LIMIT 1",
                (*params, 2**63 - 1 if to_sequence is None else to_sequence),
            ).fetchone()
            if row is not None:
                snapshot = parse_snapshot(row[1])
                lower = max(lower, row[0] + 1)
        sql = f"SELECT page FROM events WHERE {_KEY} AND sequence >= ?"
        args: list[object] = [*params, lower]
        if to_sequence is not None:
            sql += " AND sequence <= ?"
            args.append(to_sequence)
        if as_of_time is not None:
            sql += " AND created_at <= ?"
            args.append(ns_of_datetime(as_of_time))
        if sequences is not None:
            # One cached statement whatever the set size (up to max_query_sequences values).
            sql += " AND sequence IN (SELECT value FROM json_each(?))"
            args.append(json.dumps(sorted({int(s) for s in sequences})))
        sql += " ORDER BY sequence"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        pages = [parse_page(r[0]) for r in conn.execute(sql, args)]
    return Loaded(key, snapshot, pages, nxt)


def commit_at(
    conn: sqlite3.Connection,
    key: AggregateKey,
    correlation_id: str,
    first: int | None,
    last: int | None,
) -> CommitRecord:
    """The commit stored at positions ``first..last`` (both ``None`` for a commit without events)."""
    if first is None or last is None:
        return CommitRecord(key, correlation_id, [], 0, 0)
    pages = [
        parse_page(r[0])
        for r in conn.execute(
            "SELECT page FROM events WHERE position BETWEEN ? AND ? ORDER BY position", (first, last)
        )
    ]
    snapshot = None
    if pages:
        row = conn.execute(
            f"SELECT snapshot FROM snapshots WHERE {_KEY} AND sequence = ?",
            (*key_params(key), pages[-1].header.sequence),
        ).fetchone()
        snapshot = parse_snapshot(row[0]) if row else None
    return CommitRecord(key, correlation_id, pages, first, last, snapshot)


def find_keyed(conn: sqlite3.Connection, table: str, column: str, key: AggregateKey, value: str) -> CommitRecord | None:
    """The commit recorded under a provenance (``provenance.reaction_key``) or fact key
    (``facts.external_id``); ``table`` and ``column`` are fixed by the callers, never user input."""
    with read_transaction(conn):
        row = conn.execute(
            f"SELECT correlation_id, first_position, last_position FROM {table} WHERE {_KEY} AND {column} = ?",
            (*key_params(key), value),
        ).fetchone()
        if row is None:
            return None
        return commit_at(conn, key, row[0], row[1], row[2])


def by_correlation(
    conn: sqlite3.Connection, correlation_id: str, domain: str | None, root: uuid.UUID | None
) -> list[tuple[AggregateKey, list[types_pb2.EventPage]]]:
    sql = "SELECT domain, root, edition, page FROM events WHERE correlation_id = ?"
    args: list[object] = [correlation_id]
    if domain is not None:
        sql += " AND domain = ?"
        args.append(domain)
    if root is not None:
        sql += " AND root = ?"
        args.append(root.bytes)
    sql += " ORDER BY position"
    books: dict[tuple[str, bytes, str], list[types_pb2.EventPage]] = {}
    for d, r, e, page in conn.execute(sql, args):
        books.setdefault((d, r, e), []).append(parse_page(page))
    return [(key_of(*k), pages) for k, pages in books.items()]


def aggregate_roots(conn: sqlite3.Connection) -> list[AggregateKey]:
    rows = conn.execute(
        "SELECT domain, root, edition, MIN(position) AS first FROM events "
        "GROUP BY domain, root, edition ORDER BY domain, first"
    )
    return [key_of(d, r, e) for d, r, e, _ in rows]


def domains(conn: sqlite3.Connection) -> list[DomainInfo]:
    rows = conn.execute(
        "SELECT domain, COUNT(*), SUM(n), MAX(head) FROM ("
        "  SELECT domain, COUNT(*) AS n, MAX(position) AS head FROM events GROUP BY domain, root, edition"
        ") GROUP BY domain ORDER BY domain"
    )
    return [DomainInfo(d, aggregates, events, head) for d, aggregates, events, head in rows]


def roots(conn: sqlite3.Connection, domain: str) -> list[RootInfo]:
    rows = conn.execute(
        "SELECT root, edition, COUNT(*), MAX(sequence), MAX(created_at), MIN(position) AS first "
        "FROM events WHERE domain = ? GROUP BY root, edition ORDER BY first",
        (domain,),
    )
    return [
        RootInfo(key_of(domain, r, e), n, last, datetime_of_ns(written) if written else None)
        for r, e, n, last, written, _ in rows
    ]


# First window of a domain-filtered log read; it doubles while windows come back short.
_LOG_WINDOW = 4096


def read_log(
    conn: sqlite3.Connection,
    after_position: int,
    watermark: int,
    domains_filter: Collection[str] | None,
    correlation_id: str | None,
    limit: int,
) -> list[CommitRecord]:
    """Whole commits with ``after_position < position <= watermark``, in order, at most ``limit``.

    Rows of a commit are contiguous in position (one writer), so a commit is the run between its
    ``commit_first`` and ``commit_last`` rows. A run cut by ``after_position`` is skipped: callers
    pass commit boundaries, and half a commit must never be delivered.

    A domain filter is served by the (domain, position) index, which SQLite merges with a sort; the
    scan therefore walks position windows so a subscriber far behind sorts one window per batch,
    not its whole backlog.
    """
    if limit <= 0 or watermark <= after_position:
        return []
    sql = (
        "SELECT position, domain, root, edition, commit_first, commit_last, correlation_id, page "
        "FROM events WHERE position > ? AND position <= ?"
    )
    filters: list[object] = []
    window = watermark - after_position
    if domains_filter is not None:
        wanted = sorted(set(domains_filter))
        if not wanted:
            return []
        sql += " AND domain IN (SELECT value FROM json_each(?))"
        filters.append(json.dumps(wanted))
        window = _LOG_WINDOW
    if correlation_id is not None:
        sql += " AND correlation_id = ?"
        filters.append(correlation_id)
    sql += " ORDER BY position"
    commits: list[CommitRecord] = []
    current: CommitRecord | None = None
    lower = after_position
    with read_transaction(conn):
        while lower < watermark and len(commits) < limit:
            upper = min(watermark, lower + window)
            for position, d, r, e, first, last, corr, page in conn.execute(sql, (lower, upper, *filters)):
                if first:
                    current = CommitRecord(key_of(d, r, e), corr, [], position, position)
                if current is None:
                    continue
                current.pages.append(parse_page(page))
                current.last_position = position
                if last:
                    commits.append(current)
                    current = None
                    if len(commits) >= limit:
                        break
            lower = upper
            window *= 2
    return commits


def max_position(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()[0]


def get_checkpoint(conn: sqlite3.Connection, subscriber: str) -> int:
    row = conn.execute("SELECT position FROM checkpoints WHERE subscriber = ?", (subscriber,)).fetchone()
    return 0 if row is None else row[0]


def get_progress(conn: sqlite3.Connection, subscriber: str, key: AggregateKey) -> int | None:
    row = conn.execute(
        f"SELECT sequence FROM progress WHERE subscriber = ? AND {_KEY}", (subscriber, *key_params(key))
    ).fetchone()
    return None if row is None else row[0]


_DEAD_LETTER_COLUMNS = "id, letter, status, attempts, last_error, subscriber, created_at, updated_at"


def _dead_letter(row: tuple) -> DeadLetterRecord:
    letter_id, data, status, attempts, last_error, subscriber, created, updated = row
    letter = types_pb2.AngzarrDeadLetter()
    letter.ParseFromString(data)
    return DeadLetterRecord(
        letter_id, letter, status, attempts, last_error, subscriber, datetime_of_ns(created), datetime_of_ns(updated)
    )


def list_dead_letters(conn: sqlite3.Connection, status: str | None) -> list[DeadLetterRecord]:
    if status is None:
        rows = conn.execute(f"SELECT {_DEAD_LETTER_COLUMNS} FROM dead_letters ORDER BY id")
    else:
        rows = conn.execute(
            f"SELECT {_DEAD_LETTER_COLUMNS} FROM dead_letters WHERE status = ? ORDER BY id", (status,)
        )
    return [_dead_letter(r) for r in rows]


def get_dead_letter(conn: sqlite3.Connection, letter_id: int) -> DeadLetterRecord | None:
    row = conn.execute(f"SELECT {_DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = ?", (letter_id,)).fetchone()
    return None if row is None else _dead_letter(row)


# -- reactions and the outbox ------------------------------------------------------------------------
OUTBOX_COLUMNS = (
    "id, reactor, domain, root, edition, trigger_sequence, entry_index, kind, target_domain, reaction_id, "
    "request, traceparent, status, attempts, last_error, result"
)
REACTION_KEY = "reactor = ? AND domain = ? AND root = ? AND edition = ? AND trigger_sequence = ?"


def outbox_record(row: tuple) -> OutboxRecord:
    (entry_id, reactor, d, r, e, trigger_sequence, index, kind, target, reaction_id, request, traceparent,
     status, attempts, last_error, result) = row
    return OutboxRecord(
        entry_id, reactor, key_of(d, r, e), trigger_sequence, index,
        OutboxEntry(kind, target, reaction_id, bytes(request), traceparent),
        status, attempts, last_error, None if result is None else bytes(result),
    )


def find_reaction(
    conn: sqlite3.Connection, reactor: str, trigger: AggregateKey, trigger_sequence: int
) -> RecordedReaction | None:
    params = (reactor, *key_params(trigger), trigger_sequence)
    with read_transaction(conn):
        row = conn.execute(
            f"SELECT correlation_id, first_position, last_position FROM reactions WHERE {REACTION_KEY}", params
        ).fetchone()
        if row is None:
            return None
        entries = [
            outbox_record(r)
            for r in conn.execute(f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE {REACTION_KEY} ORDER BY entry_index",
                                  params)
        ]
        commit = None
        if row[1] is not None:
            head = conn.execute("SELECT domain, root, edition FROM events WHERE position = ?", (row[1],)).fetchone()
            commit = commit_at(conn, key_of(*head), row[0], row[1], row[2])
    return RecordedReaction(False, entries, commit)


def pending_outbox(conn: sqlite3.Connection, reactor: str | None) -> int:
    if reactor is None:
        return conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
    return conn.execute(
        "SELECT COUNT(*) FROM outbox WHERE reactor = ? AND status = 'pending'", (reactor,)
    ).fetchone()[0]
