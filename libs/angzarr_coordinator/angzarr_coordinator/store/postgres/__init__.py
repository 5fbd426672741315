"""PostgreSQL event store: the distributed backend (spec/coordinator.md §6.2, §6.7, §9.3)."""

from angzarr_coordinator.store.postgres.store import PostgresEventStore

__all__ = ["PostgresEventStore"]
