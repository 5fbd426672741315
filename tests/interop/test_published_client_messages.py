"""Item 75: messages built here decode with the published ``angzarr-client`` 0.3.1 to equal fields, and
messages built by the published package decode here to equal fields.

The published package runs only in its own virtual environment (``conftest.py``); the two sides
exchange serialized bytes and presence-aware field trees (``published_side.to_fields``).
"""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest
from google.protobuf import symbol_database, wrappers_pb2

from angzarr_client.books import new_cover, pack_events
from angzarr_client.builder import CommandBuilder, QueryBuilder
from angzarr_client.client import SpeculateAggregateRequest
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import pack
from poker_contracts import player_pb2, poker_types_pb2

pytestmark = pytest.mark.network

_spec = importlib.util.spec_from_file_location(
    "interop_published_side", Path(__file__).with_name("published_side.py")
)
published_side = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(published_side)

ROOT = uuid.UUID("6f1c2a7e-8d4b-4c3a-9e51-0123456789ab")
OTHER_ROOT = uuid.UUID("00000000-0000-4000-8000-000000000001")


def _our_messages() -> dict[str, object]:
    """Messages produced by this library's builders and helpers, by case name."""
    cases: dict[str, object] = {}
    cases["command, all settings"] = (
        CommandBuilder(None, "player", ROOT)
        .with_command(
            player_pb2.RegisterPlayer(
                display_name="alice", email="a@example.com", player_type=poker_types_pb2.HUMAN
            )
        )
        .with_sequence(3)
        .with_merge_strategy(types_pb2.MERGE_STRICT)
        .with_correlation_id("corr-1")
        .with_edition("what-if")
        .build()
    )
    cases["command, raw empty payload"] = (
        CommandBuilder(None, "table", ROOT).with_command("examples.StartHand", b"").build()
    )
    request = types_pb2.CommandRequest(
        sync_mode=types_pb2.SYNC_MODE_CASCADE,
        cascade_error_mode=types_pb2.CASCADE_ERROR_COMPENSATE,
        cascade_id="c-9",
    )
    request.command.CopyFrom(cases["command, all settings"])
    cases["command request"] = request
    history = pack_events(
        [player_pb2.PlayerRegistered(display_name="alice"), player_pb2.FundsDeposited()],
        cover=new_cover("player", ROOT, "corr-1"),
    )
    cases["speculative command"] = SpeculateAggregateRequest(
        command=cases["command, all settings"], events=history
    ).to_proto()
    cases["event book"] = history
    snapshot_book = types_pb2.EventBook(cover=new_cover("player", ROOT), next_sequence=12)
    snapshot_book.snapshot.sequence = 11
    snapshot_book.snapshot.state.CopyFrom(pack(player_pb2.PlayerState(display_name="alice")))
    snapshot_book.snapshot.retention = types_pb2.RETENTION_PERSIST
    cases["event book with snapshot"] = snapshot_book
    facts = pack_events([player_pb2.FundsDeposited()], cover=new_cover("player", ROOT, "f-1"))
    facts.pages[0].header.external_deferred.external_id = "payment-42"
    cases["fact request"] = types_pb2.EventRequest(
        events=facts, sync_mode=types_pb2.SYNC_MODE_SIMPLE, route_to_handler=True
    )
    notice = types_pb2.Notification(
        cover=new_cover("player", ROOT, "corr-1"),
        metadata={"reactor": "saga:table-player", "target_domain": "player"},
    )
    notice.payload.CopyFrom(
        pack(
            types_pb2.RejectionNotification(
                rejected_command=cases["command, all settings"], rejection_reason="FAILED_PRECONDITION: no"
            )
        )
    )
    cases["notification"] = notice
    for name, steps in QUERY_STEPS.items():
        builder = QueryBuilder(None, "player", ROOT if name != "by correlation id" else None)
        for step, *args in steps:
            getattr(builder, step)(*args)
        cases[f"query, {name}"] = builder.build()
    return cases


QUERY_STEPS: dict[str, list] = {
    "full history": [],
    "range": [("range", 10)],
    "range to": [("range_to", 5, 15)],
    "as of sequence": [("as_of_sequence", 5)],
    "as of time": [("as_of_time", "2024-01-31T12:00:00Z")],
    "by correlation id": [("by_correlation_id", "w")],
    "edition": [("edition", "what-if"), ("range", 2)],
}


