"""Bad input anywhere on the client side raises ``InvalidArgumentError`` in the call that got it (R3),
never a bare Python, gRPC or protobuf exception."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from angzarr_client import NoRetry, books, ids, timestamps, typeurl
from angzarr_client.builder import CommandBuilder, QueryBuilder
from angzarr_client.client import (
    QueryClient,
    SpeculateAggregateRequest,
    TransportMode,
    parse_endpoint,
    resolve_ch_endpoint,
)
from angzarr_client.errors import InvalidArgumentError
from angzarr_client.proto.angzarr import types_pb2

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.lists(st.integers(min_value=-3, max_value=3), max_size=3),
    st.just(object()),
    st.just(types_pb2.Cover()),
)


def _accepts_or_invalid(call, *args):
    try:
        call(*args)
    except InvalidArgumentError:
        pass


COMMAND_METHODS = [
    "with_sequence",
    "with_merge_strategy",
    "with_correlation_id",
    "with_root",
    "with_edition",
    "with_type_url",
    "with_payload",
    "with_command",
]
QUERY_METHODS = [
    "range",
    "as_of_sequence",
    "as_of_time",
    "by_correlation_id",
    "edition",
    "with_root",
    "sequences",
]


@settings(max_examples=300)
@given(st.sampled_from(COMMAND_METHODS), ANYTHING)
def test_command_builder_methods(method, value):
    builder = CommandBuilder(None, "player", uuid.uuid4())
    _accepts_or_invalid(getattr(builder, method), value)
    _accepts_or_invalid(builder.build)


@settings(max_examples=300)
@given(st.sampled_from(QUERY_METHODS), ANYTHING)
def test_query_builder_methods(method, value):
    builder = QueryBuilder(None, "player", uuid.uuid4())
    _accepts_or_invalid(getattr(builder, method), value)
    builder.build()  # a rejected call leaves a buildable builder


@settings(max_examples=300)
@given(ANYTHING, ANYTHING)
def test_two_argument_entry_points(a, b):
    for call in (
        CommandBuilder(None, "d").with_command,
        QueryBuilder(None, "d").range_to,
        typeurl.type_matches,
        books.new_cover,
        ids.compute_root,
        CommandBuilder,
        QueryBuilder,
        books.pack_event,
    ):
        _accepts_or_invalid(call, a, b)


@settings(max_examples=300)
@given(ANYTHING)
def test_one_argument_entry_points(value):
    for call in (
        ids.to_uuid,
        ids.uuid_to_proto,
        ids.proto_to_uuid,
        ids.correlation_root,
        timestamps.parse_timestamp,
        timestamps.to_timestamp,
        typeurl.full_name,
        typeurl.type_url_for,
        typeurl.pack,
        books.next_sequence,
        books.cover_of,
        books.pack_events,
        parse_endpoint,
        resolve_ch_endpoint,
        TransportMode.parse,
        QueryClient,
        SpeculateAggregateRequest,
    ):
        _accepts_or_invalid(call, value)


@settings(max_examples=100)
@given(ANYTHING)
def test_client_call_arguments(value):
    client = QueryClient("127.0.0.1:1", retry=NoRetry())  # never reached: every value is rejected locally
    for call in (client.get_event_book, client.get_events, client.iter_events, client.subscribe):
        if call == client.subscribe and isinstance(value, str) and value:
            continue
        with pytest.raises(InvalidArgumentError):
            call(value)
