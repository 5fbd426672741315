"""Command and query builders (contract items 27-36)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from google.protobuf import timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

from angzarr_client.builder import CommandBuilder, QueryBuilder
from angzarr_client.errors import InvalidArgumentError, InvalidTimestampError
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import unpack
from poker_contracts import player_pb2, table_pb2

MSG = table_pb2.CreateTable(table_name="main", small_blind=5, big_blind=10)


def _cmd(root=None):
    return CommandBuilder(None, "table", root)


# -- item 27 ----------------------------------------------------------------------------------


def test_with_command_builds_a_one_page_book():
    root = uuid.uuid4()
    book = _cmd(root).with_command(MSG).build()
    assert book.cover.domain == "table"
    assert uuid.UUID(bytes=book.cover.root.value) == root
    assert len(book.pages) == 1
    page = book.pages[0]
    assert page.command.type_url == "type.googleapis.com/examples.CreateTable"
    assert page.command.value == MSG.SerializeToString()
    assert unpack(page.command, table_pb2.CreateTable) == MSG
    assert not book.cover.HasField("edition")


# -- item 28 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "CreateTable",
        "examples.CreateTable",
        "type.googleapis.com/examples.CreateTable",
        "other.prefix/examples.CreateTable",
    ],
)
def test_named_command_matching_the_message(name):
    page = _cmd().with_command(name, MSG).build().pages[0]
    assert page.command.type_url == "type.googleapis.com/examples.CreateTable"
    assert page.command.value == MSG.SerializeToString()


@pytest.mark.parametrize("name", ["Other", "createtable", "Table", "", "xamples.CreateTable"])
def test_named_command_not_matching_raises(name):
    with pytest.raises(InvalidArgumentError):
        _cmd().with_command(name, MSG)


def test_bytes_need_a_full_name_or_url():
    with pytest.raises(InvalidArgumentError, match="full name"):
        _cmd().with_command("CreateTable", b"\x0a\x01x")
    page = _cmd().with_command("examples.CreateTable", b"\x0a\x01x").build().pages[0]
    assert page.command.type_url == "type.googleapis.com/examples.CreateTable"
    assert page.command.value == b"\x0a\x01x"
    page = _cmd().with_command("custom.host/examples.CreateTable", bytearray(b"")).build().pages[0]
    assert page.command.type_url == "custom.host/examples.CreateTable"


@pytest.mark.parametrize("args", [(), ("a", MSG, 3), ("x",), (42,), ("examples.A", 3), (3, MSG)])
def test_other_with_command_shapes_raise(args):
    with pytest.raises(InvalidArgumentError):
        _cmd().with_command(*args)


# -- item 29 ----------------------------------------------------------------------------------


def test_generated_correlation_id_is_a_uuid_and_stable():
    builder = _cmd().with_command(MSG)
    first, second = builder.build(), builder.build()
    cid = first.cover.correlation_id
    assert uuid.UUID(cid)
    assert second.cover.correlation_id == cid == builder.correlation_id
    assert builder.copy().build().cover.correlation_id == cid
    assert _cmd().correlation_id != cid


def test_explicit_correlation_id_is_kept():
    assert _cmd().with_correlation_id("game-7").with_command(MSG).build().cover.correlation_id == "game-7"
    with pytest.raises(InvalidArgumentError):
        _cmd().with_correlation_id("")


# -- item 30 ----------------------------------------------------------------------------------


def test_sequence_and_merge_strategy_defaults():
    page = _cmd().with_command(MSG).build().pages[0]
    assert page.header.WhichOneof("sequence_type") == "sequence"
    assert page.header.sequence == 0
    assert page.merge_strategy == types_pb2.MERGE_COMMUTATIVE


def test_sequence_and_merge_strategy_setters():
    page = (
        _cmd().with_command(MSG).with_sequence(7).with_merge_strategy(types_pb2.MERGE_STRICT).build().pages[0]
    )
    assert page.header.sequence == 7 and page.merge_strategy == types_pb2.MERGE_STRICT
    assert _cmd().with_sequence(2**32 - 1).with_command(MSG).build().pages[0].header.sequence == 2**32 - 1


@pytest.mark.parametrize("bad", [-1, 2**32, 1.0, "1", True, None])
def test_bad_sequences_raise(bad):
    with pytest.raises(InvalidArgumentError):
        _cmd().with_sequence(bad)


@pytest.mark.parametrize("bad", [9, -1, "MERGE_STRICT", None, True])
def test_bad_merge_strategies_raise(bad):
    with pytest.raises(InvalidArgumentError):
        _cmd().with_merge_strategy(bad)


# -- item 31 ----------------------------------------------------------------------------------


def test_build_names_what_is_missing():
    with pytest.raises(InvalidArgumentError, match="command type URL not set") as info:
        _cmd().build()
    assert info.value.is_invalid_argument() and info.value.code is None and info.value.status() is None
    with pytest.raises(InvalidArgumentError, match="command payload not set"):
        _cmd().with_type_url("type.googleapis.com/examples.CreateTable").build()
    with pytest.raises(InvalidArgumentError, match="command type URL not set"):
        _cmd().with_payload(b"x").build()


def test_empty_payload_is_valid():
    book = _cmd().with_type_url("type.googleapis.com/examples.StartHand").with_payload(b"").build()
    assert book.pages[0].command.value == b""
    assert book.pages[0].HasField("command")


def test_type_url_and_payload_halves_replace_each_other():
    builder = _cmd().with_command(MSG).with_payload(b"\x08\x01").with_type_url("t/examples.X")
    page = builder.build().pages[0]
    assert (page.command.type_url, page.command.value) == ("t/examples.X", b"\x08\x01")
    assert len(builder.build().pages) == 1
    for bad in ("", "nothing/", 3):
        with pytest.raises(InvalidArgumentError):
            _cmd().with_type_url(bad)
    with pytest.raises(InvalidArgumentError):
        _cmd().with_payload("text")


# -- item 32 ----------------------------------------------------------------------------------


def test_missing_root_becomes_a_fresh_uuid4():
    a, b = _cmd(), _cmd()
    assert a.root != b.root and a.root.version == 4


def test_copy_is_independent():
    r2 = uuid.uuid4()
    original = _cmd().with_command(MSG)
    before = original.build()
    changed = original.copy().with_root(r2).with_sequence(3).with_command(player_pb2.RegisterPlayer())
    assert original.build() == before
    assert uuid.UUID(bytes=changed.build().cover.root.value) == r2
    assert changed.build().pages[0].header.sequence == 3


def test_build_does_not_change_builder_and_repeats_equal():
    builder = _cmd().with_command(MSG).with_edition("what-if")
    first = builder.build()
    first.cover.domain = "mutated"
    assert builder.build().cover.domain == "table"
    assert builder.build() == builder.build()
    assert builder.build().cover.edition.name == "what-if"


def test_builder_inputs_are_validated():
    for bad in ("", None, 3):
        with pytest.raises(InvalidArgumentError):
            CommandBuilder(None, bad)
        with pytest.raises(InvalidArgumentError):
            QueryBuilder(None, bad)
    with pytest.raises(InvalidArgumentError):
        CommandBuilder(None, "table", "not-a-uuid")
    with pytest.raises(InvalidArgumentError):
        _cmd().with_root(b"short")
    with pytest.raises(InvalidArgumentError):
        _cmd().with_edition("")
    with pytest.raises(InvalidArgumentError, match="no client"):
        _cmd().with_command(MSG).execute()
    assert _cmd(str(uuid.UUID(int=5))).root == uuid.UUID(int=5)


def test_with_command_copies_the_message():
    msg = table_pb2.CreateTable(table_name="a")
    builder = _cmd().with_command(msg)
    msg.table_name = "b"
    assert unpack(builder.build().pages[0].command, table_pb2.CreateTable).table_name == "a"


# -- items 33-36 ------------------------------------------------------------------------------


def _q(root=None):
    return QueryBuilder(None, "player", root if root is not None else uuid.uuid4())


def test_no_selection_is_full_history():
    query = _q().build()
    assert query.WhichOneof("selection") is None
    assert query.cover.domain == "player" and query.cover.HasField("root")


def test_by_correlation_id_has_no_root():
    query = QueryBuilder(None, "player").by_correlation_id("w").build()
    assert query.cover.correlation_id == "w" and not query.cover.HasField("root")
    assert not _q().by_correlation_id("w").build().cover.HasField("root")
    with pytest.raises(InvalidArgumentError):
        _q().by_correlation_id("")


def test_ranges():
    open_ended = _q().range(10).build().range
    assert open_ended.lower == 10 and not open_ended.HasField("upper")
    closed = _q().range_to(5, 15).build().range
    assert (closed.lower, closed.upper) == (5, 15)
    single = _q().range_to(5, 5).build().range
    assert (single.lower, single.upper) == (5, 5)
    with pytest.raises(InvalidArgumentError):
        _q().range_to(5, 4)
    with pytest.raises(InvalidArgumentError):
        _q().range(-1)


def test_sequences_and_as_of_sequence():
    assert list(_q().sequences(1, 3, 5).build().sequences.values) == [1, 3, 5]
    assert list(_q().sequences([2, 4]).build().sequences.values) == [2, 4]
    with pytest.raises(InvalidArgumentError):
        _q().sequences()
    with pytest.raises(InvalidArgumentError):
        _q().sequences([])
    with pytest.raises(InvalidArgumentError):
        _q().sequences(1, -2)
    assert _q().as_of_sequence(5).build().temporal.as_of_sequence == 5
    assert _q().as_of_sequence(0).build().temporal.WhichOneof("point_in_time") == "as_of_sequence"


def test_as_of_time_accepts_text_datetime_and_timestamp():
    expected = 1704067200
    assert _q().as_of_time("2024-01-01T00:00:00Z").build().temporal.as_of_time.seconds == expected
    aware = dt.datetime(2024, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert _q().as_of_time(aware).build().temporal.as_of_time.seconds == expected
    stamp = timestamp_pb2.Timestamp(seconds=expected)
    assert _q().as_of_time(stamp).build().temporal.as_of_time.seconds == expected


@pytest.mark.parametrize(
    "bad", ["yesterday", "2024-01-01", "2024-01-01T00:00:00", dt.datetime(2024, 1, 1), 3]
)
def test_bad_as_of_time_raises_in_that_call(bad):
    builder = _q()
    with pytest.raises(InvalidTimestampError):
        builder.as_of_time(bad)
    assert builder.build().WhichOneof("selection") is None  # the failed call changed nothing


SELECTIONS = {
    "range": (lambda b: b.range(3), "range"),
    "range_to": (lambda b: b.range_to(1, 2), "range"),
    "sequences": (lambda b: b.sequences(4), "sequences"),
    "as_of_sequence": (lambda b: b.as_of_sequence(9), "temporal"),
    "as_of_time": (lambda b: b.as_of_time("2024-01-01T00:00:00Z"), "temporal"),
}


@given(st.lists(st.sampled_from(sorted(SELECTIONS)), min_size=1, max_size=5))
def test_last_selection_wins(order):
    builder = _q()
    for name in order:
        SELECTIONS[name][0](builder)
    assert builder.build().WhichOneof("selection") == SELECTIONS[order[-1]][1]
    expected = SELECTIONS[order[-1]][0](_q()).build()
    assert getattr(builder.build(), SELECTIONS[order[-1]][1]) == getattr(expected, SELECTIONS[order[-1]][1])


def test_edition_and_copy():
    builder = _q().edition("what-if")
    assert builder.build().cover.edition.name == "what-if"
    assert not _q().build().cover.HasField("edition")
    copy = builder.copy().with_edition("other").range(2)
    assert builder.build().cover.edition.name == "what-if"
    assert builder.build().WhichOneof("selection") is None
    assert copy.build().cover.edition.name == "other"
    with pytest.raises(InvalidArgumentError, match="no client"):
        _q().get_event_book()


# -- properties -------------------------------------------------------------------------------------

_DOMAINS = st.from_regex(r"[a-z_][a-z0-9_-]{0,20}", fullmatch=True)
_U32 = st.integers(min_value=0, max_value=2**32 - 1)


@given(
    _DOMAINS,
    st.uuids(),
    _U32,
    st.sampled_from(list(types_pb2.MergeStrategy.values())),
    st.text(min_size=1, max_size=30),
    st.binary(max_size=64),
)
def test_command_build_reflects_every_setting(domain, root, sequence, strategy, cid, payload):
    builder = (
        CommandBuilder(None, domain, root)
        .with_type_url("type.googleapis.com/examples.X")
        .with_payload(payload)
        .with_sequence(sequence)
        .with_merge_strategy(strategy)
        .with_correlation_id(cid)
    )
    book = builder.build()
    assert (book.cover.domain, uuid.UUID(bytes=book.cover.root.value), book.cover.correlation_id) == (
        domain,
        root,
        cid,
    )
    (page,) = book.pages
    assert (page.header.sequence, page.merge_strategy, page.command.value) == (sequence, strategy, payload)
    assert types_pb2.CommandBook.FromString(book.SerializeToString()) == book == builder.build()


@given(_U32, _U32)
def test_range_to_accepts_exactly_ordered_bounds(a, b):
    builder = _q()
    if b < a:
        with pytest.raises(InvalidArgumentError):
            builder.range_to(a, b)
        assert builder.build().WhichOneof("selection") is None
    else:
        selected = builder.range_to(a, b).build().range
        assert (selected.lower, selected.upper) == (a, b)
