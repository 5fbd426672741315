"""Conversions between store rows and protobuf / interface values (SQLite backend)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.store.base import MAX_SEQUENCE, AggregateKey, NewCommit

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Column order of an events INSERT (see writes.INSERT_EVENT).
EventRow = tuple[str, str, bytes, int, int, int, str, str, int, bytes]


def key_params(key: AggregateKey) -> tuple[str, bytes, str]:
    """(domain, root bytes, edition): the order every aggregate-keyed statement binds them in."""
    return key.domain, key.root.bytes, key.edition


def key_of(domain: str, root: bytes, edition: str) -> AggregateKey:
    return AggregateKey(domain, uuid.UUID(bytes=bytes(root)), edition)


def ns_of_datetime(moment: datetime) -> int:
    """Nanoseconds since the epoch; a naive datetime is taken as UTC (all our times are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def datetime_of_ns(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


def type_name(page: types_pb2.EventPage) -> str:
    """The payload's full message name (after the last ``/`` of the type URL), or ``""``."""
    if not page.HasField("event"):
        return ""
    return page.event.type_url.rsplit("/", 1)[-1]


def parse_page(data: bytes) -> types_pb2.EventPage:
    page = types_pb2.EventPage()
    page.ParseFromString(data)
    return page


def parse_snapshot(data: bytes) -> types_pb2.Snapshot:
    snapshot = types_pb2.Snapshot()
    snapshot.ParseFromString(data)
    return snapshot


@dataclass(slots=True)
class PreparedCommit:
    """A ``NewCommit`` checked and serialised on the caller's thread, ready for the writer."""

    commit: NewCommit
    key: tuple[str, bytes, str]
    rows: list[EventRow]
    snapshot: types_pb2.Snapshot | None
    snapshot_sequence: int | None
    snapshot_bytes: bytes | None
    progress: list[tuple[str, str, bytes, str, int]]


def prepare_commit(commit: NewCommit) -> PreparedCommit:
    """Validate a commit's shape and serialise its rows.

    Raises ``ValueError`` if the pages are not numbered ``expected_next_sequence, +1, ...`` with
    explicit sequences, a sequence is beyond 2³²−1, or a progress row is negative. Serialising here
    keeps that CPU work off the single writer thread.
    """
    key = commit.key
    expected = commit.expected_next_sequence
    if expected < 0:
        raise ValueError(f"expected_next_sequence must be >= 0, got {expected}")
    params = key_params(key)
    domain, root, edition = params
    correlation_id = commit.correlation_id
    rows: list[EventRow] = []
    last_index = len(commit.pages) - 1
    for index, page in enumerate(commit.pages):
        want = expected + index
        if page.header.WhichOneof("sequence_type") != "sequence" or page.header.sequence != want:
            raise ValueError(f"page {index} must be stamped with sequence {want} before append")
        if want > MAX_SEQUENCE:
            raise ValueError(f"sequence {want} is beyond {MAX_SEQUENCE}")
        created = page.created_at
        rows.append((
            domain, edition, root, want, int(index == 0), int(index == last_index), correlation_id,
            type_name(page), created.seconds * 1_000_000_000 + created.nanos, page.SerializeToString(),
        ))
    snapshot = snapshot_sequence = snapshot_bytes = None
    if commit.snapshot is not None:
        # A snapshot describes the state after the commit's last page (§7).
        snapshot_sequence = expected + len(commit.pages) - 1
        if snapshot_sequence >= 0:
            snapshot = types_pb2.Snapshot()
            snapshot.CopyFrom(commit.snapshot)
            snapshot.sequence = snapshot_sequence
            snapshot_bytes = snapshot.SerializeToString()
        else:
            snapshot_sequence = None
    progress = []
    for row in commit.progress:
        if row.sequence < 0:
            raise ValueError(f"progress sequence must be >= 0, got {row.sequence}")
        progress.append((row.subscriber, *key_params(row.key), row.sequence))
    return PreparedCommit(commit, params, rows, snapshot, snapshot_sequence, snapshot_bytes, progress)
