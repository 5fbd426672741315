"""Event store interface and backends.

The interface and its value types live in ``store.base`` (re-exported here); backends are
``store.sqlite.SqliteEventStore`` (standalone, tests) and ``store.postgres.PostgresEventStore``
(distributed). ``store_for`` / ``open_store`` pick one by target. Migrations per backend are in
``store/migrations/<backend>/``.
"""

from __future__ import annotations

import os
import urllib.parse

from angzarr_coordinator.store.base import (
    DEAD_LETTER_STATUSES,
    MAIN_EDITION,
    MAX_SEQUENCE,
    OUTBOX_STATUSES,
    AggregateKey,
    CommitRecord,
    DeadLetterNotFound,
    DeadLetterRecord,
    DomainInfo,
    DuplicateCommit,
    EventStore,
    Loaded,
    NewCommit,
    NewReaction,
    OutboxEntry,
    OutboxEntryNotFound,
    OutboxRecord,
    Progress,
    RecordedReaction,
    RootInfo,
    SchemaError,
    SequenceConflict,
    StoreError,
    StoreLocked,
    StoreUnavailable,
)

POSTGRES_SCHEMES = ("postgres", "postgresql")


def store_for(target: str | os.PathLike[str], **options: object) -> EventStore:
    """The (unopened) event store for ``target``: a ``postgres://`` or ``postgresql://`` URL gives the
    PostgreSQL store, anything else is a SQLite file path. ``options`` go to the backend's constructor.

    Raises ``ValueError`` for a URL of another scheme, or options the backend refuses.
    """
    text = os.fspath(target)
    if "://" in text:
        scheme = urllib.parse.urlsplit(text).scheme.lower()
        if scheme not in POSTGRES_SCHEMES:
            raise ValueError(
                f"unsupported event store URL scheme {scheme!r}: use postgres:// or postgresql://, or a file path"
            )
        from angzarr_coordinator.store.postgres import PostgresEventStore

        return PostgresEventStore(text, **options)  # type: ignore[arg-type]
    from angzarr_coordinator.store.sqlite import SqliteEventStore

    return SqliteEventStore(text, **options)  # type: ignore[arg-type]


async def open_store(target: str | os.PathLike[str], **options: object) -> EventStore:
    """``store_for(target)``, opened (connected and migrated). Raises what ``store_for`` and the
    backend's ``open`` raise (``StoreUnavailable``, ``StoreLocked``, ``SchemaError``)."""
    store = store_for(target, **options)
    await store.open()
    return store


__all__ = [
    "DEAD_LETTER_STATUSES",
    "MAIN_EDITION",
    "MAX_SEQUENCE",
    "OUTBOX_STATUSES",
    "AggregateKey",
    "CommitRecord",
    "DeadLetterNotFound",
    "DeadLetterRecord",
    "DomainInfo",
    "DuplicateCommit",
    "EventStore",
    "Loaded",
    "NewCommit",
    "NewReaction",
    "OutboxEntry",
    "OutboxEntryNotFound",
    "OutboxRecord",
    "Progress",
    "RecordedReaction",
    "RootInfo",
    "SchemaError",
    "SequenceConflict",
    "StoreError",
    "StoreLocked",
    "StoreUnavailable",
    "open_store",
    "store_for",
]
