"""UUID conversions, root derivation and timestamps (spec §3)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from angzarr_client.errors import InvalidArgumentError, InvalidTimestampError
from angzarr_client.ids import compute_root, correlation_root, proto_to_uuid, to_uuid, uuid_to_proto
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.timestamps import from_timestamp, now, parse_timestamp, to_timestamp


@given(st.uuids())
def test_to_uuid_accepts_every_form(u):
    assert to_uuid(u) == u
    assert to_uuid(str(u)) == u
    assert to_uuid(u.bytes) == u
    assert to_uuid(types_pb2.UUID(value=u.bytes)) == u
    assert proto_to_uuid(uuid_to_proto(u)) == u
    assert uuid_to_proto(str(u)).value == u.bytes


@pytest.mark.parametrize("bad", ["nope", b"short", 12, None, 1.5])
def test_to_uuid_rejects_garbage(bad):
    with pytest.raises(InvalidArgumentError):
        to_uuid(bad)


@pytest.mark.parametrize("length", [0, 15, 17])
def test_proto_to_uuid_needs_16_bytes(length):
    with pytest.raises(InvalidArgumentError, match="16 bytes"):
        proto_to_uuid(types_pb2.UUID(value=b"x" * length))


def test_compute_root_is_the_published_rule():
    assert compute_root("player", "alice") == uuid.uuid5(uuid.NAMESPACE_OID, "angzarrplayeralice")
    assert compute_root("player", "alice") != compute_root("table", "alice")


def test_correlation_root():
    u = uuid.uuid4()
    assert correlation_root(str(u)) == u
    assert correlation_root("game-7") == uuid.uuid5(uuid.NAMESPACE_URL, "angzarr:correlation:game-7")
    with pytest.raises(InvalidArgumentError):
        correlation_root("")


def test_now_is_current_utc():
    before = dt.datetime.now(dt.UTC)
    stamp = from_timestamp(now())
    after = dt.datetime.now(dt.UTC)
    assert before - dt.timedelta(seconds=1) <= stamp <= after + dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("text", "seconds", "nanos"),
    [
        ("1970-01-01T00:00:00Z", 0, 0),
        ("1970-01-01T01:00:00+01:00", 0, 0),
        ("1970-01-01T00:00:01.5z", 1, 500_000_000),
        ("2024-01-31T12:00:00.123456789-02:30", 1706711400, 123_456_789),
        ("2024-01-31 12:00:00Z", 1706702400, 0),
    ],
)
def test_parse_timestamp_rfc3339(text, seconds, nanos):
    ts = parse_timestamp(text)
    assert (ts.seconds, ts.nanos) == (seconds, nanos)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2024-01-31",
        "2024-01-31T12:00:00",
        "2024-13-01T00:00:00Z",
        "2024-01-31T25:00:00Z",
        "2024-01-31T12:00:00+0200",
        "2024W01T00:00:00Z",
        17,
    ],
)
def test_parse_timestamp_rejects(text):
    with pytest.raises(InvalidTimestampError):
        parse_timestamp(text)


@given(st.datetimes(min_value=dt.datetime(1970, 1, 1), timezones=st.just(dt.UTC)))
def test_to_timestamp_round_trips_aware_datetimes(value):
    assert from_timestamp(to_timestamp(value)) == value


def test_to_timestamp_rejects_naive():
    with pytest.raises(InvalidTimestampError, match="naive"):
        to_timestamp(dt.datetime(2024, 1, 1))
    with pytest.raises(InvalidTimestampError):
        to_timestamp("2024-01-01T00:00:00Z")
