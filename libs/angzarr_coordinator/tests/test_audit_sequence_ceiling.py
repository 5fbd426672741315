"""Issue 3 "Done when", bad input: absurd sequences get OUT_OF_RANGE with a clear message, persist
nothing, and the process stays up (spec/coordinator.md §3.4 "sequence beyond 2³²−1").

An aggregate cannot be filled to 2³²−1 events in a test, so its history is moved there: one event is
stored through the coordinator, then its row (and the page bytes, whose header holds the sequence) is
renumbered in the SQLite file while no coordinator has it open. Everything else goes over gRPC.
"""

from __future__ import annotations

import sqlite3
import uuid

import grpc
import pytest
from coord_support import CoordinatorHarness, aggregate_query, bank_topology, command, cover, struct_any

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_coordinator.store import MAX_SEQUENCE
from angzarr_coordinator.topology import Limits

# The last storable sequence is 2³²−2: next_sequence (a uint32 in every EventBook) must stay representable.
LAST = MAX_SEQUENCE - 1
PATIENT = Limits(handler_timeout=10.0)  # a loaded machine must not turn these checks into deadline errors
NEAR_THE_END = LAST - 2  # the stored event's sequence; two more fit


def _renumber(db, root: uuid.UUID, sequence: int) -> None:
    with sqlite3.connect(db) as conn:
        (page_bytes,) = conn.execute("SELECT page FROM events WHERE root = ?", (root.bytes,)).fetchone()
        page = types_pb2.EventPage.FromString(page_bytes)
        page.header.sequence = sequence
        conn.execute(
            "UPDATE events SET sequence = ?, page = ? WHERE root = ?", (sequence, page.SerializeToString(), root.bytes)
        )
    conn.close()


def _fact(root: uuid.UUID, external_id: str, pages: int) -> types_pb2.EventRequest:
    book = types_pb2.EventBook(cover=cover("bank", root))
    for i in range(pages):
        page = book.pages.add()
        page.event.CopyFrom(struct_any(event="deposited", amount=1, balance=1))
        if i == 0:
            page.header.external_deferred.external_id = external_id
    return types_pb2.EventRequest(events=book)


@pytest.fixture
def nearly_full(tmp_path, bank_service):
    """A coordinator whose ``bank`` aggregate's only event has sequence 2³²−4."""
    db, topology, root = tmp_path / "events.db", bank_topology(str(bank_service.socket)), uuid.uuid4()
    first = CoordinatorHarness(db, topology, tmp_path / "a.sock", limits=PATIENT)
    try:
        first.commands.HandleCommand(command("deposit", root=root, amount=1))
    finally:
        first.close()
    _renumber(db, root, NEAR_THE_END)
    harness = CoordinatorHarness(db, topology, tmp_path / "b.sock", limits=PATIENT)
    yield harness, root
    harness.close()


def _expect_out_of_range(harness, call, request) -> str:
    before = harness.event_count()
    with pytest.raises(grpc.RpcError) as info:
        call(request)
    assert info.value.code() == grpc.StatusCode.OUT_OF_RANGE, info.value.details()
    assert harness.event_count() == before
    return info.value.details()


def test_commands_and_facts_past_the_last_sequence_are_out_of_range_and_store_nothing(nearly_full):
    harness, root = nearly_full
    book = harness.queries.GetEventBook(aggregate_query("bank", root))
    assert [p.header.sequence for p in book.pages] == [NEAR_THE_END]
    assert book.next_sequence == NEAR_THE_END + 1

    # Three new events would end at 2³²−1: refused, with a message that says why.
    message = _expect_out_of_range(harness, harness.commands.HandleCommand, command("deposit", root=root, events=3))
    assert message.startswith(f"sequence {MAX_SEQUENCE} would exceed the maximum of {LAST}")
    assert message.endswith("the aggregate is full")
    _expect_out_of_range(harness, harness.commands.HandleEvent, _fact(root, "too-many", 3))
    # The refused fact's external id was not recorded: sent again with pages that fit, it is applied.
    fits = harness.commands.HandleEvent(_fact(root, "too-many", 2))
    assert not fits.already_processed
    assert [p.header.sequence for p in fits.events.pages] == [LAST - 1, LAST]

    # The coordinator stays up and serves everything else.
    other = harness.commands.HandleCommand(command("deposit", root=uuid.uuid4(), amount=1))
    assert [p.header.sequence for p in other.events.pages] == [0]


def test_the_last_sequence_is_usable_and_then_the_aggregate_is_full(nearly_full):
    harness, root = nearly_full
    last = harness.commands.HandleCommand(command("deposit", root=root, events=2))
    assert [p.header.sequence for p in last.events.pages] == [LAST - 1, LAST]
    assert last.events.next_sequence == MAX_SEQUENCE

    _expect_out_of_range(harness, harness.commands.HandleCommand, command("deposit", root=root))
    _expect_out_of_range(harness, harness.commands.HandleEvent, _fact(root, "one-more", 1))
    book = harness.queries.GetEventBook(aggregate_query("bank", root))
    assert [p.header.sequence for p in book.pages] == [NEAR_THE_END, LAST - 1, LAST]
    assert book.next_sequence == MAX_SEQUENCE
    # Speculation at the ceiling says the same and stores nothing.
    speculative = command_handler_pb2.SpeculateCommandHandlerRequest(command=command("deposit", root=root).command)
    _expect_out_of_range(harness, harness.commands.HandleSyncSpeculative, speculative)
