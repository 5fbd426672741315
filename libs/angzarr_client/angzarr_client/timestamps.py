"""UTC timestamps as ``google.protobuf.Timestamp``: now, RFC 3339 parsing, datetime conversion."""

from __future__ import annotations

import datetime as _dt
import re

from google.protobuf import timestamp_pb2

from .errors import InvalidTimestampError

__all__ = ["now", "parse_timestamp", "to_timestamp", "from_timestamp"]

# RFC 3339 date-time: a full date, a time with optional fraction, and a mandatory zone (Z or offset).
_RFC3339 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,9}))?"
    r"(?P<zone>[Zz]|[+-]\d{2}:\d{2})$"
)


def now() -> timestamp_pb2.Timestamp:
    """The current time in UTC."""
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    return ts


def parse_timestamp(text: str) -> timestamp_pb2.Timestamp:
    """Parse an RFC 3339 timestamp with ``Z`` or a numeric offset (up to nanosecond precision).

    Raises:
        InvalidTimestampError: the text is not RFC 3339 with a zone, or names an impossible time.
    """
    if not isinstance(text, str):
        raise InvalidTimestampError(f"timestamp must be a string, got {type(text).__name__}")
    match = _RFC3339.match(text.strip())
    if match is None:
        raise InvalidTimestampError(
            f"invalid timestamp {text!r}: expected RFC 3339 such as 2024-01-31T12:00:00Z or ...+02:00"
        )
    zone = match["zone"]
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        whole = _dt.datetime.fromisoformat(f"{match['date']}T{match['time']}{zone}")
    except ValueError as exc:
        raise InvalidTimestampError(f"invalid timestamp {text!r}: {exc}") from None
    nanos = int((match["frac"] or "0").ljust(9, "0"))
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(whole)
    ts.nanos = nanos
    return ts


def to_timestamp(dt: _dt.datetime) -> timestamp_pb2.Timestamp:
    """A ``Timestamp`` for an aware datetime.

    Raises:
        InvalidTimestampError: ``dt`` is naive (no time zone) or not a datetime.
    """
    if not isinstance(dt, _dt.datetime):
        raise InvalidTimestampError(f"expected a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise InvalidTimestampError(
            f"naive datetime {dt.isoformat()} has no time zone; use an aware datetime"
        )
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(dt)
    return ts


def from_timestamp(ts: timestamp_pb2.Timestamp) -> _dt.datetime:
    """An aware UTC datetime for a ``Timestamp`` (microsecond precision)."""
    return ts.ToDatetime(tzinfo=_dt.UTC)
