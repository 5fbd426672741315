"""Checklist item 65 over gRPC: DEFAULT snapshots every 16 events and is pruned by a newer one,
TRANSIENT replaces older ones, PERSIST stays (spec/coordinator.md §7).

What is kept is seen two ways: by the handler (speculation as of a past sequence is seeded by the newest
snapshot at or below it) and in the SQLite file's ``snapshots`` table.
"""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from coord_support import CoordinatorHarness, bank_topology, command

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_coordinator.topology import Limits

DEFAULT, PERSIST, TRANSIENT = types_pb2.RETENTION_DEFAULT, types_pb2.RETENTION_PERSIST, types_pb2.RETENTION_TRANSIENT


@pytest.fixture
def coordinator(tmp_path, bank_service):
    """The bank coordinator with a patient handler timeout (a loaded machine must not fail these checks)."""
    harness = CoordinatorHarness(
        tmp_path / "events.db", bank_topology(str(bank_service.socket)), tmp_path / "c.sock",
        limits=Limits(handler_timeout=10.0),
    )
    yield harness
    harness.close()


def kept(coordinator, root: uuid.UUID) -> list[tuple[int, int]]:
    """(sequence, retention) of the snapshots stored for ``root``, oldest first."""
    conn = sqlite3.connect(f"file:{coordinator.db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT sequence, retention FROM snapshots WHERE root = ? ORDER BY sequence", (root.bytes,)
        ).fetchall()
    finally:
        conn.close()
    return [(int(s), int(r)) for s, r in rows]


def deposit(coordinator, root: uuid.UUID, sequence: int, retention: int | None = None):
    fields = {} if retention is None else {"snapshot": retention}
    return coordinator.commands.HandleCommand(command("deposit", root=root, sequence=sequence, amount=1, **fields))


def seen_as_of(coordinator, bank_service, root: uuid.UUID, as_of: int) -> tuple[int | None, list[int]]:
    """The snapshot sequence and pages the handler is given when speculating as of ``as_of``."""
    tag = uuid.uuid4().hex
    request = command_handler_pb2.SpeculateCommandHandlerRequest(
        command=command("deposit", root=root, amount=1, tag=tag).command
    )
    request.point_in_time.as_of_sequence = as_of
    coordinator.commands.HandleSyncSpeculative(request)
    (call,) = bank_service.calls(tag)
    return call["snapshot_sequence"], call["page_sequences"]


def test_transient_replaces_older_snapshots_and_persist_stays(coordinator, bank_service):
    root = uuid.uuid4()
    assert deposit(coordinator, root, 0, PERSIST).events.snapshot.sequence == 0
    assert deposit(coordinator, root, 1, TRANSIENT).events.snapshot.sequence == 1
    assert deposit(coordinator, root, 2, TRANSIENT).events.snapshot.sequence == 2
    assert kept(coordinator, root) == [(0, PERSIST), (2, TRANSIENT)]  # TRANSIENT@1 replaced
    # DEFAULT right after a stored snapshot: not stored (fewer than 16 events since).
    assert not deposit(coordinator, root, 3, DEFAULT).events.HasField("snapshot")
    assert deposit(coordinator, root, 4, PERSIST).events.snapshot.sequence == 4
    assert deposit(coordinator, root, 5, TRANSIENT).events.snapshot.sequence == 5
    assert kept(coordinator, root) == [(0, PERSIST), (4, PERSIST), (5, TRANSIENT)]  # TRANSIENT@2 pruned too

    # The handler's view agrees: as of 3 the newest snapshot still stored at or below it is PERSIST@0.
    assert seen_as_of(coordinator, bank_service, root, 3) == (0, [1, 2, 3])
    assert seen_as_of(coordinator, bank_service, root, 4) == (4, [])
    assert seen_as_of(coordinator, bank_service, root, 5) == (5, [])
    tag = uuid.uuid4().hex
    coordinator.commands.HandleCommand(command("deposit", root=root, sequence=6, tag=tag))
    (call,) = bank_service.calls(tag)
    assert (call["snapshot_sequence"], call["page_sequences"]) == (5, [])


def test_default_is_stored_every_16_events_and_pruned_by_the_newer_one(coordinator, bank_service):
    root = uuid.uuid4()
    stored_at = [
        seq for seq in range(34) if deposit(coordinator, root, seq, DEFAULT).events.HasField("snapshot")
    ]
    assert stored_at == [0, 16, 32]
    assert kept(coordinator, root) == [(32, DEFAULT)]
    assert seen_as_of(coordinator, bank_service, root, 20) == (None, list(range(21)))
    # A PERSIST snapshot is not pruned by a later DEFAULT one.
    assert deposit(coordinator, root, 34, PERSIST).events.snapshot.sequence == 34
    for seq in range(35, 51):
        deposit(coordinator, root, seq, DEFAULT)
    assert kept(coordinator, root) == [(34, PERSIST), (50, DEFAULT)]
