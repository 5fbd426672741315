"""The request builders of angzarr_client.testing."""

from __future__ import annotations

import uuid

import pytest

from angzarr_client import InvalidArgumentError, root_of, unpack
from angzarr_client.handlers import CompensationContext
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.testing import (
    build_command_book,
    build_contextual_command,
    build_event_book,
    build_rejection,
    uuid_for,
)
from poker_contracts import player_pb2 as pb
from poker_contracts import table_pb2


def test_build_event_book_numbers_pages_and_stamps_created_at():
    book = build_event_book(
        [pb.PlayerRegistered(), pb.FundsDeposited()],
        domain="player",
        start_sequence=4,
        root=uuid_for("p"),
        correlation_id="c",
    )
    assert [p.header.sequence for p in book.pages] == [4, 5]
    assert all(p.HasField("created_at") for p in book.pages)
    assert (
        book.cover.domain == "player" and root_of(book) == uuid_for("p") and book.cover.correlation_id == "c"
    )
    assert not book.HasField("snapshot")


def test_build_event_book_accepts_pages_and_snapshot():
    page = types_pb2.EventPage()
    page.event.Pack(pb.PlayerRegistered(display_name="x"))
    book = build_event_book([page], snapshot=(3, pb.PlayerState(display_name="s")), start_sequence=4)
    assert book.cover.domain == "test"
    assert book.pages[0].header.sequence == 4
    assert book.snapshot.sequence == 3
    assert unpack(book.snapshot.state, pb.PlayerState).display_name == "s"
    with pytest.raises(InvalidArgumentError):
        build_event_book(["not a message"])
    with pytest.raises(InvalidArgumentError):
        build_event_book([], snapshot=(1, "state"))


def test_build_command_book_defaults():
    book = build_command_book(pb.DepositFunds(), domain="player")
    assert len(book.pages) == 1 and book.pages[0].header.sequence == 0
    assert book.pages[0].merge_strategy == types_pb2.MERGE_COMMUTATIVE
    assert book.pages[0].command.type_url == "type.googleapis.com/examples.DepositFunds"
    assert uuid.UUID(book.cover.correlation_id) and root_of(book) is not None
    strict = build_command_book(
        pb.DepositFunds(),
        domain="player",
        sequence=7,
        correlation_id="",
        merge_strategy=types_pb2.MERGE_STRICT,
        root=uuid_for("r"),
    )
    assert strict.pages[0].header.sequence == 7 and strict.cover.correlation_id == ""
    assert strict.pages[0].merge_strategy == types_pb2.MERGE_STRICT and root_of(strict) == uuid_for("r")


def test_build_contextual_command_with_prior_messages_shares_the_cover():
    request = build_contextual_command(pb.DepositFunds(), [pb.PlayerRegistered()], domain="player")
    assert request.events.cover.domain == request.command.cover.domain == "player"
    assert root_of(request.events) == root_of(request.command)
    assert request.command.pages[0].header.sequence == 1
    history = build_event_book([pb.PlayerRegistered()] * 3, domain="player", root=uuid_for("a"))
    request = build_contextual_command(pb.DepositFunds(), history, domain="player")
    assert root_of(request.command) == uuid_for("a") and request.command.pages[0].header.sequence == 3
    bare = build_contextual_command(build_command_book(pb.DepositFunds(), domain="player"))
    assert not bare.HasField("events")
    with pytest.raises(InvalidArgumentError):
        build_contextual_command(build_command_book(pb.DepositFunds(), domain="player"), domain="x")


def test_build_rejection_has_the_coordinator_shape():
    join = build_command_book(table_pb2.JoinTable(), domain="table", correlation_id="c")
    join.pages[0].header.angzarr_deferred.source.CopyFrom(types_pb2.Cover(domain="player"))
    join.pages[0].header.angzarr_deferred.source_seq = 2
    book = build_rejection(join, "FAILED_PRECONDITION: full", reactor="pm:hand-flow", reaction_id="r1")
    assert book.cover.domain == "player" and len(book.pages) == 1
    page = book.pages[0]
    assert page.header.angzarr_deferred.source_seq == 2
    notice = unpack(page.command, types_pb2.Notification)
    assert dict(notice.metadata) == {"reactor": "pm:hand-flow", "reaction_id": "r1", "target_domain": "table"}
    ctx = CompensationContext.from_notification(notice)
    assert ctx.issuer_type == "process_manager" and ctx.issuer_name == "hand-flow" and ctx.reaction_id == "r1"
    assert ctx.rejected_command == join
