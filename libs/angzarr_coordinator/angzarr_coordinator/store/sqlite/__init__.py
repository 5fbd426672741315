"""SQLite event store: the standalone and test backend (spec/coordinator.md §9.2)."""

from angzarr_coordinator.store.sqlite.store import SqliteEventStore

__all__ = ["SqliteEventStore"]
