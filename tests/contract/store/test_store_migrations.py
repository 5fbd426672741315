"""The migration bookkeeping shared by the backends (store/migrations)."""

from __future__ import annotations

import pytest

from angzarr_coordinator.store.base import SchemaError
from angzarr_coordinator.store.migrations import (
    AppliedMigration,
    Migration,
    load_migrations,
    pending_migrations,
)

SHIPPED = [Migration(1, "initial", "CREATE TABLE a (x);"), Migration(2, "more", "CREATE TABLE b (y);")]


def _applied(*migrations: Migration) -> list[AppliedMigration]:
    return [AppliedMigration(m.version, m.name, m.checksum) for m in migrations]


def test_sqlite_migrations_are_numbered_from_one_without_gaps():
    shipped = load_migrations("sqlite")
    assert [m.version for m in shipped] == list(range(1, len(shipped) + 1))
    assert shipped[0].name == "initial" and "CREATE TABLE events" in shipped[0].sql


def test_pending_are_the_unapplied_ones_in_order():
    assert pending_migrations(SHIPPED, []) == SHIPPED
    assert pending_migrations(SHIPPED, _applied(SHIPPED[0])) == SHIPPED[1:]
    assert pending_migrations(SHIPPED, _applied(*SHIPPED)) == []


def test_changed_checksum_is_an_error():
    tampered = [AppliedMigration(1, "initial", "0" * 64)]
    with pytest.raises(SchemaError, match="0001_initial.*forward-only"):
        pending_migrations(SHIPPED, tampered)


def test_unknown_applied_version_means_a_newer_schema():
    newer = [*_applied(*SHIPPED), AppliedMigration(3, "future", "x")]
    with pytest.raises(SchemaError, match="version 3 .* up to 2"):
        pending_migrations(SHIPPED, newer)