@pytest.fixture(scope="module")
def our_cases():
    return _our_messages()


@pytest.fixture(scope="module")
def published_view(run_published, our_cases):
    request = {
        "decode": [
            {"type": m.DESCRIPTOR.full_name, "bytes": m.SerializeToString().hex()} for m in our_cases.values()
        ],
        "encode": [
            {"type": m.DESCRIPTOR.full_name, "fields": published_side.to_fields(m)}
            for m in our_cases.values()
        ],
        "build": [_published_command_job(**kw) for kw in COMMAND_JOBS]
        + [
            {
                "kind": "query",
                "domain": "player",
                "root": None if name == "by correlation id" else str(ROOT),
                "steps": steps,
            }
            for name, steps in PUBLISHED_QUERY_STEPS.items()
        ],
    }
    return run_published(request)


def test_the_published_package_is_the_one_running(published_view):
    venv = Path(__file__).resolve().parents[2] / ".tools" / "interop-venv"
    assert Path(published_view["package_file"]).resolve().is_relative_to(venv.resolve())


def test_our_messages_decode_to_equal_fields(published_view, our_cases):
    for (name, message), seen in zip(our_cases.items(), published_view["decoded"], strict=True):
        assert seen["fields"] == published_side.to_fields(message), name


def test_published_reserialization_decodes_here_unchanged(published_view, our_cases):
    for (name, message), seen in zip(our_cases.items(), published_view["decoded"], strict=True):
        again = type(message).FromString(bytes.fromhex(seen["reserialized"]))
        assert again == message, name


def test_published_encoding_of_the_same_fields_decodes_here(published_view, our_cases):
    for (name, message), encoded in zip(our_cases.items(), published_view["encoded"], strict=True):
        assert type(message).FromString(bytes.fromhex(encoded)) == message, name


# -- the other direction: books and queries built by the published builders ----------------------

STRING_URL = "type.googleapis.com/google.protobuf.StringValue"
COMMAND_JOBS = [
    {"root": ROOT, "text": "x", "correlation_id": "corr-1"},
    {
        "root": OTHER_ROOT,
        "text": "y",
        "correlation_id": "corr-2",
        "sequence": 7,
        "merge_strategy": types_pb2.MERGE_STRICT,
    },
]
# The published QueryBuilder has no sequences(); every other selection is compared.
PUBLISHED_QUERY_STEPS = dict(QUERY_STEPS)


def _published_command_job(root, text, correlation_id, **extra):
    return {
        "kind": "command",
        "domain": "player",
        "root": str(root),
        "type_url": STRING_URL,
        "text": text,
        "correlation_id": correlation_id,
        **extra,
    }


def _our_command(root, text, correlation_id, sequence=None, merge_strategy=None):
    builder = CommandBuilder(None, "player", root).with_command(wrappers_pb2.StringValue(value=text))
    if sequence is not None:
        builder.with_sequence(sequence)
    if merge_strategy is not None:
        builder.with_merge_strategy(merge_strategy)
    return builder.with_correlation_id(correlation_id).build()


def test_published_command_books_equal_ours(published_view):
    built = published_view["built"][: len(COMMAND_JOBS)]
    for job, raw in zip(COMMAND_JOBS, built, strict=True):
        theirs = types_pb2.CommandBook.FromString(bytes.fromhex(raw))
        ours = _our_command(**job)
        assert published_side.to_fields(theirs) == published_side.to_fields(ours), job


def test_published_queries_equal_ours(published_view, our_cases):
    built = published_view["built"][len(COMMAND_JOBS) :]
    for (name, _steps), raw in zip(PUBLISHED_QUERY_STEPS.items(), built, strict=True):
        theirs = types_pb2.Query.FromString(bytes.fromhex(raw))
        assert published_side.to_fields(theirs) == published_side.to_fields(our_cases[f"query, {name}"]), name


def test_field_trees_round_trip_locally(our_cases):
    """The comparison helper itself: a tree rebuilds the identical message (equal trees, equal fields)."""
    db = symbol_database.Default()
    for name, message in our_cases.items():
        rebuilt = published_side.from_fields(
            db.GetSymbol(message.DESCRIPTOR.full_name)(), published_side.to_fields(message)
        )
        assert rebuilt == message, name
