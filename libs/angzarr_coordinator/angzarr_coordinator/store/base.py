"""The ``EventStore`` interface every storage backend implements.

One async interface, one contract test suite (``tests/contract/store``), two backends: SQLite
(standalone, tests) and PostgreSQL (distributed). The store keeps the events (the global log ordered
by ``position``), snapshots, provenance and external ids for idempotency, subscriber checkpoints and
per-aggregate progress, reaction records and the outbox, and dead letters.

Pages handed to ``append`` are already stamped by the pipeline (sequence, ``created_at``); the store
only checks that they continue the aggregate and writes them atomically.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from angzarr_client.proto.angzarr import types_pb2

MAIN_EDITION = "angzarr"
MAX_SEQUENCE = 2**32 - 1


@dataclass(frozen=True, slots=True)
class AggregateKey:
    """One event stream. Release 1 serves the main timeline only."""

    domain: str
    root: uuid.UUID
    edition: str = MAIN_EDITION


@dataclass(slots=True)
class Loaded:
    """One consistent read of an aggregate: newest usable snapshot, the pages after it, next sequence."""

    key: AggregateKey
    snapshot: types_pb2.Snapshot | None
    pages: list[types_pb2.EventPage]
    next_sequence: int


@dataclass(slots=True)
class CommitRecord:
    """The events one append wrote: one aggregate, contiguous sequences, one transaction."""

    key: AggregateKey
    correlation_id: str
    pages: list[types_pb2.EventPage]
    first_position: int
    last_position: int
    snapshot: types_pb2.Snapshot | None = None

    @property
    def first_sequence(self) -> int:
        return self.pages[0].header.sequence if self.pages else 0

    @property
    def last_sequence(self) -> int:
        return self.pages[-1].header.sequence if self.pages else 0


@dataclass(slots=True)
class Progress:
    """Last sequence of ``key`` a subscriber has handled (monotonic)."""

    subscriber: str
    key: AggregateKey
    sequence: int


OUTBOX_STATUSES = ("pending", "done", "rejected", "dead_lettered", "cancelled")
SETTLED_OUTBOX_STATUSES = OUTBOX_STATUSES[1:]


@dataclass(slots=True)
class OutboxEntry:
    """One thing a reaction sends: a command, a fact or a rejection notice (spec §4.1).

    ``request`` is the serialised message to send (``CommandBook`` or ``EventRequest``);
    ``reaction_id`` goes in ``x-angzarr-reaction``; ``traceparent`` keeps the trace context.
    """

    kind: str
    target_domain: str
    reaction_id: str
    request: bytes
    traceparent: str = ""


@dataclass(slots=True)
class NewReaction:
    """A reactor's reaction to one trigger commit, written once with its ordered outbox entries.

    Keyed (``reactor``, ``trigger``, ``trigger_sequence`` = the trigger commit's last sequence).
    ``progress`` and ``checkpoint`` (subscriber, position) are stored in the same transaction
    (both monotonic). ``lease_seconds`` > 0 creates the entries already claimed by the caller, for
    inline (CASCADE, ``Execute``) dispatch that the outbox dispatcher must not race.
    """

    reactor: str
    trigger: AggregateKey
    trigger_sequence: int
    entries: Sequence[OutboxEntry] = field(default_factory=tuple)
    progress: Sequence[Progress] = field(default_factory=tuple)
    checkpoint: tuple[str, int] | None = None
    lease_seconds: float = 0.0


@dataclass(slots=True)
class OutboxRecord:
    """A stored outbox entry with its dispatch state."""

    id: int
    reactor: str
    trigger: AggregateKey
    trigger_sequence: int
    index: int
    entry: OutboxEntry
    status: str  # one of OUTBOX_STATUSES
    attempts: int
    last_error: str
    result: bytes | None


@dataclass(slots=True)
class RecordedReaction:
    """What ``record_reaction`` / ``find_reaction`` return. ``fresh`` is False when the reaction was
    already recorded (the new result was discarded and ``entries`` are the first result's)."""

    fresh: bool
    entries: list[OutboxRecord]
    commit: CommitRecord | None = None


@dataclass(slots=True)
class NewCommit:
    """What the pipeline asks the store to write in one transaction.

    ``pages`` must be numbered ``expected_next_sequence, +1, ...``. ``provenance`` is the reaction id
    (or the ``source domain;root;edition;source_seq`` key when the caller sent none) and
    ``external_id`` the fact key; each is unique per aggregate. ``snapshot`` is stored with its own
    retention (older non-PERSIST snapshots of the aggregate are pruned when a newer one is stored).
    ``progress`` rows are written in the same transaction (monotonic). ``reaction`` (a PM's
    state commit) records the reaction and its outbox in the same transaction; its key is unique.
    """

    key: AggregateKey
    expected_next_sequence: int
    pages: list[types_pb2.EventPage]
    correlation_id: str
    provenance: str | None = None
    external_id: str | None = None
    snapshot: types_pb2.Snapshot | None = None
    progress: Sequence[Progress] = field(default_factory=tuple)
    reaction: NewReaction | None = None


class StoreError(Exception):
    """Base of store failures."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or is shutting down (maps to UNAVAILABLE)."""


class StoreLocked(StoreUnavailable):
    """Another process holds the store open for writing (SQLite: the ``<db>.lock`` file)."""


class SchemaError(StoreError):
    """The database schema cannot be used: newer than this code, or a migration file changed."""


class DeadLetterNotFound(StoreError, LookupError):
    """No dead letter has this id."""

    def __init__(self, letter_id: int) -> None:
        super().__init__(f"no dead letter with id {letter_id}")
        self.letter_id = letter_id


class OutboxEntryNotFound(StoreError, LookupError):
    """No outbox entry has this id."""

    def __init__(self, entry_id: int) -> None:
        super().__init__(f"no outbox entry with id {entry_id}")
        self.entry_id = entry_id


class SequenceConflict(StoreError):
    """The aggregate moved: its next sequence is ``actual`` (another writer committed first)."""

    def __init__(self, key: AggregateKey, expected: int, actual: int) -> None:
        super().__init__(f"{key.domain}/{key.root}: expected next sequence {expected}, store is at {actual}")
        self.key, self.expected, self.actual = key, expected, actual


class DuplicateCommit(StoreError):
    """A provenance, external-id or reaction key was already recorded; ``existing`` is the first
    result. ``kind`` is ``"provenance"``, ``"external id"`` or ``"reaction"``."""

    def __init__(self, kind: str, existing: CommitRecord) -> None:
        super().__init__(f"duplicate {kind}")
        self.kind, self.existing = kind, existing


@dataclass(slots=True)
class DomainInfo:
    domain: str
    aggregates: int
    events: int
    head_position: int


@dataclass(slots=True)
class RootInfo:
    key: AggregateKey
    events: int
    last_sequence: int
    last_write: datetime | None


DEAD_LETTER_STATUSES = ("open", "replay_requested", "replayed", "discarded")


@dataclass(slots=True)
class DeadLetterRecord:
    """A stored dead letter: the ``AngzarrDeadLetter`` plus bookkeeping (spec/coordinator.md §8)."""

    id: int
    letter: types_pb2.AngzarrDeadLetter
    status: str  # open | replay_requested | replayed | discarded
    attempts: int
    last_error: str
    subscriber: str | None
    created_at: datetime
    updated_at: datetime


class EventStore(abc.ABC):
    """Async event store. Every method may raise ``StoreUnavailable``."""

    # -- lifecycle ---------------------------------------------------------------------------------
    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and apply pending migrations (idempotent)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish queued writes and release resources (idempotent)."""

    # -- writing -----------------------------------------------------------------------------------
    @abc.abstractmethod
    async def append(self, commit: NewCommit) -> CommitRecord:
        """Write the commit atomically and durably; return it with its log positions.

        Raises ``SequenceConflict`` if the aggregate's next sequence is not
        ``commit.expected_next_sequence``; ``DuplicateCommit`` if its provenance or external id is
        already recorded for the aggregate (nothing is written in either case).
        """

    # -- reading aggregates ------------------------------------------------------------------------
    @abc.abstractmethod
    async def load(
        self,
        key: AggregateKey,
        *,
        use_snapshot: bool = True,
        from_sequence: int = 0,
        to_sequence: int | None = None,
        as_of_time: datetime | None = None,
        sequences: Collection[int] | None = None,
        limit: int | None = None,
    ) -> Loaded:
        """One consistent read. With ``use_snapshot`` the newest snapshot at or below ``to_sequence``
        seeds the result and only later pages are returned. Bounds are inclusive; ``as_of_time``
        keeps pages with ``created_at <= as_of_time``. ``next_sequence`` is always the aggregate's
        true next sequence, whatever the selection."""

    @abc.abstractmethod
    async def next_sequence(self, key: AggregateKey) -> int:
        """Last page + 1, else snapshot + 1, else 0."""

    @abc.abstractmethod
    async def find_provenance(self, key: AggregateKey, provenance: str) -> CommitRecord | None:
        """The commit recorded under this provenance key, if any."""

    @abc.abstractmethod
    async def find_external(self, key: AggregateKey, external_id: str) -> CommitRecord | None:
        """The commit recorded under this fact key, if any."""

    @abc.abstractmethod
    async def by_correlation(
        self, correlation_id: str, *, domain: str | None = None, root: uuid.UUID | None = None
    ) -> list[tuple[AggregateKey, list[types_pb2.EventPage]]]:
        """Events written under a correlation id, one entry per aggregate, by first position."""

    @abc.abstractmethod
    async def aggregate_roots(self) -> list[AggregateKey]:
        """Every aggregate exactly once, by domain then first position."""

    @abc.abstractmethod
    async def domains(self) -> list[DomainInfo]: ...

    @abc.abstractmethod
    async def roots(self, domain: str) -> list[RootInfo]: ...

    # -- the global log ----------------------------------------------------------------------------
    @abc.abstractmethod
    async def read_log(
        self,
        after_position: int,
        *,
        domains: Collection[str] | None = None,
        correlation_id: str | None = None,
        limit: int = 256,
    ) -> list[CommitRecord]:
        """Up to ``limit`` whole commits with ``after_position < position <= watermark``, in order."""

    @abc.abstractmethod
    async def watermark(self) -> int:
        """Highest position below which no event can still appear."""

    @abc.abstractmethod
    async def wait_for_commit(self, after_position: int, timeout: float) -> int:
        """Block until the watermark passes ``after_position`` or ``timeout``; return the watermark."""

    # -- subscribers ---------------------------------------------------------------------------------
    @abc.abstractmethod
    async def get_checkpoint(self, subscriber: str) -> int: ...

    @abc.abstractmethod
    async def set_checkpoint(self, subscriber: str, position: int) -> None:
        """Monotonic: a lower position than the stored one is ignored."""

    @abc.abstractmethod
    async def get_progress(self, subscriber: str, key: AggregateKey) -> int | None: ...

    @abc.abstractmethod
    async def set_progress(self, progress: Progress) -> None:
        """Monotonic, like checkpoints."""

    # -- snapshots and dead letters ------------------------------------------------------------------
    @abc.abstractmethod
    async def drop_snapshots(self, domain: str, root: uuid.UUID | None = None) -> int: ...

    @abc.abstractmethod
    async def add_dead_letter(
        self, letter: types_pb2.AngzarrDeadLetter, *, subscriber: str | None = None
    ) -> int:
        """Store a dead letter (status ``open``); return its id."""

    @abc.abstractmethod
    async def list_dead_letters(self, status: str | None = None) -> list[DeadLetterRecord]: ...

    @abc.abstractmethod
    async def get_dead_letter(self, letter_id: int) -> DeadLetterRecord | None: ...

    @abc.abstractmethod
    async def update_dead_letter(
        self, letter_id: int, *, status: str, last_error: str | None = None, attempted: bool = False
    ) -> None: ...

    # -- reactions and the outbox (spec §4.1) ------------------------------------------------------
    @abc.abstractmethod
    async def record_reaction(self, reaction: NewReaction) -> RecordedReaction:
        """Record a reaction without events (a saga's) with its outbox, progress and checkpoint.

        If the reaction key is already recorded nothing is written and the first result is
        returned with ``fresh=False``. (A PM's reaction goes in ``NewCommit.reaction`` instead.)
        """

    @abc.abstractmethod
    async def find_reaction(
        self, reactor: str, trigger: AggregateKey, trigger_sequence: int
    ) -> RecordedReaction | None:
        """The recorded reaction (``fresh=False``) with its entries and commit, if any."""

    @abc.abstractmethod
    async def claim_outbox(self, reactor: str, *, lease_seconds: float, limit: int = 16) -> list[OutboxRecord]:
        """Claim up to ``limit`` dispatchable entries of ``reactor`` for ``lease_seconds``.

        An entry is dispatchable when it is pending, its lease (or retry delay) has expired and every
        earlier entry of the same reactor and trigger aggregate has settled. A claim is exclusive
        until its lease expires. Entries come in id order, at most one per trigger aggregate.
        """

    @abc.abstractmethod
    async def settle_outbox(
        self, entry_id: int, status: str, *, result: bytes | None = None, error: str = "",
        cancel_rest: bool = False,
    ) -> None:
        """Mark an entry settled (``done``, ``rejected``, ``dead_lettered``, ``cancelled``);
        ``cancel_rest`` cancels the later pending entries of the same reaction.

        Raises ``ValueError`` for another status, ``OutboxEntryNotFound`` for an unknown id.
        """

    @abc.abstractmethod
    async def retry_outbox(self, entry_id: int, *, error: str, delay_seconds: float) -> None:
        """Count a failed attempt and keep the entry pending, not claimable for ``delay_seconds``.

        Raises ``OutboxEntryNotFound``.
        """

    @abc.abstractmethod
    async def pending_outbox(self, reactor: str | None = None) -> int:
        """Number of pending entries (of one reactor, or all): the ``angzarr.outbox.pending`` gauge."""
